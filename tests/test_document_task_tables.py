"""A plan whose tasks are a table (序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限): a row a task,
its departments from the role columns, merged cells read as a reader reads them; a revised cell
is one event of the right kind."""

from __future__ import annotations

from crawler.extract.page import extract_page
from crawler.snapshot import build_snapshot
from monitor.compare import compare_versions
from monitor.events import VersionView

ROWS = """
<tr><td colspan="5">一、推动数字产业化</td></tr>
<tr><td>1</td><td>建设5G基站1万座。</td><td rowspan="2">市工业和信息化局</td><td>市通信管理局</td><td>2024年12月</td></tr>
<tr><td>2</td><td>培育数字经济龙头企业20家。</td><td>市科技局、市商务局</td><td>2024年底</td></tr>
<tr><td colspan="5">二、推进数据开放</td></tr>
<tr><td>3</td><td>推进公共数据开放,开放数据集不少于2000个。</td><td>市政务服务数据管理局</td><td>各区政府</td><td>持续推进</td></tr>
"""


def page(rows: str = ROWS, *, before: str = "<p>为落实全市数字经济工作部署,制定本分工方案。</p>") -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>广州市2024年数字经济重点任务分工方案</title></head><body>"
            f"<div class='article-content'>{before}"
            "<table class='xxgk'><tr><td>索引号</td><td>11440100/2024-01234</td><td>发布机构</td><td>广州市人民政府</td></tr></table>"
            "<table border='1'><tr><td>序号</td><td>重点任务</td><td>牵头单位</td><td>配合单位</td><td>完成时限</td></tr>"
            f"{rows}</table></div></body></html>").encode()


def tasks_of(body: bytes) -> list[dict]:
    return build_snapshot("http://www.gz.gov.cn/zwgk/a/content/post_1.html", body, "text/html").structure["tasks"]


def test_the_task_table_is_read_merged_cells_filled_in_and_other_tables_left_out() -> None:
    tables = extract_page("http://www.gz.gov.cn/a.html", page()).tables
    assert len(tables) == 1  # the metadata table names no task and no role column
    assert tables[0][2] == ["1", "建设5G基站1万座。", "市工业和信息化局", "市通信管理局", "2024年12月"]
    assert tables[0][3][2] == "市工业和信息化局"  # the rowspan's second row
    assert tables[0][1] == ["一、推动数字产业化"] * 5  # a colspan across the table


def test_a_row_is_a_task_with_its_departments_targets_and_section() -> None:
    tasks = tasks_of(page())
    assert [(t["label"], t["title"], t["section"]) for t in tasks] == [
        ("1.", "建设5G基站1万座", "一、推动数字产业化"), ("2.", "培育数字经济龙头企业20家", "一、推动数字产业化"),
        ("3.", "推进公共数据开放,开放数据集不少于2000个", "二、推进数据开放")]
    assert [(t["lead"], t["responsible"]) for t in tasks] == [
        (["市工业和信息化局"], ["市通信管理局"]), (["市工业和信息化局"], ["市科技局", "市商务局"]),
        (["市政务服务数据管理局"], ["各区政府"])]
    assert [[g["value"] for g in t["targets"]] for t in tasks] == [[10000], [20], [2000]]


def test_numbered_paragraphs_win_over_a_table() -> None:
    before = "<p>一、重点任务</p><p>(一)建设数字基础设施。(市工业和信息化局牵头)</p><p>(二)发展数字产业。(市发展改革委牵头)</p>"
    assert [t["label"] for t in tasks_of(page(before=before))] == ["(一)", "(二)"]


def test_a_layout_table_around_the_task_table_is_not_read_itself() -> None:
    body = page().replace(b"<div class='article-content'>", b"<div class='article-content'><table><tr><td>") \
        .replace(b"</div></body>", b"</td></tr></table></div></body>")
    assert len(tasks_of(body)) == 3


def view(body: bytes) -> VersionView:
    snap = build_snapshot("http://www.gz.gov.cn/zwgk/a/content/post_1.html", body, "text/html")
    return VersionView(title=snap.title, normalized_text=snap.normalized_text, structure=snap.structure,
                       attachments=[])


def kinds(old: bytes, new: bytes) -> list[tuple[str, str | None]]:
    return [(str(e.type), e.task_label) for e in compare_versions(view(old), view(new))]


def test_a_revised_cell_is_one_event_of_its_kind() -> None:
    assert kinds(page(), page(ROWS.replace("1万座", "2万座"))) == [("target_changed", "1.")]
    assert kinds(page(), page(ROWS.replace("<td>市通信管理局</td>", "<td>市通信管理局、市住房城乡建设局</td>"))) == [
        ("responsibility_changed", "1.")]
    added = ROWS + "<tr><td>4</td><td>建设算力中心。</td><td>市发展改革委</td><td></td><td>2025年</td></tr>"
    assert kinds(page(), page(added)) == [("task_added", "4.")]
    # a deadline is part of its task: the task was reworded, not the text around the tasks
    assert kinds(page(), page(ROWS.replace("2024年12月", "2025年6月"))) == [("task_reworded", "1.")]


def test_a_change_around_the_table_is_still_a_wording_change() -> None:
    old = page(before="<p>为落实全市数字经济工作部署,各区政府要加强统筹。</p>")
    new = page(before="<p>为落实全市数字经济工作部署,各区政府要加强统筹协调。</p>")
    assert kinds(old, new) == [("wording_changed", None)]


def test_a_title_row_a_category_column_and_offices() -> None:
    body = ("<html><head><meta charset='utf-8'><title>2024年全省工业和信息化重点工作任务清单</title></head><body>"
            "<div id='zoom'><p>附件</p><table>"
            "<tr><th colspan='5'>2024年全省工业和信息化重点工作任务清单</th></tr>"
            "<tr><th>序号</th><th>任务类别</th><th>具体任务</th><th>责任处室</th><th>完成时间</th></tr>"
            "<tr><td>1</td><td rowspan='2'>产业发展</td><td>新增规上工业企业1000家</td><td>运行监测协调局</td><td>12月</td></tr>"
            "<tr><td>2</td><td>培育专精特新中小企业500家</td><td>中小企业局</td><td>12月</td></tr>"
            "<tr><td>3</td><td>数字化转型</td><td>推动3000家企业数字化转型</td><td>数字产业处、信息化和软件服务业处</td>"
            "<td>全年</td></tr></table></div></body></html>").encode()
    tasks = tasks_of(body)
    assert [(t["label"], t["section"], t["title"], t["responsible"]) for t in tasks] == [
        ("1.", "产业发展", "新增规上工业企业1000家", ["运行监测协调局"]),
        ("2.", "产业发展", "培育专精特新中小企业500家", ["中小企业局"]),
        ("3.", "数字化转型", "推动3000家企业数字化转型", ["数字产业处", "信息化和软件服务业处"])]
    assert tasks[0]["text"] == "新增规上工业企业1000家 完成时间:12月(责任处室:运行监测协调局)"
