"""The Atom feed: valid Atom 1.0, one entry per event with a stable tag: id, hostile text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from monitor.feed import ATOM_NS, atom_feed, entry_id
from tests.conftest import run_cli
from tests.test_mail_support import add, store_document

A = f"{{{ATOM_NS}}}"


def config_file(tmp_path, db_url):
    path = tmp_path / "policywatch.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def test_feed_is_valid_atom_with_stable_ids(tmp_path, db_url, sessions) -> None:
    doc = store_document(sessions, source="gdii-notices", post=1, title="关于印发工作要点的通知",
                         doc_number="粤工信〔2024〕1号")
    other = store_document(sessions, source="gz-zcjd", post=2, title="政策解读")
    e1 = add(sessions, doc, "new_document", "新文件:工作要点",
             detected_at=datetime(2024, 3, 1, 8, 0, tzinfo=UTC))
    e2 = add(sessions, doc, "wording_changed", "正文修改 <b>&amp;</b>", before="稳步推进\x0b规则",
             after="<script>alert(1)</script>积极稳妥推进", detected_at=datetime(2024, 3, 2, 8, 0, tzinfo=UTC))
    e3 = add(sessions, other, "new_document", "新文件:政策解读", detected_at=datetime(2024, 3, 3, 8, 0, tzinfo=UTC))
    config = config_file(tmp_path, db_url)

    out = tmp_path / "feed.atom"
    result = run_cli("feed", "--out", str(out), "--config", str(config))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(raw)
    assert root.tag == A + "feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(A + required) is not None
    assert root.findtext(A + "updated") == "2024-03-03T08:00:00Z"
    entries = root.findall(A + "entry")
    assert [e.findtext(A + "id") for e in entries] == [entry_id(e3), entry_id(e2), entry_id(e1)]
    assert entry_id(e1) == f"tag:policywatch,2024:event:{e1}"
    second = entries[1]
    assert second.findtext(A + "title") == "正文修改 <b>&amp;</b>"  # as text, escaped in the XML
    assert second.findtext(A + "updated") == "2024-03-02T08:00:00Z"
    assert second.find(A + "link").get("href") == "https://gdii-notices.example.gov.cn/content/post_1.html"
    content = second.find(A + "content")
    assert content.get("type") == "html"
    assert "&lt;script&gt;" in content.text and "<script>" not in content.text  # escaped HTML inside
    assert "\x0b" not in content.text  # XML 1.0 forbids it
    assert b"<script>" not in raw

    # lxml agrees it is well-formed XML; ids stay the same on the next render
    import lxml.etree

    lxml.etree.fromstring(raw)
    again = run_cli("feed", "--config", str(config)).output
    assert [e.findtext(A + "id") for e in ET.fromstring(again.encode()).findall(A + "entry")] == \
        [entry_id(e3), entry_id(e2), entry_id(e1)]


def test_feed_filters_since_source_limit(tmp_path, db_url, sessions) -> None:
    doc = store_document(sessions, source="gdii-notices", post=1, title="通知")
    other = store_document(sessions, source="gz-zcjd", post=2, title="解读")
    ids = [add(sessions, doc, "new_document", f"事件{i}", detected_at=datetime(2024, 1, i + 1, tzinfo=UTC))
           for i in range(5)]
    other_id = add(sessions, other, "new_document", "别的来源", detected_at=datetime(2024, 1, 9, tzinfo=UTC))
    config = config_file(tmp_path, db_url)

    def entry_ids(*args: str) -> list[str]:
        result = run_cli("feed", "--config", str(config), *args)
        assert result.exit_code == 0, result.output
        return [e.findtext(A + "id") for e in ET.fromstring(result.output.encode()).findall(A + "entry")]

    assert entry_ids("--source", "gz-zcjd") == [entry_id(other_id)]
    assert entry_ids("--since", "2024-01-04") == [entry_id(other_id), entry_id(ids[4]), entry_id(ids[3])]
    assert entry_ids("--limit", "2") == [entry_id(other_id), entry_id(ids[4])]  # the newest


def test_empty_feed_is_still_valid() -> None:
    root = ET.fromstring(atom_feed([]))
    assert root.tag == A + "feed" and root.findall(A + "entry") == []
    assert root.findtext(A + "updated").endswith("Z")
