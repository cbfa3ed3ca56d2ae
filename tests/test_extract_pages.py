"""Table-driven tests of extract_page over saved pages: every *.html with its *.expected.json."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from crawler.extract import ExtractionError, extract_page

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = sorted(path for path in PAGES.glob("*.html"))


def _expected(page: Path) -> dict:
    return json.loads(page.with_name(page.stem + ".expected.json").read_text(encoding="utf-8"))


def test_every_fixture_has_expectations() -> None:
    assert len(CASES) >= 10
    for page in CASES:
        assert page.with_name(page.stem + ".expected.json").exists(), page.name


@pytest.mark.parametrize("page", CASES, ids=[path.stem for path in CASES])
def test_extract_page_fixture(page: Path) -> None:
    expected = _expected(page)
    body = page.read_bytes()
    if "error" in expected:
        with pytest.raises(ExtractionError) as raised:
            extract_page(expected["url"], body, expected.get("content_type"))
        assert str(raised.value) == expected["error"]
        return
    result = extract_page(expected["url"], body, expected.get("content_type"))
    for key in ("canonical_key", "title", "metadata", "text", "encoding", "template"):
        if key in expected:
            assert getattr(result, key) == expected[key], key
    if "attachments" in expected:
        got = [{"url": a.url, "name": a.name, "mime": a.mime} for a in result.attachments]
        assert got == expected["attachments"]
    for line in expected.get("text_lines", []):
        assert line in result.text.split("\n")
    for fragment in expected.get("text_excludes", []):
        assert fragment not in result.text


def test_page_is_a_dataclass_with_the_contract_fields() -> None:
    page = extract_page("http://x.gov.cn/a.html", "<p>一段正文内容。</p>".encode())
    names = {field.name for field in dataclasses.fields(page)}
    assert page.text == "一段正文内容。"
    assert {"url", "canonical_key", "title", "metadata", "text", "attachments", "encoding"} <= names


@pytest.mark.parametrize("body", [b"", b"   \n ", b"<html><body></body></html>", b"\x00\x01\x02binary\xff" * 50])
def test_empty_or_garbage_raises(body: bytes) -> None:
    with pytest.raises(ExtractionError, match="no document body found"):
        extract_page("http://gdii.gd.gov.cn/zwgk/tzgg1011/content/post_1.html", body)


def test_text_keeps_characters_exactly() -> None:
    html = "<div class='article-content'><p>不范 直车 买球 (一)负责 ,;:</p><p>A&amp;B ＆ 〔2021〕</p></div>"
    page = extract_page("http://gxj.gz.gov.cn/content/post_1.html", html.encode())
    assert page.text == "不范 直车 买球 (一)负责 ,;:\nA&B ＆ 〔2021〕"


def test_body_chrome_elements_removed_but_body_lines_kept() -> None:
    html = ("<div class='article-content'><p>浏览量:2113</p><p>正文第一段。</p><script>var x='脚本'</script>"
            "<div class='share'>分享到:微信</div><span class='print'>【打印】</span><p>正文第二段。</p></div>")
    page = extract_page("http://gdii.gd.gov.cn/gkmlpt/content/4/4183/post_4183912.html", html.encode())
    assert page.text == "浏览量:2113\n正文第一段。\n正文第二段。"
    assert page.canonical_key == "gdii.gd.gov.cn/post_4183912"


@pytest.mark.parametrize("label", ["信息来源", "发布日期"])
def test_an_info_line_written_as_character_references_is_read_as_written_plainly(label: str) -> None:
    """The info line ("信息来源:… 时间:…", or a 发布日期 line on a page whose metadata has no date)
    is found in the parsed text, whatever the markup: its label spelled with character references
    gives the same metadata. (Skipping the search when the raw markup lacks the label was tried
    and dropped: a tag may split the label, test_extract_htmltext.)"""
    body = (f"<html><body><div class='info'>{label}：广州市工业和信息化局　时间：2023-06-20</div>"
            "<div id='zoomcon'><p>正文第一段。</p></div></body></html>")
    referenced = body.replace(label, "".join(f"&#{ord(c)};" for c in label))
    plain = extract_page("http://gxj.gz.gov.cn/content/post_1.html", body.encode())
    spelled = extract_page("http://gxj.gz.gov.cn/content/post_1.html", referenced.encode())
    assert plain.metadata["时间"] == "2023-06-20"
    assert spelled.metadata == plain.metadata
    without = extract_page("http://gxj.gz.gov.cn/content/post_1.html",
                           body.replace(label, "说明").encode())
    assert without.metadata == {}  # no label: no info line
