"""A site of another province's content system (TRS WCM shapes), crawled with no selectors:
the list's detail links are found by their URL shape and the pages read by the generic body."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.db import session_scope
from storage.models import Document, Version
from tests.conftest import FAST_CRAWL, run_policywatch

LIST = """<html><head><meta charset="utf-8"><title>通知公告_某省工业和信息化厅</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/col/about.html">机构概况</a></div>
<ul class="list">
  <li><a href="./202401/t20240105_4567890.html">关于印发2024年全省数字经济工作要点的通知</a><span>2024-01-05</span></li>
  <li><a href="./202312/t20231228_4561234.html">关于公布2023年省级工业互联网示范项目名单的通知</a><span>2023-12-28</span></li>
</ul>
<div class="footer"><a href="/col/contact.html">联系我们</a></div>
</body></html>"""

DETAIL = """<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<title>{title}_某省工业和信息化厅</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; <a href="/zwgk/tzgg/">通知公告</a></div>
<div class="article"><h2>{title}</h2>
<div class="TRS_Editor">
<p>各地级以上市工业和信息化主管部门:</p>
<p>{lead}</p>
<p>一、总体要求</p>
<p>坚持以数字化转型为主线,推动数字经济和实体经济深度融合。</p>
<p>二、重点任务</p>
<p>(一)加快数字化转型。到2024年底,推动{n}家规模以上工业企业数字化转型。(省工业和信息化厅牵头,省发展改革委按职责分工负责)</p>
<p>(二)培育数据要素市场。建设省级数据交易平台,完善数据流通规则。(省政务服务数据管理局牵头)</p>
<p>某省工业和信息化厅</p><p>2024年1月5日</p>
</div></div>
<div class="footer">主办单位:某省工业和信息化厅</div>
</body></html>"""


def test_a_trs_site_without_selectors_is_crawled_and_understood(replica, tmp_path: Path, db_url: str,
                                                               sessions) -> None:
    base = replica.base_url("gdii")
    replica.set_response("gdii", "/zwgk/tzgg/index.html", body=LIST.encode("utf-8"))
    titles = {"/zwgk/tzgg/202401/t20240105_4567890.html": ("关于印发2024年全省数字经济工作要点的通知", 5000),
              "/zwgk/tzgg/202312/t20231228_4561234.html": ("关于公布2023年省级工业互联网示范项目名单的通知", 300)}
    for path, (title, n) in titles.items():
        page = DETAIL.format(title=title, lead="现将有关事项通知如下。", n=n)
        replica.set_response("gdii", path, body=page.encode("utf-8"))
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[[sources]]\nname = "other-province"\n'
                      f'kind = "html_pages"\nstart_urls = ["{base}/zwgk/tzgg/index.html"]\n'
                      f'allowed_domains = ["127.0.0.1"]\n' + FAST_CRAWL, encoding="utf-8")
    result = run_policywatch("crawl", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    with session_scope(sessions) as s:
        docs = {d.url.replace(base, ""): d for d in s.scalars(select(Document))}
        assert set(docs) == set(titles), sorted(docs)  # the nav and footer links are not documents
        for path, (title, n) in titles.items():
            version = s.scalars(select(Version).where(Version.document_id == docs[path].id)).one()
            assert version.title == title
            tasks = version.structure["tasks"]
            assert [t["title"] for t in tasks] == ["加快数字化转型", "培育数据要素市场"]
            assert tasks[0]["lead"] == ["省工业和信息化厅"] and tasks[1]["lead"] == ["省政务服务数据管理局"]
            assert tasks[0]["responsible"] == ["省发展改革委"]
            assert f"推动{n}家规模以上工业企业" in version.text
