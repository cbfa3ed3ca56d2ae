"""A small tolerant reader for JavaScript object literals (no eval): quotes, bare keys, comments, trailing commas."""

from __future__ import annotations

import re
from typing import Any

from .errors import ExtractionError

_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_NUMBER_RE = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_CONSTANTS = {"true": True, "false": False, "null": None, "undefined": None, "NaN": None, "Infinity": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _Reader:
    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def fail(self, what: str) -> ExtractionError:
        return ExtractionError(f"bad JavaScript literal: {what} at offset {self.pos}")

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = len(text) if end < 0 else end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.obj()
        if char == "[":
            return self.array()
        if char in "'\"`":
            return self.string()
        number = _NUMBER_RE.match(self.text, self.pos)
        if number and char in "-.0123456789":
            self.pos = number.end()
            literal = number.group(0)
            if literal.lower().startswith(("0x", "-0x")):
                return int(literal, 16)
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        ident = _IDENT_RE.match(self.text, self.pos)
        if ident:
            self.pos = ident.end()
            name = ident.group(0)
            if self.peek() == "(":  # a call such as new Date(...) or decodeURI('...'): keep its first argument
                return self.call()
            if name == "new":
                return self.value()
            return _CONSTANTS.get(name, name)
        raise self.fail(f"unexpected {char!r}")

    def call(self) -> Any:
        self.pos += 1
        result = None if self.peek() == ")" else self.value()
        depth = 1
        while self.pos < len(self.text) and depth:
            char = self.peek()
            if char in "'\"`":
                self.string()
                continue
            depth += {"(": 1, ")": -1}.get(char, 0)
            self.pos += 1
        return result

    def string(self) -> str:
        text = self.text
        quote = text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if nxt == "u" and text[self.pos + 2:self.pos + 3] == "{":
                    end = text.index("}", self.pos)
                    out.append(chr(int(text[self.pos + 3:end], 16)))
                    self.pos = end + 1
                    continue
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[self.pos + 2:self.pos + 6]):
                    code = int(text[self.pos + 2:self.pos + 6], 16)
                    self.pos += 6
                    if 0xD800 <= code < 0xDC00 and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}",
                                                                 text[self.pos:self.pos + 6]):
                        low = int(text[self.pos + 2:self.pos + 6], 16)
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        self.pos += 6
                    out.append(chr(code))
                    continue
                if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[self.pos + 2:self.pos + 4]):
                    out.append(chr(int(text[self.pos + 2:self.pos + 4], 16)))
                    self.pos += 4
                    continue
                if nxt == "\n":
                    self.pos += 2
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")

    def key(self) -> str:
        char = self.peek()
        if char in "'\"`":
            return self.string()
        match = _IDENT_RE.match(self.text, self.pos) or _NUMBER_RE.match(self.text, self.pos)
        if not match:
            raise self.fail(f"bad key {char!r}")
        self.pos = match.end()
        return match.group(0)

    def obj(self) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            char = self.peek()
            if char == "}":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            if not char:
                raise self.fail("unterminated object")
            name = self.key()
            if self.peek() != ":":
                result[name] = name  # shorthand property
                continue
            self.pos += 1
            result[name] = self.value()

    def array(self) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            char = self.peek()
            if char == "]":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            if not char:
                raise self.fail("unterminated array")
            result.append(self.value())


def parse_js_value(text: str, pos: int = 0) -> tuple[Any, int]:
    """Parse one JavaScript literal starting at pos; return (value, end offset)."""
    reader = _Reader(text, pos)
    value = reader.value()
    return value, reader.pos


def find_js_assignment(text: str, name: str) -> Any:
    """Return the literal assigned to name (e.g. window._CONFIG) in a page's scripts, or raise ExtractionError."""
    pattern = re.compile(re.escape(name) + r"\s*=\s*")
    for match in pattern.finditer(text):
        try:
            value, _ = parse_js_value(text, match.end())
        except (ExtractionError, ValueError):
            continue
        return value
    raise ExtractionError(f"no {name} found")
