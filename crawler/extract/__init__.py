"""Extraction: plain functions over (url, bytes) that turn responses into documents; no Scrapy here."""

from .attachments import Attachment
from .encoding import decode_html
from .errors import ExtractionError
from .gkmlpt import (
    Category,
    GkmlptArticle,
    GkmlptPage,
    GkmlptSite,
    find_category,
    gkmlpt_api_url,
    gkmlpt_detail_url,
    parse_gkmlpt_api,
    parse_gkmlpt_index,
)
from .keys import canonical_key
from .listing import Listing, ListItem, extract_listing
from .page import Page, extract_page

__all__ = [
    "Attachment", "Category", "ExtractionError", "GkmlptArticle", "GkmlptPage", "GkmlptSite", "ListItem",
    "Listing", "Page", "canonical_key", "decode_html", "extract_listing", "extract_page", "find_category",
    "gkmlpt_api_url", "gkmlpt_detail_url", "parse_gkmlpt_api", "parse_gkmlpt_index",
]
