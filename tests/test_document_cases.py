"""Table-driven accuracy cases for understand(): tests/fixtures/document/understand_cases.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.document import understand

CASES = json.loads((Path(__file__).parent / "fixtures" / "document" / "understand_cases.json").read_text("utf-8"))["cases"]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if part == "#":
            return len(obj)
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


@pytest.mark.parametrize(
    ("case", "path"),
    [(c, p) for c in CASES for p in c["expect"]],
    ids=[f"{c['name']}:{p}" for c in CASES for p in c["expect"]],
)
def test_case(case: dict[str, Any], path: str) -> None:
    structure = understand(case["text"], title=case.get("title"), page_metadata=case.get("page_metadata"))
    assert _get(structure, path) == case["expect"][path]
