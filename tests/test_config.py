"""The TOML config: the fixed format loads, every mistake names the file, the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config

GOOD = """
[database]
url = "sqlite:///policywatch.db"

[[sources]]
name = "gdii-notices"
kind = "html_pages"          # list pages in HTML; "gkmlpt_api" for the platform's JSON list API
start_urls = ["https://gdii.gd.gov.cn/zwgk/tzgg1011/index.html"]
allowed_domains = ["gdii.gd.gov.cn"]
schedule = "0 7 * * *"

[[sources]]
name = "gd-gkmlpt"
kind = "gkmlpt_api"
site = "https://www.gd.gov.cn"
categories = [5]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policywatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_fixed_format_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert [s.name for s in config.sources] == ["gdii-notices", "gd-gkmlpt"]
    assert config.sources[0].kind == "html_pages"
    assert config.sources[1].categories == [5]
    assert config.sources[1].entry_urls() == ["https://www.gd.gov.cn/gkmlpt/index"]
    # a relative SQLite path is relative to the config file, not to the cwd
    assert config.database_url == f"sqlite:///{tmp_path / 'policywatch.db'}"


def test_database_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", "postgresql+psycopg://pw@localhost/pw")
    assert load_config(write(tmp_path, GOOD)).database_url == "postgresql+psycopg://pw@localhost/pw"


def test_builtin_sources_by_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'builtin_sources = ["gdii-notices", "gxj-replies"]\n'))
    names = {s.name: s for s in config.sources}
    assert names["gdii-notices"].start_urls == ["https://gdii.gd.gov.cn/zwgk/tzgg1011/index.html"]
    assert "gxj.gz.gov.cn" in names["gxj-replies"].domains()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace('kind = "gkmlpt_api"', 'kind = "rss"'), "source 'gd-gkmlpt', key 'kind'"),
        (GOOD.replace("categories = [5]", "categories = [5]\nselector = 'x'"),
         "source 'gd-gkmlpt', key 'selector'"),
        (GOOD.replace('start_urls = ["https://gdii.gd.gov.cn/zwgk/tzgg1011/index.html"]',
                      'start_urls = ["ftp://x"]'), "source 'gdii-notices', key 'start_urls'"),
        (GOOD.replace('schedule = "0 7 * * *"', 'schedule = "daily"'),
         "source 'gdii-notices', key 'schedule'"),
        (GOOD.replace("categories = [5]", 'categories = "5"'), "source 'gd-gkmlpt', key 'categories'"),
        (GOOD.replace('site = "https://www.gd.gov.cn"\n', ""), "source 'gd-gkmlpt', key 'site'"),
        (GOOD + '\n[[sources]]\nname = "gd-gkmlpt"\nkind = "gkmlpt_api"\nsite = "https://a.b"\n'
                'categories = [1]\n', "defined twice"),
        (GOOD + "\n[mail]\nx = 1\n", "unknown key 'mail'"),
        ("[[sources]\nname=", "not valid TOML"),
        ('builtin_sources = ["nope"]', "unknown built-in source 'nope'"),
    ],
)
def test_bad_config_names_file_source_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert fragment in message
    assert "\n" not in message


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")
