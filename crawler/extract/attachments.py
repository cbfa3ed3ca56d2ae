"""Attachment links of a detail page: a.nfw-cms-attachment and links to office/PDF/archive files."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from .htmltext import HtmlElement, class_tokens, has_templates, selectable, text_strings

ATTACHMENT_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
    ".wps": "application/vnd.ms-works",
    ".ofd": "application/ofd",
}
_GENERIC_LINK_TEXT = {"点击下载", "下载", "附件", "点击查看", "查看", "附件下载", "download"}


@dataclass(frozen=True)
class Attachment:
    """A file linked from a document page."""

    url: str
    name: str
    mime: str | None = None
    size: int | None = None


def file_extension(url: str) -> str:
    """Return the lowercased extension of a URL's path ('' when none)."""
    return posixpath.splitext(urlsplit(url).path)[1].lower()


def guess_mime(url_or_name: str) -> str | None:
    """Guess an attachment's MIME type from its extension."""
    return ATTACHMENT_EXTENSIONS.get(file_extension(url_or_name)) or ATTACHMENT_EXTENSIONS.get(
        posixpath.splitext(url_or_name)[1].lower())


def is_attachment_url(url: str) -> bool:
    """True when a URL's path ends in a known document/archive extension."""
    return file_extension(url) in ATTACHMENT_EXTENSIONS


def _name(link: HtmlElement, url: str) -> str:
    alt = (link.get("alt") or "").strip()
    if alt:
        return alt
    text = " ".join(" ".join(text_strings(link)).split())
    if text and text.lower() not in _GENERIC_LINK_TEXT:
        return text
    title = (link.get("title") or "").strip()
    if title:
        return title
    return unquote(posixpath.basename(urlsplit(url).path))


def attachment_links(root: HtmlElement, templates: bool = True) -> list[HtmlElement]:
    """The <a href> elements under root that point to attachments, in page order (as the selector
    a[href] found them: not inside a <template>; templates says whether the page has any)."""
    links = []
    for link in selectable(root.iter("a"), root, templates):
        href = link.get("href")
        if href is None:
            continue
        href = href.strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        if "nfw-cms-attachment" in class_tokens(link) or is_attachment_url(href):
            links.append(link)
    return links


def attachments_of(links: list[HtmlElement], base_url: str) -> list[Attachment]:
    """One Attachment per absolute URL of these links, first link first."""
    found: dict[str, Attachment] = {}
    for link in links:
        url = urljoin(base_url, (link.get("href") or "").strip())
        if url in found:
            continue
        name = _name(link, url)
        found[url] = Attachment(url=url, name=name, mime=guess_mime(url) or guess_mime(name))
    return list(found.values())


def find_attachments(root: HtmlElement, base_url: str) -> list[Attachment]:
    """Collect attachments under root in page order, one per absolute URL."""
    return attachments_of(attachment_links(root, has_templates(root)), base_url)
