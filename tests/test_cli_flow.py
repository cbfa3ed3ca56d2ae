"""The README's workflow through the CLI: crawl two releases, then read changes, diffs, structure."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_policywatch

CONTRACT_KEYS = {"id", "type", "detected_at", "source", "document", "version_from", "version_to",
                 "task", "before", "after", "summary"}


@pytest.fixture
def two_releases(replica, replica_config):
    for release in (0, 1):
        replica.set_release(release)
        result = run_policywatch("crawl", "--config", str(replica_config), "--quiet")
        assert result.returncode == 0, result.stderr
    return replica_config


def cli_json(config, *args):
    result = run_policywatch(*args, "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_changes_json_is_the_public_contract(two_releases) -> None:
    events = cli_json(two_releases, "changes")
    assert events, "release 1 must produce events"
    for event in events:
        assert set(event) == CONTRACT_KEYS
        assert set(event["document"]) == {"id", "url", "title", "doc_number"}
        assert event["task"] is None or set(event["task"]) == {"label", "title"}
    types = [e["type"] for e in events]
    assert types.count("new_edition") == 1
    for expected in ("task_added", "task_removed", "target_changed", "responsibility_changed",
                     "task_reworded", "wording_changed"):
        assert expected in types, types
    assert "new_document" not in types  # the 2024 工作要点 is an edition, not a stranger
    # the revised reply is listed by two sources of one site: reported once
    assert types.count("wording_changed") == 1
    only = cli_json(two_releases, "changes", "--type", "task_added")
    assert [e["type"] for e in only] == ["task_added"]
    assert cli_json(two_releases, "changes", "--since", "2999-01-01") == []
    # one document's events; what a script that saw an id has not seen yet
    reply = next(e for e in events if e["type"] == "wording_changed")["document"]
    assert cli_json(two_releases, "changes", "--document", str(reply["id"])) == [
        e for e in events if e["document"] and e["document"]["id"] == reply["id"]]
    assert cli_json(two_releases, "changes", "--document", reply["url"]) == cli_json(
        two_releases, "changes", "--document", str(reply["id"]))
    seen = events[2]["id"]
    assert cli_json(two_releases, "changes", "--after-id", str(seen)) == [e for e in events if e["id"] > seen]
    assert cli_json(two_releases, "changes", "--after-id", str(events[-1]["id"])) == []
    unknown = run_policywatch("changes", "--document", "999999", "--config", str(two_releases))
    assert unknown.returncode == 2 and "no stored document matches" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_diff_history_show_and_compare(two_releases, tmp_path) -> None:
    events = cli_json(two_releases, "changes")
    revised = next(e for e in events if e["type"] == "wording_changed")["document"]["id"]
    history = cli_json(two_releases, "history", str(revised))
    assert [v["seq"] for v in history["versions"]] == [1, 2]

    unified = run_policywatch("diff", str(revised), "--config", str(two_releases))
    assert unified.returncode == 0
    assert "\n-" in unified.stdout and "\n+" in unified.stdout and "积极稳妥推进" in unified.stdout

    payload = json.loads(run_policywatch("diff", str(revised), "--format", "json", "--config",
                                         str(two_releases)).stdout)
    assert payload["stats"]["added"] >= 1 and payload["stats"]["removed"] >= 1
    assert [e["type"] for e in payload["events"]] == ["wording_changed"]

    out = tmp_path / "diff.html"
    html = run_policywatch("diff", str(revised), "--format", "html", "--out", str(out), "--config",
                           str(two_releases))
    assert html.returncode == 0 and "<ins" in out.read_text(encoding="utf-8")

    edition = next(e for e in events if e["type"] == "new_edition")["document"]["id"]
    shown = cli_json(two_releases, "show", str(edition))
    structure = shown["structure"]
    assert structure["metadata"]["year"] == 2024
    assert len(structure["tasks"]) == 34
    text = run_policywatch("show", str(edition), "--config", str(two_releases))
    assert text.returncode == 0 and "牵头" in text.stdout

    previous = [d for d in cli_json(two_releases, "documents", "list")
                if "2023年广东省数字经济工作要点" in d["title"]][0]["id"]
    compared = json.loads(run_policywatch("compare", str(previous), str(edition), "--format", "json",
                                          "--config", str(two_releases)).stdout)
    assert {"task_added", "task_removed", "target_changed"} <= {e["type"] for e in compared["events"]}


def test_documents_list_finds_by_kind_title_number_and_date(two_releases) -> None:
    everything = cli_json(two_releases, "documents", "list", "--limit", "1000")
    assert all("published_on" in d for d in everything)
    # release 1's one new document, the 2024 工作要点, listed by each source that lists it
    recent = cli_json(two_releases, "documents", "list", "--since", "2024-04-01")
    assert recent and {d["title"] for d in recent} == {
        "广东省数字经济发展工作领导小组办公室关于印发2024年广东省数字经济工作要点"}
    assert all(d["published_on"] >= "2024-04-01" for d in recent)
    points = cli_json(two_releases, "documents", "list", "--kind", "work_points")
    assert {d["title"] for d in recent} < {d["title"] for d in points}
    assert all(d["kind"] == "work_points" for d in points)
    replies = cli_json(two_releases, "documents", "list", "--kind", "proposal_reply")
    assert replies and all(d["kind"] == "proposal_reply" for d in replies)
    assert not {d["id"] for d in replies} & {d["id"] for d in points}
    # a piece of the title or of the document number, taken literally (no LIKE wildcards)
    by_number = cli_json(two_releases, "documents", "list", "--match", "〔2021〕253")
    assert by_number and all("〔2021〕253" in (d["doc_number"] or "") + d["title"] for d in by_number)
    assert cli_json(two_releases, "documents", "list", "--match", "%") == [
        d for d in everything if "%" in d["title"] + (d["doc_number"] or "")][:100]
    assert cli_json(two_releases, "documents", "list", "--match", "数字经济", "--since", "2999-01-01") == []
    bad = run_policywatch("documents", "list", "--since", "yesterday", "--config", str(two_releases))
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr and "Traceback" not in bad.stderr
    shown = run_policywatch("documents", "list", "--since", "2024-04-01", "--config", str(two_releases))
    assert shown.returncode == 0 and "published" in shown.stdout.splitlines()[0]
    assert "2024-04-01" in shown.stdout
