"""Unit tests of crawler.extract: encoding, canonical keys, listings, the gkmlpt platform, JS literals."""

from __future__ import annotations

import json

import pytest

from crawler.extract import (
    ExtractionError,
    canonical_key,
    decode_html,
    extract_listing,
    find_category,
    gkmlpt_api_url,
    gkmlpt_detail_url,
    parse_gkmlpt_api,
    parse_gkmlpt_index,
)
from crawler.extract.jsobject import find_js_assignment

TEXT = "<p>关于做好2023年防汛防台风工作的通知。当前已进入汛期，为切实做好防汛防台风工作，现将有关事项通知如下。</p>"


@pytest.mark.parametrize(("body", "content_type", "encoding"), [
    (TEXT.encode("utf-8"), "text/html; charset=utf-8", "utf-8"),
    (TEXT.encode("gbk"), "text/html; charset=GBK", "gb18030"),
    (TEXT.encode("gbk"), "text/html; charset=gb2312", "gb18030"),
    (('<meta charset="gb2312">' + TEXT).encode("gbk"), None, "gb18030"),
    (('<meta http-equiv="Content-Type" content="text/html; charset=GBK">' + TEXT).encode("gbk"), "text/html",
     "gb18030"),
    (TEXT.encode("gbk"), None, "gb18030"),
    (TEXT.encode("utf-8"), None, "utf-8"),
    (TEXT.encode("utf-8"), "text/html; charset=ISO-8859-1", "utf-8"),
    (("<meta charset='utf-8'>" + TEXT).encode("gbk"), "text/html", "gb18030"),  # wrong meta, detection wins
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "text/html; charset=gbk", "utf-8"),
])
def test_decode_html(body: bytes, content_type: str | None, encoding: str) -> None:
    text, used = decode_html(body, content_type)
    assert used == encoding
    assert "防汛防台风" in text


def test_decode_html_never_raises_on_garbage() -> None:
    text, used = decode_html(bytes(range(256)) * 4, "text/html; charset=nonsense")
    assert isinstance(text, str) and used


@pytest.mark.parametrize(("url", "key"), [
    ("http://www.gd.gov.cn/gkmlpt/content/4/4287/post_4287029.html", "gd.gov.cn/post_4287029"),
    ("https://WWW.GD.GOV.CN/zwgk/wjk/qbwj/yfb/content/post_4287029.html#top", "gd.gov.cn/post_4287029"),
    ("http://gdii.gd.gov.cn/zwgk/tzgg1011/content/mpost_4183912.html", "gdii.gd.gov.cn/post_4183912"),
    ("http://gdii.gd.gov.cn/mpost_4183912.html", "gdii.gd.gov.cn/post_4183912"),
    ("http://127.0.0.1:8123/gkmlpt/content/4/4183/post_4183912.html", "127.0.0.1:8123/post_4183912"),
    ("http://www.gd.gov.cn:80/zwgk/content/post_1.html", "gd.gov.cn/post_1"),
    ("HTTP://Example.GOV.cn:80/a/b.html?z=1&a=2#frag", "http://example.gov.cn/a/b.html?a=2&z=1"),
    ("https://example.gov.cn:443", "https://example.gov.cn/"),
    ("http://example.gov.cn:8080/post_12.html", "http://example.gov.cn:8080/post_12.html"),
])
def test_canonical_key(url: str, key: str) -> None:
    assert canonical_key(url) == key


def test_one_post_under_several_urls_is_one_key() -> None:
    urls = ["http://gdii.gd.gov.cn/zwgk/tzgg1011/content/post_4183912.html",
            "http://gdii.gd.gov.cn/gkmlpt/content/4/4183/post_4183912.html",
            "https://gdii.gd.gov.cn/zwgk/tzgg1011/content/mpost_4183912.html"]
    assert len({canonical_key(url) for url in urls}) == 1


VIEWLIST = """<html><body><div class="viewList"><ul>
<li><span class="name"><a href="/zwgk/wjk/qbwj/yfb/content/post_4287029.html" title="广东省人民政府办公厅关于印发“数字湾区”建设三年行动方案的通知">广东省人民政府办公厅关于印发“数字湾区”…</a></span><span class="wh">粤办函〔2023〕297号</span><span class="date">2023-11-21</span></li>
<li><span class="name"><a href="content/post_4200001.html">另一份文件</a></span><span class="wh"></span><span class="date">2023/09/01</span></li>
<li><span class="name"><a href="http://www.gd.gov.cn/gkmlpt/content/4/4287/post_4287029.html">重复</a></span></li>
</ul></div><div class="page"><a href="index.html">首页</a><a href="index_2.html">2</a><a class="next" href="index_2.html">下一页</a>
<a href="http://other.gov.cn/index_3.html">3</a><a href="javascript:void(0)">尾页</a></div></body></html>"""


def test_listing_viewlist_rows() -> None:
    url = "http://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/index.html"
    listing = extract_listing(url, VIEWLIST.encode())
    assert [item.url for item in listing.items] == [
        "http://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/content/post_4287029.html",
        "http://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/content/post_4200001.html"]
    first, second = listing.items
    assert first.title == "广东省人民政府办公厅关于印发“数字湾区”建设三年行动方案的通知"
    assert (first.doc_number, first.date) == ("粤办函〔2023〕297号", "2023-11-21")
    assert (second.doc_number, second.date) == (None, "2023-09-01")
    assert listing.next_urls == ["http://www.gd.gov.cn/zwgk/wjk/qbwj/yfb/index_2.html"]


def test_listing_news_list_and_create_page_script() -> None:
    html = """<ul class="news_list"><li><a href="/zwgk/zcjd/zcjd/content/post_1.html">解读一</a><span>2023年5月6日</span></li>
    <li><a href="/zwgk/zcjd/zcjd/9999.html">解读二</a></li></ul>
    <script>createPageHTML(4, 0, "index", "html");</script>"""
    listing = extract_listing("https://www.gz.gov.cn/zwgk/zcjd/index.html", html.encode(), "text/html")
    assert [(item.title, item.date) for item in listing.items] == [("解读一", "2023-05-06"), ("解读二", None)]
    assert listing.next_urls == [f"https://www.gz.gov.cn/zwgk/zcjd/index_{n}.html" for n in (2, 3, 4)]


def test_listing_with_selectors() -> None:
    html = """<div class="list"><div class="row"><a href="/a/1.html">甲</a><i>2022-01-02</i></div>
    <div class="row"><a href="/a/2.html">乙</a></div></div><div class="pg"><a href="/a/p2.html">更多</a></div>"""
    listing = extract_listing("http://x.gov.cn/a/", html.encode(), item_selector="div.list div.row",
                              next_selector="div.pg a")
    assert [item.url for item in listing.items] == ["http://x.gov.cn/a/1.html", "http://x.gov.cn/a/2.html"]
    assert listing.items[0].date == "2022-01-02"
    assert listing.next_urls == ["http://x.gov.cn/a/p2.html"]


INDEX = """<html><body><div id="app"></div><script>
  // config
  window._CONFIG = {
    SID: '755', SITE_NAME: '广东省工业和信息化厅',
    TREE: [{id: 1, name: '综合政务', post_count: 18, children: [{id: 2, name: '通知公告', post_count: 16, children: []},
           {id: 3, name: "建议提案'办理'", post_count: 2, children: [],},]}, {id: 4, name: '政策解读', post_count: 0}],
    PAGE_SIZE: 10,
  };
</script></body></html>"""


def test_parse_gkmlpt_index() -> None:
    site = parse_gkmlpt_index(INDEX.encode())
    assert site.sid == "755"
    assert [c.id for c in site.tree] == [1, 4]
    notices = find_category(site.tree, 2)
    assert notices is not None and (notices.name, notices.post_count) == ("通知公告", 16)
    assert find_category(site.tree, 3).name == "建议提案'办理'"
    assert find_category(site.tree, 99) is None


def test_parse_gkmlpt_index_without_config() -> None:
    with pytest.raises(ExtractionError):
        parse_gkmlpt_index(b"<html><body>nothing</body></html>")


def test_gkmlpt_urls() -> None:
    assert gkmlpt_api_url("http://gdii.gd.gov.cn/", 2, 3, "755") == \
        "http://gdii.gd.gov.cn/gkmlpt/api/all/2?page=3&sid=755"
    assert gkmlpt_detail_url("http://gdii.gd.gov.cn", 4183912) == \
        "http://gdii.gd.gov.cn/gkmlpt/content/4/4183/post_4183912.html"


def test_parse_gkmlpt_api() -> None:
    body = json.dumps({"articles": [{
        "id": 4183912, "title": " 关于省政协十三届一次会议第20230647号提案答复的函 ", "document_number": "",
        "identifier": "006940060/2023-00412", "publisher": "广东省工业和信息化厅", "date": 1686043800,
        "created_at": "2023-06-06 17:30:00", "url": "/gkmlpt/content/4/4183/post_4183912.html", "abstract": "韩学智委员:",
        "attachment": [{"name": "附件.pdf", "url": "/attachment/0/1/2/4183912.pdf", "size": 1024}],
        "is_expired": 0, "is_abolished": 1}], "total": 2}, ensure_ascii=False).encode()
    page = parse_gkmlpt_api(body, base_url="http://gdii.gd.gov.cn")
    assert page.total == 2
    article = page.articles[0]
    assert article.title == "关于省政协十三届一次会议第20230647号提案答复的函"
    assert article.url == "http://gdii.gd.gov.cn/gkmlpt/content/4/4183/post_4183912.html"
    assert (article.doc_number, article.date, article.is_abolished, article.is_expired) == (None, "2023-06-06", True, False)
    assert article.attachments[0].mime == "application/pdf" and article.attachments[0].size == 1024


def test_parse_gkmlpt_api_rejects_html() -> None:
    with pytest.raises(ExtractionError):
        parse_gkmlpt_api(b"<html>404</html>")


def test_js_literal_reader() -> None:
    text = r"""x = 1; window._CONFIG = {a: 'it\'s', "b": [1, 2.5, -3, 0x1F,], c: {d: null, e: true, f: undefined},
      g: "\u4e2d\u6587<\/p>", /* comment */ h: new Date(5), i: `tpl`};"""
    value = find_js_assignment(text, "window._CONFIG")
    assert value == {"a": "it's", "b": [1, 2.5, -3, 31], "c": {"d": None, "e": True, "f": None},
                     "g": "中文</p>", "h": 5, "i": "tpl"}


# Other provinces' content systems: a list page read without an item_selector keeps the links
# shaped like their detail pages, and only those.
_OTHER_CMS_LIST = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/zwgk/tzgg/index.html">通知公告</a></div>
<ul class="list">
  <li><a href="./202401/t20240105_4567890.html">关于印发2024年数字经济工作要点的通知</a><span>2024-01-05</span></li>
  <li><a href="/art/2024/1/8/art_1229019365_2501234.html">关于公布第一批试点名单的通知</a><span>2024-01-08</span></li>
  <li><a href="https://www.gov.cn/zhengce/content/2024-01/09/content_6925021.htm">国务院办公厅关于印发行动方案的通知</a></li>
  <li><a href="/nw12344/20240110/9f0c3b2a6d7e4f1a8b9c0d1e2f3a4b5c.html">关于做好2024年工作的通知</a><span>2024-01-10</span></li>
</ul>
<div class="links"><a href="/zwgk/tzgg/index_1.html">下一页</a><a href="/about/contact.html">联系我们</a>
<a href="/t2024_notaday.html">not a detail page</a></div>
</body></html>"""


def test_default_items_know_other_provinces_detail_shapes() -> None:
    listing = extract_listing("https://www.example.gov.cn/zwgk/tzgg/index.html", _OTHER_CMS_LIST.encode("utf-8"),
                              "text/html")
    assert [item.url for item in listing.items] == [
        "https://www.example.gov.cn/zwgk/tzgg/202401/t20240105_4567890.html",
        "https://www.example.gov.cn/art/2024/1/8/art_1229019365_2501234.html",
        "https://www.gov.cn/zhengce/content/2024-01/09/content_6925021.htm",
        "https://www.example.gov.cn/nw12344/20240110/9f0c3b2a6d7e4f1a8b9c0d1e2f3a4b5c.html",
    ]
    assert listing.items[0].title == "关于印发2024年数字经济工作要点的通知"
    assert listing.items[0].date == "2024-01-05"


_HANWEB_LIST = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/col/col1229019364/index.html">政务公开</a></div>
<div id="4096789"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1&columnid=1229019365&unitid=4096789"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2024/1/8/art_1229019365_2501234.html" target="_blank">关于公布第一批试点名单的通知</a><span>2024-01-08</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/1/3/art_1229019365_2500001.html" target="_blank">关于开展2024年项目申报的通知</a><span>2024-01-03</span></li>]]></record>
</recordset></datastore></script></div>
</body></html>"""


@pytest.mark.parametrize("item_selector", [None, "li a"])
def test_hanweb_lists_keep_their_records_in_a_datastore_script(item_selector: str | None) -> None:
    listing = extract_listing("https://www.example.gov.cn/col/col1229019365/index.html",
                              _HANWEB_LIST.encode("utf-8"), "text/html", item_selector=item_selector)
    assert [(item.url, item.title, item.date) for item in listing.items] == [
        ("https://www.example.gov.cn/art/2024/1/8/art_1229019365_2501234.html", "关于公布第一批试点名单的通知",
         "2024-01-08"),
        ("https://www.example.gov.cn/art/2024/1/3/art_1229019365_2500001.html", "关于开展2024年项目申报的通知",
         "2024-01-03"),
    ]
