"""The CLI as a user types it: every mistake is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_policywatch


def one_line_error(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_then_empty_lists(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_policywatch("init", "--db", db).returncode == 0
    out = run_policywatch("documents", "list", "--db", db, "--format", "json")
    assert out.returncode == 0 and out.stdout.strip() == "[]"
    out = run_policywatch("changes", "--db", db, "--format", "json")
    assert out.returncode == 0 and out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["crawl", "--config", "/nonexistent/pw.toml"], "no such config file"),
        (["crawl", "nosuchsource"], "unknown source 'nosuchsource'"),
        (["crawl", "--url", "not-a-url"], "not an http(s) URL"),
        (["crawl", "--url", "https://example.com/a.html"], "no configured source covers host"),
        (["documents", "list", "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x"], "database"),
        # a crawl starts its helper processes before it opens the database: they end quietly
        (["crawl", "-q", "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x"], "database"),
        (["crawl", "-q", "--db", "nosuchdialect://u:secret@host/x"], "database"),
        (["history", "999"], "no stored document matches"),
        (["changes", "--since", "yesterday"], "not an ISO date"),
    ],
)
def test_user_mistakes_get_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    run_policywatch("init", "--db", db)
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[database]\nurl = "{db}"\n[[sources]]\nname = "s"\nkind = "html_pages"\n'
                      'start_urls = ["http://127.0.0.1:9/index.html"]\n', encoding="utf-8")
    if "--config" not in args:
        args = [*args, "--config", str(config)]
    line = one_line_error(run_policywatch(*args))
    assert fragment in line
    assert "secret" not in line


def test_uninitialised_database_says_run_init(tmp_path: Path) -> None:
    line = one_line_error(run_policywatch("documents", "list", "--db", f"sqlite:///{tmp_path}/new.db"))
    assert "policywatch init" in line
    config = tmp_path / "policywatch.toml"
    config.write_text('[[sources]]\nname = "s"\nkind = "html_pages"\n'
                      'start_urls = ["http://127.0.0.1:9/index.html"]\n', encoding="utf-8")
    line = one_line_error(run_policywatch("crawl", "-q", "--config", str(config),
                                          "--db", f"sqlite:///{tmp_path}/new2.db"))
    assert "policywatch init" in line


def test_unreadable_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_bytes(b"\xff\xfe[[sources]")
    line = one_line_error(run_policywatch("sources", "list", "--config", str(config)))
    assert str(config) in line


def test_help_has_examples() -> None:
    for command in (["crawl"], ["documents", "list"], ["history"], ["changes"], ["demo"]):
        out = run_policywatch(*command, "--help")
        assert out.returncode == 0 and "Example" in out.stdout


def test_a_dead_server_is_reported_once(tmp_path: Path) -> None:
    """A page that failed every retry: recorded, and listed once in the crawl's summary; Scrapy's
    own "Gave up retrying" line only with -v."""
    db = f"sqlite:///{tmp_path / 'x.db'}"
    run_policywatch("init", "--db", db)
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[database]\nurl = "{db}"\n[crawl]\nretry_times = 1\n[[sources]]\nname = "s"\n'
                      'kind = "html_pages"\nobey_robots = false\n'
                      'start_urls = ["http://127.0.0.1:9/index.html"]\n', encoding="utf-8")
    quiet = run_policywatch("crawl", "--config", str(config))
    assert quiet.returncode == 1  # every source failed
    said = [line for line in quiet.stderr.splitlines() if "127.0.0.1:9/index.html" in line]
    assert len(said) == 1 and said[0].startswith("  ! s: "), quiet.stderr
    assert "Traceback" not in quiet.stderr
    verbose = run_policywatch("-v", "crawl", "--config", str(config))
    assert "Gave up retrying" in verbose.stderr


def test_the_kinds_documents_list_offers_are_those_documents_get() -> None:
    from crawler.document.metadata import KINDS
    from monitor.subscriptions import DOCUMENT_KINDS

    assert sorted(DOCUMENT_KINDS) == sorted(KINDS)  # documents list --kind and subscribers' kinds
