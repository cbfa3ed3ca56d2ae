"""HTML, JSON and file bodies of the replica, shaped like the real Guangdong sites' templates."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from html import escape

from .catalog import (
    GKMLPT_SIDS,
    GKMLPT_TREES,
    LIST_PATHS,
    PAGE_SIZE,
    SITE_NAMES,
    AttachmentFile,
    Catalog,
    Document,
)
from .files import docx_bytes, pdf_bytes

CHINA_TZ = timezone(timedelta(hours=8))
_LIST_TITLES = {"gd": "粤府办函", "gdii": "通知公告", "gz": "政策解读", "gxj": "人大代表建议和政协提案办理"}


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def js_literal(value: object) -> str:
    """Write a value as a JavaScript literal the way gkmlpt pages do: bare keys, single-quoted strings."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {js_literal(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(js_literal(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("</", "<\\/")
    return f"'{text}'"


def _paragraphs(doc: Document) -> str:
    return "\n".join(f"<p>{_e(line)}</p>" for line in doc.paragraphs)


def _attachments(doc: Document) -> str:
    if not doc.attachments:
        return ""
    links = []
    for att in doc.attachments:
        if att.styled:
            links.append(f'<p>附件:<a class="nfw-cms-attachment" href="{att.path}" alt="{_e(att.name)}" '
                         f'target="_blank">点击下载</a></p>')
        else:
            links.append(f'<p>附件:<a href="{att.path}" target="_blank">{_e(att.name)}</a></p>')
    return '<div class="attachment">' + "".join(links) + "</div>"


def _gd_header(site: str) -> str:
    return (f'<div class="header"><div class="top-bar"><a href="#" class="wza">无障碍</a> <a href="#">繁體版</a>'
            f' <a href="#">English</a></div><div class="logo"><a href="/">{_e(SITE_NAMES[site])}</a></div>'
            '<nav class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/gkmlpt/index">政府信息公开</a>'
            '<a href="/hdjl/">互动交流</a></nav></div>')


def _gd_footer(site: str) -> str:
    return (f'<div class="footer"><p>主办:{_e(SITE_NAMES[site])} 版权所有</p><p>粤ICP备05070829号 '
            '粤公网安备 44010402000050号</p><p><a href="/sitemap.html">网站地图</a> <a href="/contact.html">联系我们</a>'
            '</p></div>')


def _tools() -> str:
    return ('<div class="share-box"><div class="share">分享到:<a class="bds_weixin" href="#">微信</a>'
            '<a class="bds_tsina" href="#">微博</a></div><div class="print"><a href="javascript:window.print()">'
            '【打印】</a><a href="javascript:window.close()">【关闭】</a></div>'
            '<div class="zihao">字号:<a href="#">大</a><a href="#">中</a><a href="#">小</a></div></div>')


def _classify(doc: Document) -> str:
    rows = [("索引号:", doc.identifier, "分类:", doc.category),
            ("发布机构:", doc.publisher, "成文日期:", doc.signed or doc.date),
            ("名称:", doc.title, None, None),
            ("文号:", doc.doc_number or "", "发布日期:", doc.date),
            ("主题词:", doc.subject, None, None)]
    cells = []
    for label, value, label2, value2 in rows:
        if label2 is None:
            cells.append(f'<tr><td class="first">{label}</td><td class="second" colspan="3">{_e(value)}</td></tr>')
        else:
            cells.append(f'<tr><td class="first">{label}</td><td class="second">{_e(value)}</td>'
                         f'<td class="first">{label2}</td><td class="second">{_e(value2)}</td></tr>')
    return '<div class="classify"><table>' + "".join(cells) + "</table></div>"


def _introduce(doc: Document) -> str:
    rows = [("索 引 号:", doc.identifier), ("分\u3000\u3000类:", doc.category), ("发布机构:", doc.publisher),
            ("成文日期:", doc.signed or doc.date), ("名\u3000\u3000称:", doc.title), ("文\u3000\u3000号:", doc.doc_number),
            ("发布日期:", doc.date)]
    items = "".join(f"<li><label>{label}</label><span>{_e(value)}</span></li>" for label, value in rows)
    return f'<div class="introduce"><ul>{items}</ul></div>'


def _config_script(doc: Document, base: str) -> str:
    content = _paragraphs(doc)
    detail = {"id": doc.post_id, "title": doc.title, "publisher": doc.publisher, "date": doc.date,
              "url": base + (doc.gkmlpt_path or doc.channel_path), "content": content}
    return f"<script>\nwindow._CONFIG = {{\n  SID: '{GKMLPT_SIDS.get(doc.site, '')}',\n  DETAIL: {js_literal(detail)},\n}};\n</script>"


def _head(title: str, extra: str = "", charset: str = '<meta charset="utf-8">') -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head>{charset}<title>{_e(title)}</title>{extra}'
            '<link rel="stylesheet" href="/css/style.css"><script src="/js/jquery.min.js"></script></head>')


def gkmlpt_detail(doc: Document, base: str, *, platform: bool) -> str:
    """A gkmlpt-shaped detail page: classify table, .article-content, window._CONFIG.DETAIL (gd, gdii)."""
    body = "" if platform and doc.site == "gdii" else _paragraphs(doc)
    meta = (f'<meta name="ArticleTitle" content="{_e(doc.title)}"><meta name="PubDate" content="{doc.published}">'
            f'<meta name="ContentSource" content="{_e(doc.publisher)}">')
    crumb = "政府信息公开" if platform else _LIST_TITLES[doc.site]
    return (_head(f"{doc.title}_{SITE_NAMES[doc.site]}", meta) + "<body>" + _gd_header(doc.site)
            + f'<div class="position">当前位置:<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; {crumb}</div>'
            + '<div class="main">' + _classify(doc)
            + f'<div class="content"><h1 class="title">{_e(doc.title)}</h1>'
            + f'<div class="article-content">{body}</div>'
            + _attachments(doc)
            + _tools() + '<div class="visit">浏览量:<span id="count">1024</span></div></div></div>'
            + _gd_footer(doc.site) + _config_script(doc, base) + "</body></html>")


def gd_introduce_detail(doc: Document) -> str:
    """The gd.gov.cn document library's other template: div.introduce + div.zw."""
    meta = f'<meta name="ArticleTitle" content="{_e(doc.title)}"><meta name="PubDate" content="{doc.published}">'
    return (_head(f"{doc.title}_{SITE_NAMES[doc.site]}", meta) + "<body>" + _gd_header(doc.site)
            + '<div class="position">当前位置:<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
            '<a href="/zwgk/wjk/">文件库</a></div><div class="viewDetail">' + _introduce(doc)
            + f'<div class="article-title"><h3>{_e(doc.title)}</h3></div>'
            + f'<div class="zw">{_paragraphs(doc)}</div>{_attachments(doc)}' + _tools()
            + "</div>" + _gd_footer(doc.site) + "</body></html>")


def gz_detail(doc: Document) -> str:
    """A www.gz.gov.cn detail page: h1.content_title, #laiyuan, #zoomcon, div.curmb, meta PubDate."""
    meta = f'<meta name="PubDate" content="{doc.published[:16]}"><meta name="ContentSource" content="{_e(doc.publisher)}">'
    return (_head(f"{doc.title}-{SITE_NAMES['gz']}", meta, '<meta http-equiv="Content-Type" content="text/html; '
                  'charset=utf-8">')
            + '<body><div class="header"><div class="topbar"><a href="#">无障碍浏览</a> <a href="#">长者模式</a>'
            '</div><div class="logo">广州市人民政府门户网站</div></div>'
            + '<div class="curmb">当前位置:<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
            '<a href="/zwgk/zcjd/index.html">政策解读</a></div><div class="content">'
            + f'<h1 class="content_title">{_e(doc.title)}</h1><div class="content_info">'
            + f'<span id="laiyuan">来源:{_e(doc.publisher)}</span> <span class="zihao">字号:<a href="#">大</a>'
            '<a href="#">中</a><a href="#">小</a></span> <span class="share">分享到:</span></div>'
            + f'<div id="zoomcon"><div class="TRS_UEDITOR">{_paragraphs(doc)}</div></div>{_attachments(doc)}'
            + '</div><div class="footer">主办:广州市人民政府办公厅 粤ICP备12023045号</div></body></html>')


def gxj_detail(doc: Document) -> str:
    """A gxj.gz.gov.cn reply page with its chrome: 无障碍, 长者助手, 繁体版, 当前位置, the info line."""
    return (_head(f"{doc.title}-{SITE_NAMES['gxj']}", "",
                  '<meta http-equiv="Content-Type" content="text/html; charset=gbk">')
            + '<body><div class="top"><div class="wrap"><a href="#" class="zhuanti">无障碍</a> <a href="#">长者助手</a>'
            ' <a href="#">繁体版</a></div></div><div class="banner"><img src="/images/logo.png" alt="广州市工业和信息化局">'
            '</div><div class="menu"><ul><li><a href="/">首页</a></li><li><a href="/zw/">政务公开</a></li>'
            '<li><a href="/hd/">互动交流</a></li><li><a href="/fw/">政务服务</a></li></ul></div>'
            '<div class="dqwz">当前位置:<a href="/">首页</a> &gt; <a href="/zw/">政务公开</a> &gt; '
            '<a href="index.html">人大代表建议和政协提案办理</a></div><div class="main"><div class="article">'
            + f'<h1>{_e(doc.title)}</h1><div class="info">信息来源:{_e(doc.publisher)}\u3000时间:{doc.date}\u3000'
            '字体:[<a href="#">大</a>][<a href="#">中</a>][<a href="#">小</a>]</div>'
            + f'<div class="article_body">{_paragraphs(doc)}</div>{_attachments(doc)}</div></div>'
            + '<div class="foot"><p>广州市工业和信息化局 版权所有</p><p>粤ICP备2020081776号</p></div></body></html>')


def detail_page(doc: Document, base: str, *, platform: bool = False) -> tuple[bytes, str]:
    """(body, content type) of a document's detail page in its site's template."""
    if doc.site == "gxj":
        return gxj_detail(doc).encode("gb18030"), "text/html"
    if doc.site == "gz":
        return gz_detail(doc).encode("utf-8"), "text/html"
    if doc.site == "gd" and not platform and doc.template == "introduce":
        return gd_introduce_detail(doc).encode("utf-8"), "text/html"
    content_type = "text/html; charset=utf-8" if doc.site == "gdii" else "text/html"
    return gkmlpt_detail(doc, base, platform=platform).encode("utf-8"), content_type


def page_count(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def page_name(page: int) -> str:
    return "index.html" if page == 1 else f"index_{page}.html"


def _pager(page: int, pages: int) -> str:
    links = ['<a href="index.html">首页</a>']
    if page > 1:
        links.append(f'<a class="prev" href="{page_name(page - 1)}">上一页</a>')
    for number in range(1, pages + 1):
        links.append(f'<span class="current">{number}</span>' if number == page
                     else f'<a href="{page_name(number)}">{number}</a>')
    if page < pages:
        links.append(f'<a class="next" href="{page_name(page + 1)}">下一页</a>')
    links.append(f'<a class="last" href="{page_name(pages)}">尾页</a>')
    return " ".join(links)


def list_page(site: str, docs: list[Document], page: int, base: str) -> str:
    """An HTML list page (page numbers from 1) in the site's list template."""
    pages = page_count(len(docs))
    chunk = docs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    rows: list[str] = []
    if site == "gd":
        for doc in chunk:
            rows.append(f'<li><span class="name"><a href="{doc.list_path}" target="_blank" title="{_e(doc.title)}">'
                        f'{_e(doc.title)}</a></span><span class="wh">{_e(doc.doc_number)}</span>'
                        f'<span class="date">{doc.date}</span></li>')
        listing = f'<div class="viewList"><ul>{"".join(rows)}</ul></div><div class="page">{_pager(page, pages)}</div>'
    elif site == "gdii":
        for doc in chunk:
            shown = doc.title if len(doc.title) <= 30 else doc.title[:30] + "…"
            rows.append(f'<li><a href="{base}{doc.list_path}" title="{_e(doc.title)}" target="_blank">{_e(shown)}</a>'
                        f'<span class="time">{doc.date}</span></li>')
        listing = (f'<div class="list_box"><ul class="list">{"".join(rows)}</ul></div>'
                   f'<div class="pagination">{_pager(page, pages)}</div>')
    elif site == "gz":
        for doc in chunk:
            rows.append(f'<li><a href="{doc.list_path}" title="{_e(doc.title)}" target="_blank">{_e(doc.title)}</a></li>')
        listing = f'<ul class="news_list">{"".join(rows)}</ul><div class="pages">{_pager(page, pages)}</div>'
    else:
        for doc in chunk:
            rows.append(f'<li><a href="content/{doc.list_link}_{doc.post_id}.html" target="_blank">{_e(doc.title)}'
                        f'</a><span>{doc.date}</span></li>')
        listing = (f'<div class="news_list"><ul>{"".join(rows)}</ul></div><div id="page_div"></div>'
                   f'<script>createPageHTML({pages}, {page - 1}, "index", "html");</script>')
    title = f"{_LIST_TITLES[site]}_{SITE_NAMES[site]}"
    charset = '<meta http-equiv="Content-Type" content="text/html; charset=gbk">' if site == "gxj" else None
    head = _head(title, "", charset) if charset else _head(title)
    return (head + "<body>" + _gd_header(site)
            + f'<div class="position">当前位置:<a href="/">首页</a> &gt; {_LIST_TITLES[site]}</div>'
            + f'<div class="main"><h2 class="list-title">{_LIST_TITLES[site]}</h2>{listing}</div>'
            + _gd_footer(site) + "</body></html>")


def _tree(site: str, catalog: Catalog, nodes: list) -> list[dict]:
    return [{"id": node_id, "name": name, "post_count": len(catalog.category_documents(site, node_id)),
             "children": _tree(site, catalog, children)} for node_id, name, children in nodes]


def gkmlpt_index(site: str, catalog: Catalog) -> str:
    """/gkmlpt/index: an empty app shell with window._CONFIG = {SID, TREE} as a JS object literal."""
    tree = js_literal(_tree(site, catalog, GKMLPT_TREES[site]))
    return (_head(f"政府信息公开_{SITE_NAMES[site]}") + '<body><div id="app"></div>\n<script>\n'
            f"  // 政府信息公开平台配置\n  window._CONFIG = {{\n    SID: '{GKMLPT_SIDS[site]}',\n"
            f"    SITE_NAME: '{SITE_NAMES[site]}',\n    TREE: {tree},\n    PAGE_SIZE: {PAGE_SIZE},\n  }};\n"
            "</script></body></html>")


def _epoch(published: str) -> int:
    moment = datetime.strptime(published, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
    return int(moment.timestamp())


def api_article(doc: Document, base: str) -> dict:
    abstract = " ".join(doc.paragraphs[1 if len(doc.paragraphs) > 1 else 0].split())[:80]
    return {
        "id": doc.post_id, "title": doc.title, "document_number": doc.doc_number or "",
        "identifier": doc.identifier, "publisher": doc.publisher, "date": _epoch(doc.published),
        "created_at": doc.published, "url": base + (doc.gkmlpt_path or doc.channel_path), "abstract": abstract,
        "attachment": [{"name": att.name, "url": base + att.path, "mime": att.mime,
                        "size": len(attachment_bytes(doc, att))} for att in doc.attachments],
        "is_expired": 0, "is_abolished": 0,
    }


def api_page(site: str, catalog: Catalog, category_id: int, page: int, base: str) -> bytes:
    """One JSON page of /gkmlpt/api/all/{category}; past the last page it repeats the last page."""
    docs = catalog.category_documents(site, category_id)
    page = min(max(page, 1), page_count(len(docs)))
    chunk = docs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    data = {"classify": {"id": category_id}, "articles": [api_article(doc, base) for doc in chunk],
            "total": len(docs), "page": page, "page_size": PAGE_SIZE}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def attachment_bytes(doc: Document, att: AttachmentFile) -> bytes:
    """Small generated files: a one-page PDF and a DOCX with text, a real zip for xlsx/zip, plain bytes otherwise."""
    ext = att.path.rsplit(".", 1)[-1]
    label = f"policywatch replica attachment post {doc.post_id} {att.path.rsplit('/', 1)[-1]}"
    if ext == "pdf":
        return pdf_bytes([att.name, label])
    if ext == "docx":
        return docx_bytes([att.name, label])
    if ext in ("xlsx", "zip"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            info = zipfile.ZipInfo("readme.txt", date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, f"{label}\n{att.name}\n")
        return buffer.getvalue()
    return f"{label}\n{att.name}\n".encode()


def home_page(site: str, base: str) -> str:
    """A small index page for people looking at the replica."""
    links = [f'<li><a href="{LIST_PATHS[site]}index.html">{_LIST_TITLES[site]}</a></li>']
    if site in GKMLPT_SIDS:
        links.append('<li><a href="/gkmlpt/index">政府信息公开 (gkmlpt)</a></li>')
    return (_head(SITE_NAMES[site]) + f"<body><h1>{SITE_NAMES[site]} (policywatch replica)</h1>"
            f"<ul>{''.join(links)}</ul></body></html>")
