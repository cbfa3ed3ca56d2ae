"""Subscribers from the config and the CLI; every bad entry is a one-line error naming the key."""

from __future__ import annotations

import json

import pytest

from monitor.config import ConfigError, load_config
from monitor.digest import header_safe, safe_url
from monitor.mailer import smtp_settings
from monitor.subscriptions import config_subscribers, matches
from tests.conftest import run_cli, run_policywatch

SMTP = """
[smtp]
host = "smtp.example.org"
port = 587
security = "starttls"
username = "watcher"
sender = "policywatch <watcher@example.org>"
"""


def write(tmp_path, db_url, text: str):
    path = tmp_path / "policywatch.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n{text}', encoding="utf-8")
    return path


def test_fixed_format_loads(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, SMTP + """
[[subscribers]]
email = "analyst@example.org"
cadence = "daily"
keywords = ["数字经济"]
""")
    config = load_config(path)
    settings = smtp_settings(config)
    assert (settings.host, settings.port, settings.security, settings.username) == \
        ("smtp.example.org", 587, "starttls", "watcher")
    assert settings.sender.addr_spec == "watcher@example.org"
    assert config_subscribers(config) == [
        {"email": "analyst@example.org", "cadence": "daily", "filters": {"keywords": ["数字经济"]}}]


@pytest.mark.parametrize("text, message", [
    ('[smtp]\nhost = "h"\nsecurity = "tls"\nsender = "a@b.org"\n', "[smtp] key 'security'"),
    ('[smtp]\nhost = "h"\nport = "25"\nsender = "a@b.org"\n', "[smtp] key 'port'"),
    ('[smtp]\nhost = "h"\nsender = "not an address"\n', "[smtp] key 'sender'"),
    ('[smtp]\nhost = "h"\nsender = "a@b.org"\npassword = "x"\n', "POLICYWATCH_SMTP_PASSWORD"),
    ('[smtp]\nhost = "h"\nsender = "a@b.org"\nhots = "x"\n', "[smtp] unknown key 'hots'"),
    ('[[subscribers]]\nemail = "bad@@x"\n', "key 'email': not a valid email address"),
    ('[[subscribers]]\nemail = "a@example.org"\ncadence = "hourly"\n', "key 'cadence'"),
    ('[[subscribers]]\nemail = "a@example.org"\ntypes = ["task_invented"]\n', "key 'types'"),
    ('[[subscribers]]\nemail = "a@example.org"\nkinds = ["memo"]\n', "key 'kinds'"),
    ('[[subscribers]]\nemail = "a@example.org"\nfrequency = "daily"\n', "unknown key 'frequency'"),
    ('[[subscribers]]\nemail = "a@example.org"\n[[subscribers]]\nemail = "A@example.org"\n', "defined twice"),
])
def test_bad_entries_are_one_line_errors(tmp_path, db_url, text, message) -> None:
    path = write(tmp_path, db_url, text)
    config = load_config(path)
    with pytest.raises(ConfigError) as err:
        if text.startswith("[smtp]"):
            smtp_settings(config)
        else:
            config_subscribers(config)
    assert message in str(err.value) and "\n" not in str(err.value)
    # and through the CLI: one line on stderr, exit 2, no traceback
    result = run_policywatch("digest", "--send", "--config", str(path)) if text.startswith("[smtp]") \
        else run_policywatch("subscribers", "list", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_add_list_remove_through_the_cli(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, '[[subscribers]]\nemail = "config@example.org"\ncadence = "weekly"\n')
    result = run_cli("subscribers", "add", "me@example.org", "--cadence", "immediate", "--keyword", "人工智能",
                     "--type", "task_added", "--kind", "work_points", "--department", "省科技厅",
                     "--config", str(path))
    assert result.exit_code == 0 and result.output.strip() == "added me@example.org (immediate)"
    items = json.loads(run_cli("subscribers", "list", "--format", "json", "--config", str(path)).output)
    by_email = {i["email"]: i for i in items}
    assert by_email["config@example.org"]["origin"] == "config"
    assert by_email["config@example.org"]["cadence"] == "weekly"
    assert by_email["me@example.org"]["filters"] == {
        "types": ["task_added"], "keywords": ["人工智能"], "departments": ["省科技厅"], "kinds": ["work_points"]}
    assert "me@example.org" in run_cli("subscribers", "list", "--config", str(path)).output

    # update in place
    assert run_cli("subscribers", "add", "me@example.org", "--cadence", "weekly",
                   "--config", str(path)).output.strip() == "updated me@example.org (weekly)"

    result = run_policywatch("subscribers", "remove", "config@example.org", "--config", str(path))
    assert result.returncode == 1 and "defined in the config file" in result.stderr
    assert run_cli("subscribers", "remove", "me@example.org", "--config", str(path)).exit_code == 0
    result = run_policywatch("subscribers", "remove", "me@example.org", "--config", str(path))
    assert result.returncode == 1 and "no subscriber 'me@example.org'" in result.stderr

    # a config subscriber that leaves the config leaves the table
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    assert json.loads(run_cli("subscribers", "list", "--format", "json", "--config", str(path)).output) == []


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "x@-bad-.org", "a b@example.org",
                                     "a@example.org\r\nBcc: evil@x.org", "<a@example.org>", ""])
def test_invalid_address_is_refused(tmp_path, db_url, address) -> None:
    path = write(tmp_path, db_url, "")
    result = run_policywatch("subscribers", "add", address, "--config", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a valid email address" in lines[0]


def test_unknown_source_filter_is_refused_when_sources_are_configured(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, '[[sources]]\nname = "gdii-notices"\nkind = "html_pages"\n'
                 'start_urls = ["https://gdii.gd.gov.cn/zwgk/tzgg1011/index.html"]\n')
    result = run_policywatch("subscribers", "add", "a@example.org", "--source", "nope", "--config", str(path))
    assert result.returncode == 1 and "unknown source 'nope'" in result.stderr


def test_matching_rules() -> None:
    event = {"type": "task_reworded", "source": "gz-zcjd", "summary": "任务 (二) 表述修改",
             "document": {"title": "2024年数字经济工作要点", "kind": None},
             "task": {"label": "(二)", "title": "推进数据要素"}, "before": "省科技厅牵头", "after": "省工业和信息化厅牵头",
             "details": {"roles": {"lead": {"added": ["省工业和信息化厅"]}}}, "departments": []}
    assert matches(event, {})
    assert matches(event, {"keywords": ["数字经济"]})  # in the title
    assert matches(event, {"keywords": ["推进数据要素"]})  # the task title
    assert not matches(event, {"keywords": ["人工智能"]})
    assert matches(event, {"departments": ["省工业和信息化厅"]})
    assert not matches(event, {"departments": ["省教育厅"]})
    assert matches(event, {"kinds": ["other"]})  # no kind stored counts as "other"
    assert not matches(event, {"kinds": ["notice"]})
    assert not matches(event, {"sources": ["gdii-notices"]})
    assert not matches(event, {"keywords": ["数字经济"], "types": ["task_added"]})


def test_header_safe() -> None:
    assert header_safe("a\r\nBcc: x\x00\u2028y\tz") == "a Bcc: x y z"
    assert header_safe("广" * 50, 10) == "广" * 9 + "…"


def test_only_http_links_go_into_href() -> None:
    assert safe_url("https://gdii.gd.gov.cn/content/post_1.html") == "https://gdii.gd.gov.cn/content/post_1.html"
    assert safe_url("javascript:alert(1)") == "#" and safe_url(" data:text/html,x") == "#"
