"""Text of attachment files (PDF, DOCX, legacy DOC) and the hash that says whether one changed.

Plain functions over bytes: pypdf for PDF, python-docx for DOCX, the Debian tool antiword (or
catdoc) for legacy .doc. A file type without an extractor, or a missing tool, is "unsupported"
and still hashed on its bytes; a broken file is an "error", never an exception.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .attachments import file_extension

logger = logging.getLogger(__name__)

PDF_MIME = "application/pdf"
DOC_MIME = "application/msword"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TOOL_TIMEOUT = 60  # seconds for antiword/catdoc on one file


@dataclass(frozen=True)
class AttachmentText:
    """The extracted text of one file; ``status`` is ok, unsupported or error."""

    text: str | None
    status: str
    reason: str | None = None
    kind: str | None = None  # pdf, docx, doc or None


def sniff_kind(body: bytes, mime: str | None = None, url_or_name: str = "") -> str | None:
    """pdf, docx or doc from the file's magic bytes, then its MIME type, then its extension."""
    if body.startswith(b"%PDF"):
        return "pdf"
    if body.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        return None  # a zip, xlsx or a broken docx: not text we read
    if body.startswith(_OLE_MAGIC):
        ext = file_extension(url_or_name)
        if (mime or "").split(";")[0].strip() == DOC_MIME or ext in (".doc", ".wps") or not ext:
            return "doc"
        return None  # an OLE .xls or .ppt
    return None


def extract_attachment_text(body: bytes, mime: str | None = None, url_or_name: str = "") -> AttachmentText:
    """Extract the text of a PDF, DOCX or DOC file; other files are 'unsupported'."""
    kind = sniff_kind(body, mime, url_or_name)
    if kind is None:
        return AttachmentText(None, "unsupported", "no text extractor for this file type")
    try:
        if kind == "pdf":
            text = pdf_text(body)
        elif kind == "docx":
            text = docx_text(body)
        else:
            result = doc_text(body)
            if result is None:
                return AttachmentText(None, "unsupported", "neither antiword nor catdoc is installed",
                                      kind)
            text = result
    except Exception as exc:  # a broken file is data, not a crash
        return AttachmentText(None, "error", f"{type(exc).__name__}: {exc}"[:500], kind)
    return AttachmentText(_tidy(text), "ok", None, kind)


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    # pypdf warns about every flaw it reads past (no EOF marker, a bad xref): a government
    # site's PDFs have many. What it cannot read is an error, recorded as the file's status.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def docx_text(body: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(body))
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def doc_text(body: bytes) -> str | None:
    """Legacy Word text through antiword (UTF-8 output) or catdoc; None when neither exists."""
    commands = []
    if shutil.which("antiword"):
        commands.append(["antiword", "-m", "UTF-8.txt", "-w", "0"])
    if shutil.which("catdoc"):
        commands.append(["catdoc", "-d", "utf-8", "-w"])
    if not commands:
        return None
    with tempfile.TemporaryDirectory(prefix="policywatch-doc-") as tmp:
        path = Path(tmp) / "attachment.doc"
        path.write_bytes(body)
        errors = []
        for command in commands:
            done = subprocess.run([*command, str(path)], capture_output=True, timeout=_TOOL_TIMEOUT,
                                  check=False)
            if done.returncode == 0:
                return done.stdout.decode("utf-8", errors="replace")
            errors.append(f"{command[0]}: {done.stderr.decode('utf-8', 'replace').strip()}")
    raise ValueError("; ".join(errors)[:500])


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def attachment_content_hash(text: AttachmentText, raw: bytes) -> str:
    """What makes two files the same attachment: the normalized text when there is some (a
    re-exported PDF with the same words is no change), else the bytes."""
    if text.status == "ok" and text.text and text.text.strip():
        from crawler.document import normalize_for_compare

        payload = "text:" + normalize_for_compare(text.text)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()
