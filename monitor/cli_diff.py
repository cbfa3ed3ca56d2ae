"""`policywatch diff` and `policywatch compare`: diffs between versions and between editions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from monitor.cli_common import common_options, open_db
from monitor.config import Config
from monitor.output import single_line, table, terminal_text, to_json


def _write(text: str, out: str | None, *, terminal: bool = False) -> None:
    """``text`` to the file ``out``, else to stdout; ``terminal``: plain text for people, whose
    control characters a terminal would act on are spaced out on stdout (JSON and HTML are
    passed as they are: JSON escapes them, a browser shows them)."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"written to {out}", err=True)
    else:
        click.echo(terminal_text(text) if terminal else text)


def _drafts_json(drafts: list[Any]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in drafts]


@click.command()
@click.argument("doc")
@click.option("--from", "seq_from", type=int, default=None, help="Older version (default: the one before --to).")
@click.option("--to", "seq_to", type=int, default=None, help="Newer version (default: latest).")
@click.option("--format", "fmt", type=click.Choice(["unified", "html", "json"]), default="unified",
              show_default=True)
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write to this file.")
@common_options
def diff(config: Config, doc: str, seq_from: int | None, seq_to: int | None, fmt: str,
         out: str | None) -> None:
    """Show what changed between two versions of one document.

    unified: a unified diff, one sentence per line (for scripts and mail clients);
    html: a side-by-side page with character-level highlights; json: counts and events.

    \b
    Examples:
      policywatch diff 12
      policywatch diff 12 --from 1 --to 3 --format html --out diff.html
    """
    from monitor.compare import compare_versions
    from monitor.detect import version_view
    from monitor.diff_html import render_diff_html
    from monitor.textdiff import diff_stats, unified_diff
    from storage.db import session_scope
    from storage.documents import NotFound, get_version, resolve_document, version_or_latest

    sessions = open_db(config)
    with session_scope(sessions) as session:
        document = resolve_document(session, doc)
        new = version_or_latest(session, document.id, seq_to)
        old_seq = seq_from if seq_from is not None else new.seq - 1
        if old_seq < 1:
            raise NotFound(f"document {document.id} has only one version: nothing to compare")
        old = get_version(session, document.id, old_seq)
        old_view, new_view = version_view(old), version_view(new)
        title, doc_id, url = document.title, document.id, document.url
    labels = (f"{doc_id}/v{old.seq}", f"{doc_id}/v{new.seq}")
    if fmt == "html":
        _write(render_diff_html(old_view, new_view, title=f"{title} (v{old.seq} → v{new.seq})"), out)
        return
    unified = unified_diff(old_view.normalized_text, new_view.normalized_text, *labels)
    if fmt == "unified":
        _write(unified, out, terminal=True)
        return
    payload = {"document": {"id": doc_id, "title": title, "url": url}, "from": old.seq,
               "to": new.seq, "stats": diff_stats(unified),
               "events": _drafts_json(compare_versions(old_view, new_view)), "unified": unified}
    _write(to_json(payload), out)


@click.command()
@click.argument("doc_a")
@click.argument("doc_b")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table",
              show_default=True)
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write to this file.")
@common_options
def compare(config: Config, doc_a: str, doc_b: str, fmt: str, out: str | None) -> None:
    """Compare two documents as editions of a series (e.g. the 2023 and 2024 工作要点).

    Tasks are aligned by content, so a renumbered task is not a change; the output lists tasks
    added, removed, reworded, responsibilities moved and targets changed.

    \b
    Example:
      policywatch compare 3 17 --format json
    """
    from monitor.compare import compare_editions
    from monitor.detect import version_view
    from monitor.diff_html import render_diff_html
    from storage.db import session_scope
    from storage.documents import resolve_document, version_or_latest

    sessions = open_db(config)
    with session_scope(sessions) as session:
        views = []
        for ref in (doc_a, doc_b):
            document = resolve_document(session, ref)
            version = version_or_latest(session, document.id)
            views.append((document.id, document.title, version_view(version)))
    (id_a, title_a, old), (id_b, title_b, new) = views
    if fmt == "html":
        _write(render_diff_html(old, new, title=f"{title_a} → {title_b}"), out)
        return
    drafts = compare_editions(old, new)
    if fmt == "json":
        _write(to_json({"old": {"id": id_a, "title": title_a}, "new": {"id": id_b, "title": title_b},
                        "events": _drafts_json(drafts)}), out)
        return
    click.echo(f"#{id_a} {single_line(title_a)}\n  → #{id_b} {single_line(title_b)}")
    if not drafts:
        click.echo("no differences in tasks or metadata")
        return
    _write(table(["type", "task", "summary"],
                 [[str(d.type), d.task_label or "", d.summary] for d in drafts], max_width=90), out)
