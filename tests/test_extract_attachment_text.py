"""Attachment text extraction (plain functions over bytes) and the attachment content hash."""

from __future__ import annotations

import shutil

import pytest

from crawler.extract.attachment_text import (
    attachment_content_hash,
    extract_attachment_text,
    sniff_kind,
)
from crawler.middlewares import backoff_delay
from crawler.sources import SourceConfigError, source_from_dict
from replica.files import docx_bytes, pdf_bytes

TEXT = ["关于印发《2024年广东省数字经济工作要点》的通知", "(六)新增推动 6000 家规模以上工业企业数字化转型。"]


def test_pdf_text_with_chinese() -> None:
    result = extract_attachment_text(pdf_bytes(TEXT), "application/pdf", "a.pdf")
    assert result.status == "ok" and result.kind == "pdf"
    assert result.text.split("\n") == TEXT


def test_docx_text_paragraphs() -> None:
    result = extract_attachment_text(docx_bytes(TEXT), None, "b.docx")
    assert result.status == "ok" and result.kind == "docx"
    assert result.text.split("\n") == TEXT


@pytest.mark.parametrize("body, name", [(b"PK\x05\x06" + b"\0" * 18, "c.zip"), (b"col1,col2\n", "d.xls"),
                                        (b"\x89PNG\r\n", "e.png")])
def test_other_files_are_unsupported(body: bytes, name: str) -> None:
    result = extract_attachment_text(body, None, name)
    assert result.status == "unsupported" and result.text is None


def test_a_broken_pdf_is_an_error_not_an_exception() -> None:
    result = extract_attachment_text(b"%PDF-1.4\nthis is not a pdf", "application/pdf", "x.pdf")
    assert result.status == "error" and result.reason


def test_legacy_doc_without_tools_is_unsupported(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no antiword, no catdoc on this PATH
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024
    assert sniff_kind(ole, "application/msword", "f.doc") == "doc"
    result = extract_attachment_text(ole, "application/msword", "f.doc")
    assert result.status == "unsupported" and "antiword" in result.reason


@pytest.mark.skipif(shutil.which("antiword") is None and shutil.which("catdoc") is None,
                    reason="antiword/catdoc not installed (apt-get install antiword)")
def test_legacy_doc_that_is_not_word_is_an_error() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024
    assert extract_attachment_text(ole, "application/msword", "f.doc").status == "error"


def test_same_text_in_another_file_has_the_same_hash() -> None:
    first, remade = pdf_bytes(TEXT), pdf_bytes(TEXT) + b"\n% saved again\n"
    hash_first = attachment_content_hash(extract_attachment_text(first), first)
    assert hash_first == attachment_content_hash(extract_attachment_text(remade), remade)
    revised = pdf_bytes([TEXT[0], TEXT[1].replace("6000", "7000")])
    assert hash_first != attachment_content_hash(extract_attachment_text(revised), revised)
    zip_a, zip_b = b"PK\x05\x06" + b"\0" * 18, b"PK\x05\x06" + b"\1" * 18
    assert attachment_content_hash(extract_attachment_text(zip_a), zip_a) != \
        attachment_content_hash(extract_attachment_text(zip_b), zip_b)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(n, 1.0, 5.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert backoff_delay(3, 0, 5.0) == 0.0
    assert 1.5 <= backoff_delay(2, 1.0, 60.0, jitter=0.25) <= 2.0


def test_full_sweep_every_is_validated() -> None:
    entry = {"name": "s", "kind": "html_pages", "start_urls": ["https://gdii.gd.gov.cn/a/index.html"]}
    assert source_from_dict(entry).full_sweep_every == 10
    assert source_from_dict({**entry, "full_sweep_every": 1}).full_sweep_every == 1
    for bad in (0, -3):
        with pytest.raises(SourceConfigError, match="full_sweep_every"):
            source_from_dict({**entry, "full_sweep_every": bad})
    with pytest.raises(SourceConfigError, match="wrong type"):
        source_from_dict({**entry, "full_sweep_every": "10"})
