"""Options and helpers shared by every CLI command module."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from monitor.config import Config, load_config


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--config and --db on every command."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                  help="Config file (default: ./policywatch.toml).")
    @click.option("--db", "database_url", default=None,
                  help="Database URL, overriding the config (e.g. sqlite:///pw.db).")
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, database_url: str | None, **kwargs: Any) -> Any:
        config = load_config(config_path)
        if database_url:
            config.database_url = database_url
        return func(*args, config=config, **kwargs)

    return wrapper


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                        show_default=True, help="Output for people (table) or scripts (json).")(func)


def open_db(config: Config) -> Any:
    from storage.db import check_schema, make_engine, session_factory  # not at import (monitor.cli)

    engine = make_engine(config.database_url)
    check_schema(engine)
    return session_factory(engine)


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO date or time: {value!r}", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
