"""Digests against a real SMTP server (aiosmtpd on 127.0.0.1): each event once, nothing lost while the
server is down, filters, hostile crawled titles, Chinese headers, STARTTLS with AUTH, previews."""

from __future__ import annotations

import email
import logging
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Delivery
from tests.conftest import run_cli, run_policywatch
from tests.test_mail_support import (
    SmtpSink,
    add,
    body_html,
    body_text,
    self_signed,
    server_context,
    store_document,
)

pytest.importorskip("aiosmtpd")


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


def write_config(tmp_path: Path, db_url: str, smtp: str, subscribers: str = "") -> Path:
    path = tmp_path / "policywatch.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n{smtp}\n{subscribers}', encoding="utf-8")
    return path


def subscriber(email_addr: str, cadence: str = "daily", **filters: list[str]) -> str:
    lines = ["[[subscribers]]", f'email = "{email_addr}"', f'cadence = "{cadence}"']
    for key, values in filters.items():
        lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in values)}]")
    return "\n".join(lines) + "\n\n"


def send(config: Path, *args: str):
    return run_cli("digest", "--send", "--config", str(config), *args)


def delivered(sessions) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count(Delivery.id)))


def test_each_event_delivered_once_over_repeated_runs(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    doc = store_document(sessions, source="gdii-notices", post=1, title="关于印发2024年广东省数字经济工作要点的通知",
                         doc_number="粤工信〔2024〕1号")
    first = [add(sessions, doc, "new_document", "新文件:2024年数字经济工作要点"),
             add(sessions, doc, "task_added", "新增任务 (三) 推进数据要素市场化", task_label="(三)",
                 task_title="推进数据要素市场化", after="推进数据要素市场化配置改革。")]

    result = send(config)
    assert result.exit_code == 0, result.output
    assert "sent analyst@example.org: 2 events" in result.output
    assert len(sink.messages()) == 1
    text = body_text(sink.messages()[0])
    assert "新文件:2024年数字经济工作要点" in text and "推进数据要素市场化" in text
    assert delivered(sessions) == 2

    # nothing new, no email
    result = send(config)
    assert result.exit_code == 0 and "nothing new for analyst@example.org" in result.output
    assert len(sink.messages()) == 1

    later = add(sessions, doc, "wording_changed", "正文修改", before="稳步推进规则对接", after="积极稳妥推进规则对接")
    assert send(config).exit_code == 0
    assert len(sink.messages()) == 2
    second = sink.messages()[1]
    assert second["X-Policywatch-Events"] == "1"
    assert "积极稳妥推进规则对接" in body_text(second)
    assert "推进数据要素市场化配置改革" not in body_text(second)
    with session_scope(sessions) as s:
        assert sorted(s.scalars(select(Delivery.event_id))) == sorted([*first, later])


def test_server_down_loses_nothing_and_duplicates_nothing(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(),
                          subscriber("a@example.org") + subscriber("b@example.org", "immediate"))
    doc = store_document(sessions, source="gz-zcjd", post=2, title="广州市政策解读")
    add(sessions, doc, "new_document", "新文件:广州市政策解读")
    assert send(config).exit_code == 0
    assert len(sink.messages()) == 2

    more = [add(sessions, doc, "metadata_changed", f"元数据变化 {i}", before=f"旧{i}", after=f"新{i}")
            for i in range(3)]
    sink.stop()  # the mail server is down for this run
    result = send(config)
    assert result.exit_code == 1
    assert "FAILED a@example.org: 3 events stay pending" in result.output
    assert "cannot connect to SMTP server 127.0.0.1" in result.output
    assert delivered(sessions) == 2  # nothing recorded

    sink.start()  # back up, same port
    assert send(config).exit_code == 0
    assert len(sink.messages()) == 4
    for to in ("a@example.org", "b@example.org"):
        got = sink.messages(to)
        assert [m["X-Policywatch-Events"] for m in got] == ["1", "3"]
        assert all(f"元数据变化 {i}" in body_text(got[1]) for i in range(3))
    assert delivered(sessions) == 2 * 4
    assert send(config).exit_code == 0 and len(sink.messages()) == 4  # and nothing twice
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Delivery.id)).where(Delivery.event_id.in_(more))) == 6


def test_filters_select_what_they_should(tmp_path, db_url, sessions, sink) -> None:
    subs = (subscriber("all@example.org")
            + subscriber("src@example.org", sources=["gz-zcjd"])
            + subscriber("type@example.org", types=["task_added", "responsibility_changed"])
            + subscriber("kw@example.org", keywords=["人工智能"])
            + subscriber("dept@example.org", departments=["省科技厅"])
            + subscriber("kind@example.org", kinds=["work_points"]))
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subs)
    notice = store_document(sessions, source="gdii-notices", post=10, title="关于开展人工智能赋能行动的通知")
    points = store_document(
        sessions, source="gz-zcjd", post=11, title="2024年工作要点", kind="work_points",
        tasks=[{"label": "(一)", "title": "加快数字产业集群建设", "lead": [],
                "responsible": ["省发展改革委", "省科技厅"], "implementing": ["相关市政府"]}])
    e_notice = add(sessions, notice, "new_document", "新文件:人工智能赋能行动")
    e_task = add(sessions, points, "task_added", "新增任务 (一) 加快数字产业集群建设",
                 task_label="(一)", task_title="加快数字产业集群建设", after="加快数字产业集群建设。")
    e_word = add(sessions, points, "wording_changed", "正文修改", before="规模以上", after="规上")
    e_resp = add(sessions, points, "responsibility_changed", "任务 (二) 责任单位变化:牵头 +省工业和信息化厅",
                 task_label="(二)", task_title="推进数字化转型",
                 details={"roles": {"lead": {"added": ["省工业和信息化厅"], "removed": []}}})
    assert send(config).exit_code == 0

    with session_scope(sessions) as s:
        from storage.models import Subscriber

        got: dict[str, set[int]] = {}
        for email_addr, event_id in s.execute(select(Subscriber.email, Delivery.event_id).join(Delivery)):
            got.setdefault(email_addr, set()).add(event_id)
    assert got["all@example.org"] == {e_notice, e_task, e_word, e_resp}
    assert got["src@example.org"] == {e_task, e_word, e_resp}
    assert got["type@example.org"] == {e_task, e_resp}
    assert got["kw@example.org"] == {e_notice}  # the keyword is in the title
    assert got["dept@example.org"] == {e_task}  # from the task's departments in the stored structure
    assert got["kind@example.org"] == {e_task, e_word, e_resp}
    # the digest shows the task's departments
    html = body_html(sink.messages("dept@example.org")[0])
    assert "省发展改革委" in html and "省科技厅" in html


def test_hostile_title_is_neutralized_in_headers_and_html(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    hostile = "通知\r\nBcc: evil@x.example\r\nX-Evil: 1\n<script>alert(1)</script>\x00\x1b"
    doc = store_document(sessions, source="gdii-notices", post=3, title=hostile)
    add(sessions, doc, "content_injected", "疑似注入:<img src=x onerror=alert(2)>",
        after="<script>steal()</script>买球")
    add(sessions, doc, "new_document", "新文件")
    assert send(config).exit_code == 0

    [received] = sink.received
    assert received.rcpt_tos == ["analyst@example.org"]  # no Bcc smuggled into the envelope
    message = received.message
    assert message["Bcc"] is None and message["X-Evil"] is None
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc" not in header_block and b"\nX-Evil" not in header_block
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject and "\x00" not in subject
    assert "疑似篡改" in subject  # the alert shows in the subject
    html = body_html(message)
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    # the alert comes before the document sections
    assert html.index("疑似被篡改的页面") < html.index("<h2 style=\"font-size:16px;border-bottom")


def test_chinese_subject_and_sender_decode_back(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    title = "广东省人民政府办公厅关于印发广东省推动人工智能与机器人产业创新发展若干政策措施的通知"
    doc = store_document(sessions, source="gd-wjk", post=4, title=title, doc_number="粤府办〔2025〕7号")
    add(sessions, doc, "new_document", "新文件")
    assert send(config).exit_code == 0
    [received] = sink.received
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    raw_headers.decode("ascii")  # RFC 2047: the header block is plain ASCII
    assert b"=?utf-8?" in raw_headers.lower()
    again = email.message_from_bytes(received.raw, policy=policy.default)
    subject = str(again["Subject"])
    assert subject.startswith("[policywatch] 1 项变化 · 1 份文件: 广东省人民政府办公厅")
    assert subject.endswith("…") and len(subject) < 80  # the title is cut
    assert again["From"].addresses[0].display_name == "政策监测 policywatch"
    assert again["From"].addresses[0].addr_spec == "watcher@example.org"
    assert title in body_text(again) and "粤府办〔2025〕7号" in body_html(again)


def test_wording_change_has_character_highlights(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    doc = store_document(sessions, source="gdii-notices", post=5, title="工作要点")
    add(sessions, doc, "wording_changed", "正文修改",
        before="稳步推进大湾区跨境贸易数据流动规则对接", after="积极稳妥推进大湾区跨境贸易数据流动规则对接")
    assert send(config).exit_code == 0
    html = body_html(sink.messages()[0])
    assert "<del" in html and "稳步</del>" in html
    assert "<ins" in html and "积极稳妥</ins>" in html
    assert "推进大湾区跨境贸易数据流动规则对接" in html


def test_starttls_with_login_and_the_password_only_from_the_environment(
        tmp_path, db_url, sessions, monkeypatch, caplog) -> None:
    cert, key = self_signed(tmp_path)
    sink = SmtpSink(tls=server_context(cert, key), credentials=("watcher", "s3cret-pw")).start()
    try:
        smtp = sink.smtp_toml("starttls", username="watcher") + f'ca_file = "{cert}"\n'
        config = write_config(tmp_path, db_url, smtp, subscriber("analyst@example.org"))
        doc = store_document(sessions, source="gdii-notices", post=6, title="通知")
        add(sessions, doc, "new_document", "新文件")

        monkeypatch.delenv("POLICYWATCH_SMTP_PASSWORD", raising=False)
        result = send(config)
        assert result.exit_code == 1 and "POLICYWATCH_SMTP_PASSWORD is empty" in result.output

        monkeypatch.setenv("POLICYWATCH_SMTP_PASSWORD", "wrong")
        result = send(config)
        assert result.exit_code == 1 and "refused" in result.output and "wrong" not in result.output

        monkeypatch.setenv("POLICYWATCH_SMTP_PASSWORD", "s3cret-pw")
        with caplog.at_level(logging.DEBUG):
            result = send(config)
        assert result.exit_code == 0, result.output
        assert sink.logins[-1] == ("watcher", "s3cret-pw")
        assert len(sink.messages()) == 1
        assert "s3cret-pw" not in caplog.text and "s3cret-pw" not in result.output
        assert b"s3cret-pw" not in sink.received[0].raw
        assert delivered(sessions) == 1
    finally:
        sink.stop()


def test_implicit_ssl(tmp_path, db_url, sessions) -> None:
    cert, key = self_signed(tmp_path)
    sink = SmtpSink(implicit_tls=server_context(cert, key)).start()
    try:
        config = write_config(tmp_path, db_url, sink.smtp_toml("ssl") + f'ca_file = "{cert}"\n',
                              subscriber("analyst@example.org"))
        doc = store_document(sessions, source="gdii-notices", post=7, title="通知")
        add(sessions, doc, "new_document", "新文件")
        assert send(config).exit_code == 0
        assert len(sink.messages()) == 1
    finally:
        sink.stop()


def test_untrusted_certificate_is_refused(tmp_path, db_url, sessions) -> None:
    cert, key = self_signed(tmp_path)
    sink = SmtpSink(tls=server_context(cert, key)).start()
    try:
        config = write_config(tmp_path, db_url, sink.smtp_toml("starttls"), subscriber("analyst@example.org"))
        doc = store_document(sessions, source="gdii-notices", post=8, title="通知")
        add(sessions, doc, "new_document", "新文件")
        result = send(config)
        assert result.exit_code == 1 and "certificate" in result.output.lower()
        assert delivered(sessions) == 0
    finally:
        sink.stop()


def test_preview_writes_eml_and_html_without_sending(tmp_path, db_url, sessions, sink) -> None:
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    doc = store_document(sessions, source="gdii-notices", post=9, title="关于<b>加强</b>数据安全的通知")
    add(sessions, doc, "new_document", "新文件")
    result = run_cli("digest", "--preview", "--config", str(config))
    assert result.exit_code == 0
    assert "Subject: [policywatch] 1 项变化" in result.output and "关于<b>加强</b>数据安全的通知" in result.output

    eml = tmp_path / "d.eml"
    assert run_cli("digest", "--preview", "--to", "analyst@example.org", "--out", str(eml),
                   "--config", str(config)).exit_code == 0
    parsed = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert "&lt;b&gt;加强&lt;/b&gt;" in body_html(parsed)

    page = tmp_path / "d.html"
    assert run_cli("digest", "--preview", "--out", str(page), "--config", str(config)).exit_code == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sink.messages() == [] and delivered(sessions) == 0

    result = run_policywatch("digest", "--preview", "--to", "nobody@example.org", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: no subscriber 'nobody@example.org': "
                                     "add it with 'policywatch subscribers add'")


def test_html_part_renders_in_a_browser(tmp_path, db_url, sessions, sink) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed: cannot render the HTML part headless")
    config = write_config(tmp_path, db_url, sink.smtp_toml(), subscriber("analyst@example.org"))
    doc = store_document(sessions, source="gdii-notices", post=12, title="关于印发工作要点的通知")
    add(sessions, doc, "wording_changed", "正文修改", before="稳步推进", after="积极稳妥推进")
    page = tmp_path / "digest.html"
    assert run_cli("digest", "--preview", "--out", str(page), "--config", str(config)).exit_code == 0
    shot = tmp_path / "digest.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=900,700", page.as_uri()], capture_output=True, timeout=60, check=False)
    assert shot.exists() and shot.stat().st_size > 1000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
