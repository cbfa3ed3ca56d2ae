"""Understand Chinese official documents: clean, normalize, outline, tasks, metadata, injected spam."""

from __future__ import annotations

import logging

from .chars import split_sentences
from .clean import clean_text
from .departments import canonical_department
from .render import format_structure
from .understand import normalize_for_compare, understand

logger = logging.getLogger(__name__)

__all__ = [
    "canonical_department",
    "clean_text",
    "format_structure",
    "normalize_for_compare",
    "split_sentences",
    "understand",
]
