"""The crawl's own downloader middlewares, on hand-made responses (no reactor, no server)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.middlewares import ByteScanMetaRefreshMiddleware, cannot_refresh
from crawler.runner import base_settings

URL = "http://www.example.gov.cn/zwgk/post_1.html"
REFRESH = '<meta http-equiv="Refresh" content="0; url=/zwgk/post_2.html">'


def _page(head: str, encoding: str, declared: str | None = None) -> HtmlResponse:
    text = f"<html><head>{head}<title>通知</title></head><body><p>关于做好工作的通知</p></body></html>"
    charset = declared or encoding
    return HtmlResponse(URL, body=text.encode(encoding), request=Request(URL),
                        headers={"Content-Type": f"text/html; charset={charset}"})


def _middleware() -> ByteScanMetaRefreshMiddleware:
    return ByteScanMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict=base_settings("sqlite://", None)))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb18030", "gb2312"])
def test_a_page_without_refresh_is_passed_on_without_decoding(encoding: str) -> None:
    response = _page("", encoding)
    assert cannot_refresh(response)
    assert _middleware().process_response(response.request, response) is response


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-16"])
def test_a_meta_refresh_is_still_followed(encoding: str) -> None:
    response = _page(REFRESH, encoding)
    assert not cannot_refresh(response)
    redirected = _middleware().process_response(response.request, response)
    assert isinstance(redirected, Request)
    assert redirected.url == "http://www.example.gov.cn/zwgk/post_2.html"


def test_an_encoding_that_can_hide_ascii_is_left_to_scrapy() -> None:
    # UTF-16 writes "refresh" with zero bytes between the letters: the byte scan cannot see it
    assert not cannot_refresh(_page("", "utf-16"))
    assert _middleware().process_response(Request(URL), _page("", "utf-16")).status == 200


def test_the_crawl_uses_the_byte_scanning_middleware() -> None:
    middlewares = Settings(base_settings("sqlite://", None)).getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["crawler.middlewares.ByteScanMetaRefreshMiddleware"] == 580


def test_unused_extensions_are_left_out_without_being_imported() -> None:
    import subprocess
    import sys

    code = ("import sys; from crawler.runner import base_settings; from scrapy.settings import Settings;"
            "from scrapy.extension import ExtensionManager;"
            "ExtensionManager._get_mwlist_from_settings(Settings(base_settings('sqlite://', None)));"
            "print('scrapy.extensions.remote_control' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    extensions = Settings(base_settings("sqlite://", None)).getdict("EXTENSIONS_BASE")
    assert "scrapy.extensions.corestats.CoreStats" in extensions
    assert not any(path.endswith(("RemoteControl", "TelnetConsole", "FeedExporter")) for path in extensions)


def test_scrapy_loggers_build_no_record_that_no_handler_would_keep() -> None:
    import logging

    from crawler.runner import _quiet_scrapy_loggers

    root, scrapy_logger = logging.getLogger(), logging.getLogger("scrapy")
    handler = logging.StreamHandler()
    saved = root.handlers[:], scrapy_logger.level
    try:
        root.handlers[:] = [handler]
        handler.setLevel(logging.WARNING)  # the CLI without -v
        _quiet_scrapy_loggers("ERROR")
        assert scrapy_logger.level == logging.WARNING
        handler.setLevel(logging.DEBUG)  # -vv: Scrapy's DEBUG lines still show
        scrapy_logger.setLevel(logging.DEBUG)
        _quiet_scrapy_loggers("ERROR")
        assert scrapy_logger.level == logging.DEBUG
    finally:
        root.handlers[:], level = saved
        scrapy_logger.setLevel(level)
