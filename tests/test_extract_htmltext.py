"""The lxml reading of pages: what markup does to text (comments, removed elements, templates,
deep nesting, markup after </html>, control characters), checked through extract_page and the
htmltext helpers."""

from __future__ import annotations

import pytest

from crawler.extract import ExtractionError, extract_listing, extract_page
from crawler.extract.htmltext import (
    block_lines,
    body_or_document,
    inline_text,
    parse_html,
    remove_chrome,
    text_strings,
)

URL = "http://www.example.gov.cn/zwgk/content/post_1.html"


def _page(html: str, content_type: str | None = None):
    return extract_page(URL, html.encode("utf-8"), content_type)


def test_comments_and_processing_instructions_in_the_body_are_skipped_but_not_the_text_after_them() -> None:
    page = _page("<div class='article-content'><p>正文<!-- 注释 -->内容<?php echo '中文'; ?>继续</p>"
                 "<!--[if IE]><p>旧浏览器</p><![endif]--><p>第二<?xml-stylesheet href='a'?>段</p></div>")
    assert page.text == "正文内容继续\n第二段"


def test_br_entities_and_blocks_make_lines() -> None:
    page = _page("<div class='article-content'>第一行<br>第二行<br/><br>A&amp;B&nbsp;&#x4e2d;&#25991;"
                 "<span>行内</span><div>块</div>尾</div>")
    assert page.text == "第一行\n第二行\nA&B 中文行内\n块\n尾"


def test_a_removed_element_leaves_the_strings_around_it_apart() -> None:
    # BeautifulSoup's decompose kept the strings on either side as two strings, and names and
    # titles join strings with a space: lxml's drop_tree would glue them into one.
    page = _page("<div class='zw'><p>前<a class='print'>打印</a>后</p></div>"
                 "<a href='z.pdf'>附件<span class='print'>【打印】</span>名</a>")
    assert page.text == "前后"
    assert [(a.url, a.name) for a in page.attachments] == [("http://www.example.gov.cn/zwgk/content/z.pdf", "附件 名")]


def test_control_characters_next_to_removed_elements() -> None:
    page = _page("<div class='article-content'><p>正文\x01一<span class='print'>打印</span>\x02尾巴</p>"
                 "<b>【打印】</b>\x04后</div>")
    assert page.text == "正文\x01一\x02尾巴\n\x04后"


@pytest.mark.parametrize("depth", [300, 3000])
def test_deep_nesting_in_the_body(depth: int) -> None:
    # 3000 is past libxml2's own limit for the trees it builds (2048): the page is then rebuilt
    # from the parser's events, with no limit, as BeautifulSoup saw it.
    page = _page("<div class='article-content'>" + "<span>" * depth + "<p>深层正文。</p>" + "</span>" * depth
                 + "<p>第二段。</p></div>")
    assert page.text == "深层正文。\n第二段。"


def test_deep_nesting_on_a_page_without_a_known_template() -> None:
    page = _page("<html><body>" + "<div>" * 2500 + "<p>很深的正文内容。</p>" + "</div>" * 2500
                 + "<p>后面的内容</p></body></html>")
    assert page.text == "很深的正文内容。\n后面的内容"
    assert page.template == "generic"


def test_deep_unclosed_inline_tags() -> None:
    page = _page("<div class='article-content'><p>" + "<font>文" * 3000 + "</p></div>")
    assert page.text == "文" * 3000


def test_markup_after_the_end_of_html_is_read() -> None:
    page = _page("<html><head><title>标题_某某网</title></head><body><p>前</p></body></html>"
                 "<div class='article-content'><p>在html之后的正文。</p></div><a href='a.pdf'>附件</a>")
    assert page.text == "在html之后的正文。"


def test_text_joined_by_an_ignored_tag_is_one_string() -> None:
    page = _page("<html><body><div class='info'>信息<html>来源:某某局 时间:2023-01-02</div>"
                 "<div class='x'><p>正文内容一。</p></div></body></html>")
    assert (page.metadata["来源"], page.metadata["时间"]) == ("某某局", "2023-01-02")


def test_template_contents_are_not_selected_and_not_text() -> None:
    page = _page("<html><body><template><div class='article-content'><p>模板</p></div><h1>模板标题</h1>"
                 "<a href='t.pdf'>模板附件</a></template><h1>真标题</h1><div class='zw'><p>正文。</p></div></body></html>")
    assert (page.title, page.text, page.template, page.attachments) == ("真标题", "正文。", "gd_zw", [])


def test_ruby_annotations_are_not_title_text() -> None:
    page = _page("<h1>标<ruby>题<rt>tí</rt></ruby>文字</h1><div class='zw'><p>正<ruby>文<rt>wén</rt></ruby>。</p></div>")
    assert page.title == "标 题 文字"
    assert page.text == "正文wén。"  # block text keeps every string but comments, as it always did


def test_xml_declaration_with_an_encoding() -> None:
    # lxml refuses a str that starts with such a declaration; the page is parsed as UTF-8 bytes.
    body = "<?xml version='1.0' encoding='gbk'?><html><body><div class='zw'><p>GBK正文。</p></div></body></html>"
    page = extract_page(URL, body.encode("gbk"), "text/html; charset=gbk")
    assert (page.text, page.encoding) == ("GBK正文。", "gb18030")


def test_nul_bytes_late_in_the_page() -> None:
    page = _page("<div class='article-content'>" + "<p>填充内容。</p>" * 400 + "<p>有\x00空字节</p></div>")
    assert page.text.split("\n")[-1] == "有\ufffd空字节"


@pytest.mark.parametrize("html", ["<!-- 只有注释 -->", "<!DOCTYPE html>", "<html><head><title>x</title></head></html>"])
def test_pages_without_a_body(html: str) -> None:
    with pytest.raises(ExtractionError, match="no document body found"):
        _page(html)


def test_a_page_without_body_element_is_read_whole() -> None:
    page = _page("<html><head><title>标题_某某网</title></head><frameset><frame src='a.html'><noframes>"
                 "<p>无框架的正文内容。</p></noframes></frameset></html>")
    assert page.title == "标题"
    assert "无框架的正文内容。" in page.text


def test_helpers_on_lxml_elements() -> None:
    root = parse_html("<html><body><div id='x'>一<b>二</b>三<script>脚本</script><!-- c -->四<br>五</div>"
                      "<p class='share'>分享到</p></body></html>")
    div = root.find(".//div")
    assert text_strings(div) == ["一", "二", "三", "四", "五"]
    assert inline_text(div) == "一 二 三 四 五"
    assert block_lines(div) == ["一二三脚本四", "五"]
    body = body_or_document(root)
    remove_chrome(body)
    assert block_lines(body) == ["一二三四", "五"]


def test_listing_selectors_are_css_and_skip_templates() -> None:
    html = ("<div class='list'><div class='row'><a href='/a/1.html'>甲</a></div></div>"
            "<template><div class='list'><div class='row'><a href='/a/2.html'>乙</a></div></div></template>")
    listing = extract_listing("http://x.gov.cn/a/", html.encode(), item_selector="div.list > div.row")
    assert [item.url for item in listing.items] == ["http://x.gov.cn/a/1.html"]
