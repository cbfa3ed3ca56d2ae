"""Attachments end to end: PDF/DOCX text, files stored once per hash, revisions, failures, limits."""

from __future__ import annotations

import json

from sqlalchemy import select

from crawler.extract.keys import canonical_key
from replica.files import docx_bytes, pdf_bytes
from storage.db import session_scope
from storage.models import AttachmentBlob, Document, FetchError, Version
from tests.conftest import run_policywatch
from tests.test_crawl_support import (  # noqa: F401 - fixtures
    crawl,
    first_listed,
    path_of,
    sqlite_sessions_fixture,
    sqlite_url_fixture,
    write_config,
)

PDF_TEXT = ["广东省数字经济工作要点(附件)", "新增推动5000家规模以上工业企业数字化转型。"]


def _page_with_attachments(base: str, offsite: str) -> bytes:
    links = [("/attachment/t/plan.pdf", "实施方案.pdf"), ("/attachment/t/form.docx", "申报表.docx"),
             ("/attachment/t/files.zip", "材料.zip"), ("/attachment/t/big.pdf", "大文件.pdf"),
             ("/attachment/t/gone.pdf", "已删除.pdf"), (offsite + "/attachment/t/elsewhere.pdf", "外站.pdf")]
    anchors = "".join(f'<p><a class="nfw-cms-attachment" href="{href}" alt="{name}">点击下载</a></p>'
                      for href, name in links)
    return (f"<html><head><meta charset='utf-8'><title>关于印发测试方案的通知</title></head><body>"
            f"<h1 class='title'>关于印发测试方案的通知</h1><div class='article-content'>"
            f"<p>各地级以上市工业和信息化主管部门:</p><p>现将测试方案印发给你们,请认真贯彻执行。</p></div>"
            f"{anchors}</body></html>").encode()


def test_attachments_are_fetched_extracted_and_recorded(replica, tmp_path, sqlite_url, sqlite_sessions) -> None:
    doc = first_listed(replica, "gdii")
    base = replica.base_url("gdii")
    offsite = base.replace("127.0.0.1", "localhost")
    replica.set_response("gdii", path_of(doc["urls"][0]), body=_page_with_attachments(base, offsite))
    replica.set_response("gdii", "/attachment/t/plan.pdf", body=pdf_bytes(PDF_TEXT),
                         headers={"Content-Type": "application/pdf"})
    replica.set_response("gdii", "/attachment/t/form.docx", body=docx_bytes(["申报表", "单位名称:"]),
                         headers={"Content-Type": "application/octet-stream"})
    replica.set_response("gdii", "/attachment/t/files.zip", body=b"PK\x05\x06" + b"\0" * 18,
                         headers={"Content-Type": "application/zip"})
    replica.set_fault("gdii", "/attachment/t/big.pdf", "huge", size=3 * 1024 * 1024)
    replica.set_response("gdii", "/attachment/t/gone.pdf", status=404)
    config = write_config(tmp_path, replica, sqlite_url, sources=["gdii-notices"],
                          crawl={"attachment_max_bytes": 1024 * 1024})
    crawl(config)
    key = canonical_key(doc["urls"][0])
    with session_scope(sqlite_sessions) as s:
        document = s.scalar(select(Document).where(Document.canonical_key == key))
        assert document is not None, "a page with broken attachments is still stored"
        version = s.scalar(select(Version).where(Version.document_id == document.id))
        entries = {e["name"]: e for e in version.attachments}
        assert entries["实施方案.pdf"]["status"] == "ok" and entries["实施方案.pdf"]["text_status"] == "ok"
        assert entries["申报表.docx"]["status"] == "ok" and entries["申报表.docx"]["text_status"] == "ok"
        assert entries["材料.zip"]["text_status"] == "unsupported" and entries["材料.zip"]["size"] == 22
        assert entries["大文件.pdf"]["status"] == "too_large" and not entries["大文件.pdf"]["content_hash"]
        assert entries["已删除.pdf"]["status"] == "failed"
        assert entries["外站.pdf"]["status"] == "off_domain"
        pdf = s.scalar(select(AttachmentBlob).where(
            AttachmentBlob.content_hash == entries["实施方案.pdf"]["content_hash"]))
        assert "新增推动5000家规模以上工业企业" in pdf.text and pdf.mime == "application/pdf"
        word = s.scalar(select(AttachmentBlob).where(
            AttachmentBlob.content_hash == entries["申报表.docx"]["content_hash"]))
        assert word.text.splitlines()[0] == "申报表"
        errors = {e.url.rsplit("/", 1)[-1]: e.reason for e in s.scalars(select(FetchError))}
        assert errors["big.pdf"].startswith("attachment too_large")
        assert errors["gone.pdf"].startswith("attachment failed")
    assert not any(p.endswith("elsewhere.pdf") for _s, p, _st in replica.request_log)


def test_revised_attachment_is_an_attachment_change(replica, tmp_path, sqlite_url, sqlite_sessions) -> None:
    doc = first_listed(replica, "gdii")
    attachment = "/attachment/t/plan.pdf"
    page = _page_with_attachments(replica.base_url("gdii"), "http://localhost:1")
    replica.set_response("gdii", path_of(doc["urls"][0]), body=page)
    replica.set_response("gdii", attachment, body=pdf_bytes(PDF_TEXT), headers={"Content-Type": "application/pdf"})
    config = write_config(tmp_path, replica, sqlite_url, sources=["gdii-notices"])
    crawl(config)
    # a transient failure of the attachment is no change
    replica.set_response("gdii", attachment, status=503)
    reports = crawl(config)
    assert reports[0]["versions_new"] == 0, reports
    # the same text in a re-made file is no change either
    replica.set_response("gdii", attachment, body=pdf_bytes(PDF_TEXT) + b"\n%% re-exported\n",
                         headers={"Content-Type": "application/pdf"})
    assert crawl(config)[0]["versions_new"] == 0
    revised = [PDF_TEXT[0], PDF_TEXT[1].replace("5000", "6000")]
    replica.set_response("gdii", attachment, body=pdf_bytes(revised), headers={"Content-Type": "application/pdf"})
    reports = crawl(config)
    assert reports[0]["versions_new"] == 1, reports
    result = run_policywatch("changes", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    changed = [e for e in events if e["type"] == "attachment_changed"]
    assert len(changed) == 1 and "实施方案.pdf" in json.dumps(changed[0], ensure_ascii=False)
    with session_scope(sqlite_sessions) as s:
        texts = {b.text for b in s.scalars(select(AttachmentBlob)) if b.mime == "application/pdf"}
        assert any("6000" in (t or "") for t in texts) and any("5000" in (t or "") for t in texts)
