"""Source kinds: what a configured source says and how its options are checked.

Each kind registers itself by its ``kind`` name (urlwatch's pattern), so a config entry picks
its list strategy by name and an unknown option is an error rather than silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36 policywatch/0.1"
)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CRON_FIELDS = 5


class SourceConfigError(ValueError):
    """A source entry is invalid; ``key`` names the offending option."""

    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(f"source {source!r}, key {key!r}: {message}")
        self.source = source
        self.key = key


@dataclass
class Source:
    """A configured source; subclasses add the options of their kind."""

    name: str
    kind: ClassVar[str] = ""
    schedule: str | None = None
    allowed_domains: list[str] = field(default_factory=list)
    user_agent: str = DEFAULT_USER_AGENT
    max_pages: int = 50
    description: str = ""
    # politeness (issue 6 builds on these)
    download_delay: float = 0.5
    concurrency_per_domain: int = 2
    obey_robots: bool = True
    # every Nth run walks every list page; the runs between stop at the first list page that
    # brings only known documents (1: every run is a full sweep)
    full_sweep_every: int = 10

    registry: ClassVar[dict[str, type[Source]]] = {}
    common_options: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "name": str,
        "kind": str,
        "schedule": str,
        "allowed_domains": list,
        "user_agent": str,
        "max_pages": int,
        "description": str,
        "download_delay": (int, float),
        "concurrency_per_domain": int,
        "obey_robots": bool,
        "full_sweep_every": int,
    }
    options: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    required: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Source.registry[cls.kind] = cls

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Source:
        """Build and validate a source from a config table."""
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise SourceConfigError(str(name), "name", "must be a short name of letters, digits, -_.")
        kind = entry.get("kind")
        if kind not in Source.registry:
            known = ", ".join(sorted(Source.registry))
            raise SourceConfigError(name, "kind", f"unknown kind {kind!r} (known: {known})")
        klass = Source.registry[kind]
        allowed = {**Source.common_options, **klass.options}
        for key, value in entry.items():
            if key not in allowed:
                raise SourceConfigError(name, key, "unknown option")
            expected = allowed[key]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise SourceConfigError(name, key, f"has the wrong type ({type(value).__name__})")
        for key in klass.required:
            if key not in entry:
                raise SourceConfigError(name, key, "is required")
        values = {k: v for k, v in entry.items() if k != "kind"}
        source = klass(**values)
        source.validate()
        return source

    def validate(self) -> None:
        if self.schedule is not None and len(self.schedule.split()) != _CRON_FIELDS:
            raise SourceConfigError(self.name, "schedule", "must be a 5-field cron expression")
        if self.max_pages < 1:
            raise SourceConfigError(self.name, "max_pages", "must be at least 1")
        if self.full_sweep_every < 1:
            raise SourceConfigError(self.name, "full_sweep_every", "must be at least 1")
        if self.download_delay < 0:
            raise SourceConfigError(self.name, "download_delay", "must not be negative")
        if self.concurrency_per_domain < 1:
            raise SourceConfigError(self.name, "concurrency_per_domain", "must be at least 1")
        if not self.user_agent.strip():
            raise SourceConfigError(self.name, "user_agent", "must not be empty")
        for domain in self.allowed_domains:
            if not isinstance(domain, str) or not domain or "/" in domain:
                raise SourceConfigError(self.name, "allowed_domains", f"bad domain {domain!r}")

    def entry_urls(self) -> list[str]:
        """URLs a crawl of this source starts from (for display and domain checks)."""
        return []

    def domains(self) -> list[str]:
        """Allowed domains: the configured ones, else the hosts of the entry URLs."""
        if self.allowed_domains:
            return list(self.allowed_domains)
        return sorted({urlsplit(u).hostname or "" for u in self.entry_urls()} - {""})

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "schedule": self.schedule,
            "urls": self.entry_urls(),
            "allowed_domains": self.domains(),
            "description": self.description,
        }


def _check_url(source: str, key: str, url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(source, key, f"not an http(s) URL: {url!r}")


@dataclass
class HtmlPagesSource(Source):
    """HTML list pages (index.html → index_2.html …) linking detail pages."""

    kind: ClassVar[str] = "html_pages"
    options: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "start_urls": list,
        "item_selector": str,
        "next_selector": str,
    }
    required: ClassVar[tuple[str, ...]] = ("start_urls",)
    start_urls: list[str] = field(default_factory=list)
    item_selector: str | None = None
    next_selector: str | None = None

    def validate(self) -> None:
        super().validate()
        if not self.start_urls:
            raise SourceConfigError(self.name, "start_urls", "must list at least one URL")
        for url in self.start_urls:
            _check_url(self.name, "start_urls", url)

    def entry_urls(self) -> list[str]:
        return list(self.start_urls)


@dataclass
class GkmlptApiSource(Source):
    """The gkmlpt disclosure platform's JSON list API (most Guangdong sites)."""

    kind: ClassVar[str] = "gkmlpt_api"
    options: ClassVar[dict[str, type | tuple[type, ...]]] = {"site": str, "categories": list}
    required: ClassVar[tuple[str, ...]] = ("site", "categories")
    site: str = ""
    categories: list[int] = field(default_factory=list)

    def validate(self) -> None:
        super().validate()
        _check_url(self.name, "site", self.site)
        self.site = self.site.rstrip("/")
        if not self.categories or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in self.categories
        ):
            raise SourceConfigError(self.name, "categories", "must be a list of category ids")

    def entry_urls(self) -> list[str]:
        return [f"{self.site}/gkmlpt/index"]


def source_from_dict(entry: dict[str, Any]) -> Source:
    """Build a source of the kind the entry names."""
    return Source.from_dict(entry)
