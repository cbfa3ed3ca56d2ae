"""Cheap recrawls, dead-run detection and attachments: documents.raw_hash and last_fetched_at,
crawl_runs.full_sweep, pid and host, and the attachment_blobs table (one row per content hash).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:27:04.623060
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachment_blobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=128), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('text_status', sa.String(length=16), nullable=False),
    sa.Column('text_error', sa.Text(), nullable=True),
    sa.Column('first_url', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_blobs')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_attachment_blobs_content_hash'))
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('full_sweep', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_fetched_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('last_fetched_at')
        batch_op.drop_column('raw_hash')

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('host')
        batch_op.drop_column('pid')
        batch_op.drop_column('full_sweep')

    op.drop_table('attachment_blobs')
