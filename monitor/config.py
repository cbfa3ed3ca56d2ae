"""Read policywatch.toml into a typed Config; every error names the file, the source and the key."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.sources import Source, SourceConfigError, source_from_dict

DEFAULT_CONFIG = "policywatch.toml"
DEFAULT_DATABASE_URL = "sqlite:///policywatch.db"
ENV_DATABASE_URL = "POLICYWATCH_DATABASE_URL"
ENV_SMTP_PASSWORD = "POLICYWATCH_SMTP_PASSWORD"

_TOP_LEVEL = {"database", "sources", "builtin_sources", "detection", "smtp", "subscribers", "crawl"}


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line for the user."""


@dataclass
class DetectionSettings:
    baseline: bool = True  # the first crawl of a source flags nothing
    removal_threshold: int = 2  # consecutive 404/410 answers before document_removed


@dataclass
class Config:
    path: Path | None
    database_url: str = DEFAULT_DATABASE_URL
    sources: list[Source] = field(default_factory=list)
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    smtp: dict[str, Any] = field(default_factory=dict)
    subscribers: list[dict[str, Any]] = field(default_factory=list)
    crawl: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known})")


def builtin_source_entries() -> list[dict[str, Any]]:
    """The built-in source definitions shipped as data in crawler/builtin_sources.toml."""
    text = resources.files("crawler").joinpath("builtin_sources.toml").read_text(encoding="utf-8")
    return list(tomllib.loads(text)["sources"])


def load_config(path: str | os.PathLike[str] | None = None, *, required: bool = False) -> Config:
    """Load the TOML config; a missing default file means an empty config.

    The database URL can be overridden with POLICYWATCH_DATABASE_URL so that secrets and
    deployment details stay out of the file.
    """
    explicit = path is not None
    cfg_path = Path(path) if path is not None else Path(DEFAULT_CONFIG)
    data: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{cfg_path}: cannot read: {exc}") from None
    elif explicit or required:
        raise ConfigError(f"{cfg_path}: no such config file")
    config = parse_config(data, cfg_path if cfg_path.exists() else None)
    env_url = os.environ.get(ENV_DATABASE_URL)
    if env_url:
        config.database_url = env_url
    return config


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    for key in data:
        if key not in _TOP_LEVEL:
            raise ConfigError(f"{where}: unknown key {key!r}")
    config = Config(path=path)

    database = data.get("database", {})
    if not isinstance(database, dict):
        raise ConfigError(f"{where}: [database] must be a table")
    for key in database:
        if key != "url":
            raise ConfigError(f"{where}: [database] unknown key {key!r}")
    url = database.get("url", DEFAULT_DATABASE_URL)
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{where}: [database] key 'url' must be a database URL")
    config.database_url = _relative_sqlite(url, path)

    entries = list(data.get("sources", []))
    builtin = data.get("builtin_sources", [])
    if not isinstance(builtin, list):
        raise ConfigError(f"{where}: key 'builtin_sources' must be a list of names")
    if builtin:
        catalog = {e["name"]: e for e in builtin_source_entries()}
        for name in builtin:
            if name not in catalog:
                raise ConfigError(f"{where}: builtin_sources: unknown built-in source {name!r}")
            entries.append(dict(catalog[name]))
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: every [[sources]] entry must be a table")
        try:
            source = source_from_dict(entry)
        except SourceConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"{where}: source {entry.get('name')!r}: {exc}") from None
        if source.name in seen:
            raise ConfigError(f"{where}: source {source.name!r}, key 'name': defined twice")
        seen.add(source.name)
        config.sources.append(source)

    detection = data.get("detection", {})
    if not isinstance(detection, dict):
        raise ConfigError(f"{where}: [detection] must be a table")
    for key, value in detection.items():
        if key == "baseline" and isinstance(value, bool):
            config.detection.baseline = value
        elif key == "removal_threshold" and isinstance(value, int) and value >= 1:
            config.detection.removal_threshold = value
        else:
            raise ConfigError(f"{where}: [detection] key {key!r}: unknown key or bad value")

    for name in ("smtp", "crawl"):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        setattr(config, name, dict(table))
    subscribers = data.get("subscribers", [])
    if not isinstance(subscribers, list) or not all(isinstance(s, dict) for s in subscribers):
        raise ConfigError(f"{where}: [[subscribers]] entries must be tables")
    config.subscribers = [dict(s) for s in subscribers]
    return config


def _relative_sqlite(url: str, path: Path | None) -> str:
    """Resolve a relative SQLite path against the config file's folder, not the cwd."""
    prefix = "sqlite:///"
    if path is None or not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    db_path = url[len(prefix):]
    if not db_path or db_path.startswith("/"):
        return url
    return prefix + str((path.parent / db_path).resolve())
