"""`policywatch inspect FILE`: a saved page, a text, a PDF or a Word file read as a crawl reads it,
without a database; a file with nothing to read is one line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replica.files import docx_bytes, pdf_bytes
from tests.conftest import ROOT, run_policywatch
from tests.test_cli import one_line_error

SEEDS = ROOT / "replica" / "data" / "seeds"
LABELS = ROOT / "tests" / "fixtures" / "labels"
PAGES = ROOT / "tests" / "fixtures" / "pages"


def inspect_json(*args: str, stdin: bytes | None = None) -> dict:
    if stdin is None:
        out = run_policywatch("inspect", *args, "--format", "json")
    else:  # run_policywatch has no input: the same child process, given stdin
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-m", "monitor", "inspect", *args, "--format", "json"],
                              input=stdin, capture_output=True, timeout=120, cwd=str(ROOT))
        out = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout)


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def test_a_text_file_gives_the_labelled_tasks_whatever_its_encoding(tmp_path: Path) -> None:
    labels = json.loads(next(LABELS.glob("seed_001_tasks.json")).read_text("utf-8"))
    utf8 = inspect_json(str(seed("001")))
    assert utf8["read_as"] == "text" and utf8["encoding"] == "utf-8"
    tasks = utf8["structure"]["tasks"]
    assert [(t["label"], t["title"]) for t in tasks] == [(t["label"], t["title"]) for t in labels["tasks"]]
    assert tasks[1]["lead"] == ["省工业和信息化厅"] and tasks[1]["implementing"] == ["相关市政府"]
    # the same text saved as GBK (with a byte order mark-less Windows editor) reads the same
    gbk = tmp_path / "要点.txt"
    gbk.write_bytes(seed("001").read_text("utf-8").encode("gb18030"))
    again = inspect_json(str(gbk))
    assert again["encoding"] == "gb18030" and again["structure"] == utf8["structure"]
    # a UTF-8 byte order mark is not part of the text
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + seed("001").read_bytes())
    assert inspect_json(str(bom))["structure"] == utf8["structure"]


def test_a_proposal_reply_text_gives_its_labelled_metadata() -> None:
    labels = {d["document"][:3]: d for d in json.loads((LABELS / "seed_metadata.json").read_text("utf-8"))["documents"]}
    got = inspect_json(str(seed("004")))["structure"]["metadata"]
    want = labels["004"]
    assert got["kind"] == "proposal_reply"
    proposal = got["proposal"]
    for key in ("proposal_type", "addressee", "role", "proposal_number"):
        assert proposal[key] == want[key], key


def test_a_saved_page_reads_as_the_crawl_reads_it() -> None:
    expected = json.loads((PAGES / "gbk_meta.expected.json").read_text("utf-8"))
    got = inspect_json(str(PAGES / "gbk_meta.html"))
    assert got["read_as"] == "html" and got["encoding"] == expected["encoding"]
    assert got["title"] == expected["title"]
    assert [n["label"] for n in got["structure"]["outline"]] == ["一、", "二、"]
    # the table form names the title and the outline
    out = run_policywatch("inspect", str(PAGES / "gbk_meta.html"))
    assert out.returncode == 0 and expected["title"] in out.stdout and "一、提高思想认识" in out.stdout


def test_stdin_with_url_resolves_the_attachment_links() -> None:
    page = ("<html><head><meta charset='utf-8'><title>关于开展试点的通知</title></head><body>"
            "<div class='article-content'><p>各有关单位:</p><p>一、工作目标</p><p>到2025年建成100个试点。</p>"
            "<p>附件:<a href='../files/名单.xlsx'>试点名单</a></p></div></body></html>").encode()
    got = inspect_json("-", "--url", "https://www.gd.gov.cn/zwgk/tzgg/content/post_1.html", stdin=page)
    assert got["url"] == "https://www.gd.gov.cn/zwgk/tzgg/content/post_1.html"
    assert [a["url"] for a in got["attachments"]] == [
        "https://www.gd.gov.cn/zwgk/tzgg/files/名单.xlsx"]
    assert got["structure"]["outline"][0]["title"] == "工作目标"


@pytest.mark.parametrize("make", [pdf_bytes, docx_bytes], ids=["pdf", "docx"])
def test_pdf_and_docx_attachments_are_read(tmp_path: Path, make) -> None:
    lines = ["关于2024年工作安排的通知", "一、加强组织领导", "(一)建立工作机制。省工业和信息化厅牵头。",
             "二、强化保障措施"]
    path = tmp_path / ("答复.pdf" if make is pdf_bytes else "答复.docx")
    path.write_bytes(make(lines))
    got = inspect_json(str(path))
    assert got["read_as"] == path.suffix[1:]
    labels = [n["label"] for n in got["structure"]["outline"] if n["level"] == 1]
    assert labels == ["一、", "二、"]


def test_as_text_reads_markup_as_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<p>一、总体要求</p>", encoding="utf-8")
    assert inspect_json(str(path))["read_as"] == "html"
    assert inspect_json(str(path), "--as", "text")["read_as"] == "text"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cannot read"),
        (b"", "the file is empty"),
        (b"  \n\t ", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a web page, a text, a PDF or a Word file"),
        (b"PK\x03\x04\x00\x00broken zip", "not a web page"),
        (b"<html><body><script>var a=1;</script></body></html>", "no document body found"),
        (b"%PDF-1.4 broken", "file.bin: "),  # pypdf's warnings stay out of it: one line
    ],
    ids=["missing", "empty", "blank", "image", "zip", "no-body", "broken-pdf"],
)
def test_a_file_with_nothing_to_read_is_one_line(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "file.bin"
    if content is not None:
        path.write_bytes(content)
    result = run_policywatch("inspect", str(path))
    line = one_line_error(result)
    assert result.returncode == 1 and fragment in line and line.startswith("error: ")


def test_inspect_help_has_examples() -> None:
    out = run_policywatch("inspect", "--help")
    assert out.returncode == 0 and "Example" in out.stdout


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    """Crawled text is untrusted: an ESC sequence (clear the screen, retitle the window), a bell
    or a right-to-left override in a page prints as spaces; the JSON keeps the data, escaped."""
    page = tmp_path / "hostile.html"
    page.write_text("<html><head><meta charset='utf-8'><title>\x1b[31m关于\x07印发的通知</title></head><body>"
                    "<div class='article-content'><p>一、总体要求</p>"
                    "<p>(一)加强领导。(省工业和信息化厅\x1b]0;pwned\x07负责)</p>"
                    "<p>(二)完善机制\u202eabc。(省科技厅负责)</p></div></body></html>", encoding="utf-8")
    out = run_policywatch("inspect", str(page))
    assert out.returncode == 0, out.stderr
    for unsafe in ("\x1b", "\x07", "\u202e"):
        assert unsafe not in out.stdout
    assert "加强领导" in out.stdout and "省科技厅" in out.stdout
    data = inspect_json(str(page))
    assert data["title"] == "\x1b[31m关于\x07印发的通知"  # the page's own, not mended


def test_terminal_text_keeps_lines_and_chinese() -> None:
    from monitor.output import terminal_text

    assert terminal_text("一、总体要求\n\t(一)加强\u3000领导\x1b[2J\x9b\u202e") == "一、总体要求\n\t(一)加强\u3000领导 [2J  "
    assert terminal_text(None) == ""


@pytest.fixture()
def site():
    """A real HTTP server on 127.0.0.1: a GBK page named only by its header, a redirect to it, a
    plain text, a 404."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    page = ("<html><head><title>关于开展试点的通知</title></head><body><div class='article-content'>"
            "<p>一、工作目标</p><p>(一)建成100个试点。(省工业和信息化厅负责)</p>"
            "<p>附件:<a href='files/名单.pdf'>试点名单</a></p></div></body></html>").encode("gbk")
    text = "2024年某省数字经济工作要点\n一、推动数字产业化\n(一)加快集群建设。(省发展改革委牵头)\n".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            routes = {"/zwgk/post_1.html": (200, "text/html; charset=GBK", page),
                      "/points.txt": (200, "text/plain; charset=utf-8", text)}
            if self.path == "/old":
                self.send_response(301)
                self.send_header("Location", "/zwgk/post_1.html")
                self.end_headers()
                return
            status, kind, body = routes.get(self.path, (404, "text/html", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_is_fetched_once_and_read_as_a_crawl_reads_it(site: str) -> None:
    got = inspect_json(f"{site}/old")  # redirected: links resolve from where the page is
    assert got["title"] == "关于开展试点的通知" and got["encoding"] == "gb18030"
    assert got["url"] == f"{site}/zwgk/post_1.html"
    assert [a["url"] for a in got["attachments"]] == [f"{site}/zwgk/files/名单.pdf"]
    assert got["structure"]["tasks"][0]["responsible"] == ["省工业和信息化厅"]
    text = inspect_json(f"{site}/points.txt")
    assert text["read_as"] == "text" and text["structure"]["tasks"][0]["lead"] == ["省发展改革委"]


def test_a_url_that_gives_no_page_is_one_line(site: str) -> None:
    import socket

    assert "HTTP 404" in one_line_error(run_policywatch("inspect", f"{site}/missing.html"))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert "cannot fetch" in one_line_error(run_policywatch("inspect", f"http://127.0.0.1:{port}/a.html"))
