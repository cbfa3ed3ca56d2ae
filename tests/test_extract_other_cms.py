"""Detail pages of other provinces' content systems (gov.cn's UCAP, TRS WCM, Hanweb): the body
container each names, and a disclosure table (索引号, 发布机构, 文号, 发布日期…) outside the
Guangdong templates. The pages are built to those systems' shapes (tests/fixtures/other_cms)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extract.page import extract_page
from crawler.snapshot import build_snapshot

PAGE = (Path(__file__).parent / "fixtures" / "other_cms" / "ucap_with_disclosure_table.html").read_text("utf-8")
URL = "http://127.0.0.1/zwgk/wjk/202401/t20240105_1.html"
CONTAINER = 'class="pages_content" id="UCAP-CONTENT"'


@pytest.mark.parametrize(("container", "template"), [
    (CONTAINER, "gov_cn"),
    ('class="TRS_Editor"', "trs"),
    ('class="view trs_editor_view"', "trs"),
    ('id="zoom"', "hanweb"),
    ('class="pages_content"', "gov_cn"),
])
def test_the_body_is_the_named_container(container: str, template: str) -> None:
    page = extract_page(URL, PAGE.replace(CONTAINER, container).encode("utf-8"), "text/html; charset=utf-8")
    assert page.template == template
    lines = page.text.splitlines()
    assert lines[0] == "各地级以上市人民政府,省政府各部门、各直属机构:"  # not the table, not the heading
    assert lines[-1] == "(一)推动企业上云。到2025年推动1万家企业上云。(省工业和信息化厅牵头)"
    assert "版权所有" not in page.text and "索引号" not in page.text


def test_a_disclosure_table_outside_the_guangdong_templates_is_read() -> None:
    snapshot = build_snapshot(URL, PAGE.encode("utf-8"), "text/html; charset=utf-8")
    meta = snapshot.structure["metadata"]
    assert meta["title"] == "某省人民政府办公厅关于印发某省制造业数字化转型实施方案的通知"
    assert meta["doc_number"] == "某府办〔2024〕1号"
    assert meta["issuer"] == "某省人民政府办公厅"
    assert meta["signed_on"] == "2024-01-03" and meta["published"] == "2024-01-05"
    [task] = snapshot.structure["tasks"]
    assert task["lead"] == ["省工业和信息化厅"] and task["targets"][0]["value"] == 10000


def test_a_long_block_around_an_index_number_is_no_disclosure_table() -> None:
    prose = "<p>索引号:</p><p>见附表</p>" + "<p>本通知所称编号,是指政府信息公开目录中的编号。</p>" * 60
    page = PAGE.replace('<table class="xxgk_table">', f'<div class="intro">{prose}</div><table class="x">')
    page = page.replace("索引号:</td>", "编号:</td>").replace("发布日期:</td>", "日期:</td>")
    result = extract_page(URL, page.encode("utf-8"), "text/html; charset=utf-8")
    assert "发布日期" not in result.metadata and "索引号" not in result.metadata


@pytest.mark.parametrize(("info", "published"), [
    ('<div class="info"><span>发布日期:2024-01-08</span><span>来源:省经济和信息化厅</span></div>', "2024-01-08"),
    ('<div class="info">发布时间:2024-01-08 10:21 来源:省经济和信息化厅 字号:[大 中 小]</div>', "2024-01-08T10:21:00"),
])
def test_a_date_line_without_a_source_gives_the_published_date(info: str, published: str) -> None:
    page = ("<html><head><meta charset='utf-8'><title>关于公布第一批试点名单的通知</title></head><body>"
            f"<div class='main'><h1>关于公布第一批试点名单的通知</h1>{info}<div id='zoom'><p>各市经信局:</p>"
            "<p>经研究,现将第一批试点名单公布如下。本通知自发布日期起施行。</p></div></div></body></html>")
    snapshot = build_snapshot("https://www.example.gov.cn/art/2024/1/8/art_1_2.html", page.encode("utf-8"),
                              "text/html; charset=utf-8")
    assert snapshot.structure["metadata"]["published"] == published
    assert "发布" not in snapshot.text.splitlines()[0]  # the info line is not the body
