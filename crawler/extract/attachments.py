"""Attachment links of a detail page: a.nfw-cms-attachment and links to office/PDF/archive files."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import Tag

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


def _name(link: Tag, url: str) -> str:
    alt = str(link.get("alt") or "").strip()
    if alt:
        return alt
    text = " ".join(link.get_text(" ", strip=True).split())
    if text and text.lower() not in _GENERIC_LINK_TEXT:
        return text
    title = str(link.get("title") or "").strip()
    if title:
        return title
    return unquote(posixpath.basename(urlsplit(url).path))


def find_attachments(root: Tag, base_url: str) -> list[Attachment]:
    """Collect attachments under root in page order, one per absolute URL."""
    found: dict[str, Attachment] = {}
    for link in root.select("a[href]"):
        href = str(link.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        classes = link.get("class") or []
        if "nfw-cms-attachment" not in classes and not is_attachment_url(href):
            continue
        url = urljoin(base_url, href)
        if url in found:
            continue
        name = _name(link, url)
        found[url] = Attachment(url=url, name=name, mime=guess_mime(url) or guess_mime(name))
    return list(found.values())
