"""The compare engine on real documents: noise gives nothing, each real change gives exactly its event.

Every seed case runs through two structure builders: ``mini`` (a test-only extractor, see
test_compare_support.py: tests the engine alone) and ``understand`` (crawler.document, the
production path; skipped while that package is not importable).
"""

from __future__ import annotations

import re

import pytest
from test_compare_support import (
    crawler_document,
    insert_task,
    mini_view,
    remove_task,
    seed,
    understand_view,
)

from monitor.compare import compare_editions, compare_versions
from monitor.events import EVENT_TYPES, EventDraft, VersionView
from monitor.textdiff import compare_key

TEST_ALIASES = {"省政务服务数据管理局": "省政务和数据局", "省政务服务和数据管理局": "省政务和数据局"}


def test_alias(name: str) -> str:
    return TEST_ALIASES.get(name, name)


test_alias.__test__ = False  # not a test


BUILDERS = ["mini", "understand"]


def build(builder: str, raw: str, *, injected: list[dict] | None = None) -> VersionView:
    if builder == "understand":
        if crawler_document() is None:
            pytest.skip("crawler.document.understand not available yet")
        return understand_view(raw)
    return mini_view(raw, injected=injected)


def compare(builder: str, old_raw: str, new_raw: str, **kw) -> list[EventDraft]:
    old, new = build(builder, old_raw, **kw.pop("old_kw", {})), build(builder, new_raw, **kw.pop("new_kw", {}))
    canon = test_alias if builder == "mini" else None  # understand: crawler's own alias table
    return compare_versions(old, new, canonical_department=canon)


def kinds(events: list[EventDraft]) -> list[tuple[str, str | None]]:
    return [(str(e.type), e.task_label) for e in events]


SEED1 = seed(1)


# --------------------------------------------------------------------------------------------
# noise: each kind alone gives no event
# --------------------------------------------------------------------------------------------


def _reflow(text: str) -> str:
    """PDF reflow done differently: every space gone, new spaces every 17 characters inside long
    lines, and one paragraph broken across a blank line elsewhere."""
    out = []
    for line in text.split("\n"):
        s = line.replace(" ", "")
        if len(s) > 40:
            s = " ".join(s[i : i + 17] for i in range(0, len(s), 17))
        out.append(s)
    text = "\n".join(out)
    text = text.replace("(十二)加快培育数据要素市场。编制《广东省数据条\n\n例》", "(十二)加快培育数据要素市场。编制《广东省数据条例》")
    return text.replace("深入推进国家数字服务出口基地", "深入推进国家数字服务\n\n出口基地")


def _widths(text: str) -> str:
    """Half-width punctuation swapped for full-width (，（）：；)."""
    return text.translate(str.maketrans({",": "\uff0c", "(": "\uff08", ")": "\uff09", ":": "\uff1a", ";": "\uff1b"}))


def _chrome(text: str) -> str:
    return text.replace("浏览量:2113", "浏览量:2568\n分享到:微信 微博 QQ空间\n【打印】【关闭】")


def _reencode(text: str) -> str:
    return text.encode("gb18030").decode("gb18030").replace("\n", "\r\n")


NOISE = {"reflow": _reflow, "width": _widths, "view-counter+share": _chrome, "re-encoded": _reencode}


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("noise", list(NOISE))
def test_noise_gives_no_event(builder: str, noise: str) -> None:
    new = NOISE[noise](SEED1)
    assert new != SEED1
    assert compare(builder, SEED1, new) == []


@pytest.mark.parametrize("builder", BUILDERS)
def test_identical_gives_no_event(builder: str) -> None:
    assert compare(builder, SEED1, SEED1) == []


# --------------------------------------------------------------------------------------------
# real changes: exactly their event, with the right task label
# --------------------------------------------------------------------------------------------

REWORD_OLD = "开展数据资产合规登记工作,完善广东数据资产登记合规委员会工作机制。"
REWORD_NEW = "全面开展数据资产合规登记工作,完善广东数据资产登记合规委员会工作机制。"

CHANGES = [
    # (id, edit, expected [(type, label)])
    ("task inserted in the middle", insert_task, [("task_added", "(三)")]),
    ("task removed", remove_task, [("task_removed", "(五)")]),
    ("sentence reworded mid-paragraph",
     lambda t: t.replace("开展数据资产合规登记工作", "全面开展数据资产合规登记工作"),
     [("task_reworded", "(十二)")]),
    ("lead department changed",
     lambda t: t.replace("(省工业和信息化厅牵头,省税务局", "(省科技厅牵头,省税务局"),
     [("responsibility_changed", "(二)")]),
    ("target 5000 -> 6000", lambda t: t.replace("新增推动 5000 家", "新增推动 6000 家"),
     [("target_changed", "(六)")]),
    ("department renamed (alias table)",
     lambda t: t.replace("(省政务服务数据管理局 牵头,相关市政府落实)", "(省政务和数据局牵头,相关市政府落实)"),
     []),
    ("text outside tasks", lambda t: t.replace("全面建设数字经济强省", "加快建设数字经济强省"),
     [("wording_changed", None)]),
    ("section heading reworded", lambda t: t.replace("四、加快数字技术创新", "四、加快数字技术创新突破"),
     [("wording_changed", None)]),
]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_change_gives_exactly_its_event(builder: str, edit, expected) -> None:
    new = edit(SEED1)
    assert new != SEED1
    events = compare(builder, SEED1, new)
    assert kinds(events) == expected, [e.summary for e in events]
    for e in events:
        assert e.type in EVENT_TYPES
        assert e.summary and "\n" not in e.summary
        assert e.before is None or len(e.before) <= 300
        assert e.after is None or len(e.after) <= 300


@pytest.mark.parametrize("builder", BUILDERS)
def test_task_added_names_the_task(builder: str) -> None:
    [e] = compare(builder, SEED1, insert_task(SEED1))
    assert e.task_title and "发展人工智能产业" in e.task_title
    assert e.summary.startswith("新增任务 (三)") and "发展人工智能产业" in e.summary
    assert e.before is None and "大模型" in e.after


@pytest.mark.parametrize("builder", BUILDERS)
def test_task_removed_names_the_task(builder: str) -> None:
    [e] = compare(builder, SEED1, remove_task(SEED1))
    assert "发展信创产业" in (e.task_title or "")
    assert e.after is None and "信创" in e.before


@pytest.mark.parametrize("builder", BUILDERS)
def test_reworded_sentence_is_the_excerpt(builder: str) -> None:
    [e] = compare(builder, SEED1, SEED1.replace("开展数据资产合规登记工作", "全面开展数据资产合规登记工作"))
    assert compare_key(e.before) == compare_key(REWORD_OLD)
    assert compare_key(e.after) == compare_key(REWORD_NEW)
    assert "加快培育数据要素市场" in (e.task_title or "")


@pytest.mark.parametrize("builder", BUILDERS)
def test_responsibility_details(builder: str) -> None:
    [e] = compare(builder, SEED1, SEED1.replace("(省工业和信息化厅牵头,省税务局", "(省科技厅牵头,省税务局"))
    assert e.details["roles"]["lead"] == {"added": ["省科技厅"], "removed": ["省工业和信息化厅"]}
    assert "省工业和信息化厅牵头" in compare_key(e.before)
    assert "省科技厅牵头" in compare_key(e.after)


@pytest.mark.parametrize("builder", BUILDERS)
def test_target_before_after(builder: str) -> None:
    [e] = compare(builder, SEED1, SEED1.replace("新增推动 5000 家", "新增推动 6000 家"))
    assert "5000家" in compare_key(e.before) and "6000家" in compare_key(e.after)
    assert "6000" not in e.before and "5000" not in e.after


@pytest.mark.parametrize("builder", BUILDERS)
def test_several_changes_together(builder: str) -> None:
    new = insert_task(SEED1)
    new = new.replace("新增推动 5000 家", "新增推动 6000 家")
    new = new.replace("开展数据资产合规登记工作", "全面开展数据资产合规登记工作")
    assert kinds(compare(builder, SEED1, new)) == [
        ("task_added", "(三)"), ("target_changed", "(七)"), ("task_reworded", "(十三)")
    ]


# --------------------------------------------------------------------------------------------
# injected spam (seed 002)
# --------------------------------------------------------------------------------------------

SEED2 = seed(2)
SPAM = [{"text": "买球", "kind": "gambling", "where": "before title"},
        {"text": "买球-线上买球-买球网站", "kind": "gambling", "where": "signature"}]


def _without_spam(text: str) -> str:
    lines = [ln for ln in text.split("\n") if ln.strip() not in ("买球", "买球-线上买球-买球网站")]
    return "\n".join(lines).replace("买球 关于", "关于")


@pytest.mark.parametrize("builder", BUILDERS)
def test_injected_spam_is_content_injected_not_wording(builder: str) -> None:
    clean = _without_spam(SEED2)
    events = compare(builder, clean, SEED2, new_kw={"injected": SPAM})
    assert kinds(events) == [("content_injected", None)], [e.summary for e in events]
    [e] = events
    assert "买球" in e.after and "赌博" in e.summary
    assert not any(ev.type == "wording_changed" for ev in events)


@pytest.mark.parametrize("builder", BUILDERS)
def test_spam_already_there_is_not_new(builder: str) -> None:
    events = compare(builder, SEED2, SEED2.replace("加强关键数字技术创新应用", "加强关键数字技术攻关应用"),
                     old_kw={"injected": SPAM}, new_kw={"injected": SPAM})
    assert [str(e.type) for e in events] == ["wording_changed"] or [str(e.type) for e in events] == [
        "task_reworded"
    ]


# --------------------------------------------------------------------------------------------
# editions
# --------------------------------------------------------------------------------------------


def edition_2024(text: str) -> str:
    """A 2024 edition derived from seed 001: a task added, one removed, one target moved, a
    lead department changed and a sentence reworded; the year changed everywhere."""
    t = text.replace("2023", "2024").replace("2023 年", "2024 年")
    t = t.replace("(省工业和信息化厅牵头,省税务局", "(省科技厅牵头,省税务局")
    t = t.replace("新增推动 5000 家", "新增推动 6000 家")
    t = t.replace("开展数据资产合规登记工作", "全面开展数据资产合规登记工作")
    t = insert_task(t)
    # remove old (五) 发展信创产业, which is (六) after the insertion
    return remove_task(t, "(六)")


@pytest.mark.parametrize("builder", BUILDERS)
def test_edition_events(builder: str) -> None:
    old, new = build(builder, SEED1), build(builder, edition_2024(SEED1))
    canon = test_alias if builder == "mini" else None
    events = compare_editions(old, new, canonical_department=canon)
    assert kinds(events) == [
        ("responsibility_changed", "(二)"),
        ("task_added", "(三)"),
        ("task_removed", "(五)"),
        ("target_changed", "(六)"),
        ("task_reworded", "(十二)"),
    ], [e.summary for e in events]
    assert "发展信创产业" in events[2].summary


def test_edition_metadata_reports_issuer_not_dates() -> None:
    old = _view(tasks=[], metadata={"title": "2023年广东省数字经济工作要点", "issuer": "省工业和信息化厅",
                                    "doc_number": "粤工信数字产业函〔2022〕13号", "published": "2022-04-01"})
    new = _view(tasks=[], metadata={"title": "2024年广东省数字经济工作要点", "issuer": "省数字经济发展工作领导小组办公室",
                                    "doc_number": "粤数经办〔2024〕1号", "published": "2024-04-01"})
    events = compare_editions(old, new)
    assert [(str(e.type), e.details["field"]) for e in events] == [("metadata_changed", "issuer")]


# --------------------------------------------------------------------------------------------
# the engine on hand-built structures
# --------------------------------------------------------------------------------------------


def _task(label: str, title: str, body: str, clause: str = "省工业和信息化厅牵头", **roles) -> dict:
    return {"label": label, "title": title, "text": f"{label}{title}。{body}({clause})", "clause": clause,
            "lead": roles.get("lead", ["省工业和信息化厅"]), "responsible": roles.get("responsible", []),
            "implementing": roles.get("implementing", []), "targets": roles.get("targets", [])}


def _view(tasks: list[dict], metadata: dict | None = None, text: str | None = None, injected=None,
          attachments=None) -> VersionView:
    meta = {"title": "测试文件"} | (metadata or {})
    if text is None:
        text = "\n".join([meta["title"], "一、总体要求"] + [t["text"] for t in tasks])
    return VersionView(title=meta["title"], normalized_text=text,
                       structure={"metadata": meta, "tasks": tasks, "injected": injected or []},
                       attachments=attachments or [])


T1 = _task("(一)", "建设信息网络基础设施", "提升5G网络覆盖水平,新建5G基站2万座。")
T2 = _task("(二)", "发展数字产业", "培育一批龙头企业。推动软件产业提质增效。")
T3 = _task("(三)", "推进数据共享", "完善数据共享机制。", "省政务服务数据管理局牵头", lead=["省政务服务数据管理局"])


def test_hand_built_rename_is_no_event_with_alias_table() -> None:
    t3b = _task("(三)", "推进数据共享", "完善数据共享机制。", "省政务和数据局牵头", lead=["省政务和数据局"])
    old, new = _view([T1, T2, T3]), _view([T1, T2, t3b])
    assert compare_versions(old, new, canonical_department=test_alias) == []
    # without the alias table the same rename is a responsibility change
    ev = compare_versions(old, new, canonical_department=lambda n: n)
    assert kinds(ev) == [("responsibility_changed", "(三)")]


def test_hand_built_relabel_only_gives_nothing() -> None:
    relabeled = [dict(T1), dict(T2, label="(三)", text=T2["text"].replace("(二)", "(三)"))]
    assert compare_versions(_view([T1, T2]), _view(relabeled)) == []


def test_hand_built_whitespace_and_width_inside_task_text() -> None:
    t2b = dict(T2, text=T2["text"].replace("。", "。 ").replace(",", ",").replace("(", "(").replace("培育", "培 育"))
    assert compare_versions(_view([T1, T2]), _view([T1, t2b])) == []


def test_hand_built_target_without_structure_targets() -> None:
    t1b = dict(T1, text=T1["text"].replace("2万座", "3万座"))
    [e] = compare_versions(_view([T1, T2]), _view([t1b, T2]))
    assert (str(e.type), e.task_label) == ("target_changed", "(一)")
    assert e.before == "2万座" and e.after == "3万座"


def test_hand_built_metadata_changes() -> None:
    old = _view([T1], {"doc_number": "粤办函〔2023〕297号", "signed_on": "2023-11-07", "validity": "有效"})
    new = _view([T1], {"doc_number": "粤办函〔2023〕298号", "signed_on": "2023/11/07", "validity": "失效"})
    events = compare_versions(old, new)
    assert [(str(e.type), e.details["field"]) for e in events] == [
        ("metadata_changed", "doc_number"), ("metadata_changed", "validity")]
    assert events[1].summary == "有效性变更:有效 → 失效"


@pytest.mark.parametrize(
    ("old_atts", "new_atts", "expected"),
    [
        ([], [{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "x"}], ["added"]),
        ([{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "x"}], [], ["removed"]),
        ([{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "x"}],
         [{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "y"}], ["content"]),
        ([{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "x"}],
         [{"url": "/b.pdf", "name": "附件1.pdf", "content_hash": "x"}], []),  # moved, same file
        ([{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": None}],
         [{"url": "/a.pdf", "name": "附件1.pdf", "content_hash": "y"}], []),  # unknown hash: no evidence
    ],
)
def test_attachments(old_atts, new_atts, expected) -> None:
    events = compare_versions(_view([T1], attachments=old_atts), _view([T1], attachments=new_atts))
    assert [e.details["change"] for e in events] == expected
    assert all(e.type == "attachment_changed" for e in events)


def test_moved_task_is_not_added_and_removed() -> None:
    assert kinds(compare_versions(_view([T1, T2, T3]), _view([T3, T1, T2]))) == []


def test_all_tasks_rewritten_alignment_stays_one_to_one() -> None:
    old = [_task(f"({c})", f"任务{c}", f"第{c}项工作的内容包括数据共享和平台建设以及人才培养。") for c in "一二三四"]
    new = [dict(t, text=t["text"].replace("人才培养", "人才引进")) for t in old]
    events = compare_versions(_view(old), _view(new))
    assert kinds(events) == [("task_reworded", f"({c})") for c in "一二三四"]


def test_excerpts_are_cut_around_the_change() -> None:
    long_body = "".join(f"第{i}句话讲述某项很长的工作安排和具体措施。" for i in range(40))
    a = _task("(一)", "长任务", long_body + "最后一句保持不变。")
    b = dict(a, text=a["text"].replace("第20句话讲述", "第20句话改为讲述"))
    [e] = compare_versions(_view([a]), _view([b]))
    assert e.before == "第20句话讲述某项很长的工作安排和具体措施。"
    assert e.after == "第20句话改为讲述某项很长的工作安排和具体措施。"


def test_long_passage_excerpt_is_at_most_300_and_keeps_the_change() -> None:
    para = ",".join(f"第{i}项措施" for i in range(120)) + "。"
    old = _view([], text=f"测试文件\n{para}")
    new = _view([], text=f"测试文件\n{para.replace('第60项措施', '第60项重要措施')}")
    [e] = compare_versions(old, new)
    assert e.type == "wording_changed"
    assert len(e.before) <= 300 and len(e.after) <= 300
    assert "第60项重要措施" in e.after and "第60项措施" in e.before


def test_drafts_serialize() -> None:
    [e] = compare_versions(_view([T1]), _view([T1, T2]))
    d = e.to_dict()
    assert d["type"] == "task_added" and d["task"] == {"label": "(二)", "title": "发展数字产业"}
    import json

    json.dumps(d, ensure_ascii=False)


def test_summary_language_is_chinese_with_labels() -> None:
    [e] = compare_versions(_view([T1, T2]), _view([T1]))
    assert e.summary == "删除任务 (二) 发展数字产业"
    assert re.search(r"[\u4e00-\u9fff]", e.summary)


# --------------------------------------------------------------------------------------------
# every seed through crawler.document: noise gives nothing, real edits are located
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("noise", list(NOISE))
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_noise_on_every_seed_with_understand(n: int, noise: str) -> None:
    if crawler_document() is None:
        pytest.skip("crawler.document.understand not available yet")
    raw = seed(n)
    assert compare_versions(understand_view(raw), understand_view(NOISE[noise](raw))) == []


@pytest.mark.parametrize(
    ("n", "old", "new", "expected"),
    [
        (3, "二、主要任务", "二、重点任务", [("wording_changed", None)]),
        (0, "已落地105项", "已落地106项", [("target_changed", "(二)")]),  # overlapping target spans: one event
        (0, "一是推动供应链金融稳妥发展", "一是推动供应链金融规范发展", [("task_reworded", "(三)")]),
        (4, "深化部门联合", "全面深化部门联合", [("task_reworded", "(五)")]),
    ],
)
def test_edits_on_other_seeds_with_understand(n: int, old: str, new: str, expected) -> None:
    if crawler_document() is None:
        pytest.skip("crawler.document.understand not available yet")
    raw = seed(n)
    assert raw.count(old) == 1
    events = compare_versions(understand_view(raw), understand_view(raw.replace(old, new)))
    assert kinds(events) == expected, [e.summary for e in events]


def test_outside_text_event_names_its_section() -> None:
    if crawler_document() is None:
        pytest.skip("crawler.document.understand not available yet")
    raw = seed(3)
    [e] = compare_versions(understand_view(raw), understand_view(raw.replace("二、主要任务", "二、重点任务")))
    assert e.details["section"] == "二、重点任务" and e.before == "二、主要任务" and e.after == "二、重点任务"


# An action plan in the style of other provinces: each task's departments on a line of its own
# ("责任单位:…", no closing punctuation), a signature after the last task.
_LABELLED_PLAN = (
    "某市推动制造业高质量发展行动方案\n一、主要任务\n"
    "(一)壮大先进制造业集群。到2025年,培育5个千亿级产业集群。\n责任单位:市工业和信息化局、市发展改革委\n"
    "(二)推进技术改造。每年推动500家企业开展技术改造。\n责任单位:市工业和信息化局\n"
    "某市人民政府办公室\n2024年1月5日\n"
)


def test_labelled_clauses_changes_are_exactly_their_events() -> None:
    revised = _LABELLED_PLAN.replace("责任单位:市工业和信息化局\n某市", "责任单位:市工业和信息化局、市财政局\n某市")
    revised = revised.replace("培育5个", "培育6个")
    events = compare("understand", _LABELLED_PLAN, revised)
    assert kinds(events) == [("target_changed", "(一)"), ("responsibility_changed", "(二)")]
    assert events[1].summary.endswith("+市财政局")
