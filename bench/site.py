"""The synthetic site with releases: in release ≥ 1 a share of the documents carries a realistic
edit (a target number moved, or a sentence of a task reworded), with a new body, ETag and
Last-Modified.

Which documents: one in every ``step = 100 // revise_percent`` (default 5 % → 1 in 20). With
``index % step == 0`` alone every revised document would come from seed 000, because the base
site picks seed ``index % 5`` and ``step`` is a multiple of 5; so within block ``b`` (documents
``b*step … b*step+step-1``) the revised one is at offset ``b % 5`` when ``step`` is a multiple of
the seed count, and the revisions cycle through the five seeds (``spread_seeds=False`` gives the
plain ``index % step == 0``). The edit alternates between a target change and a task rewording
from one revised document of a seed to the next (seed 003 has no targets: two rewordings).

Every edit was checked to yield exactly one change event (see ``EDITS`` and
``tests/test_bench_smoke.py``), so the expected number of events of a changed recrawl is the
number of revised documents.
"""

from __future__ import annotations

from email.utils import formatdate

from bench.synthetic import _BASE_ID, _EPOCH, SyntheticSite

# seed number -> [(kind, old, new)]; old/new may use {t} for the index-dependent target of
# seed 001 (the base site writes 5000 + index there).
EDITS: dict[int, list[tuple[str, str, str]]] = {
    0: [("target_changed", "34个省有关部门组成", "36个省有关部门组成"),
        ("task_reworded", "深入推进职业资格认可", "持续深化职业资格认可")],
    1: [("target_changed", "新增推动 {t} 家", "新增推动 {t2} 家"),
        ("task_reworded", "开展数据资产合规登记工作", "全面开展数据资产合规登记工作")],
    2: [("target_changed", "搭建了16家开放创新平台", "搭建了18家开放创新平台"),
        ("task_reworded", "促进产业链企业交流对接", "推动产业链上下游企业深度对接")],
    3: [("task_reworded", "探索构建大湾区数据综合业务网", "加快构建大湾区数据综合业务网"),
        ("task_reworded", "免费向社会开放更多公共数据", "依法依规向社会开放更多公共数据")],
    4: [("target_changed", "孵化器达380家", "孵化器达400家"),
        ("task_reworded", "鼓励企业设立研发机构", "支持企业建设高水平研发机构")],
}


class ReleasedSite(SyntheticSite):
    """SyntheticSite with ``release`` (0: as built; ≥ 1: the revised documents edited)."""

    def __init__(self, documents: int = 2000, *, revise_percent: int = 5,
                 spread_seeds: bool = True) -> None:
        super().__init__(documents)
        if not 1 <= revise_percent <= 100:
            raise ValueError("revise_percent must be within 1..100")
        self.revise_percent = revise_percent
        self.step = max(1, 100 // revise_percent)
        self.spread_seeds = spread_seeds
        self.release = 0
        self._edited: dict[int, bytes] = {}

    # which documents, which edit ---------------------------------------------------------------
    def is_revised(self, index: int) -> bool:
        seeds = len(self._seeds)
        if self.spread_seeds and self.step % seeds == 0:
            block = index // self.step
            return index % self.step == block % seeds
        return index % self.step == 0

    def revised_indexes(self) -> list[int]:
        return [i for i in range(self.documents) if self.is_revised(i)]

    def edit_of(self, index: int) -> tuple[int, str, str, str]:
        """(seed, expected event type, old text, new text) of a revised document."""
        seed = index % len(self._seeds)
        choices = EDITS[seed]
        nth = index // self.step // len(self._seeds)  # how many revised docs of this seed came before
        kind, old, new = choices[nth % len(choices)]
        target = str(5000 + index)
        target2 = str(6000 + index)
        return seed, kind, old.format(t=target, t2=target2), new.format(t=target, t2=target2)

    def expected_changes(self) -> dict[str, int]:
        """Expected change events of release 1 by type (one per revised document)."""
        out: dict[str, int] = {}
        for index in self.revised_indexes():
            kind = self.edit_of(index)[1]
            out[kind] = out.get(kind, 0) + 1
        return out

    # content ----------------------------------------------------------------------------------
    def detail(self, index: int) -> bytes:
        base = super().detail(index)
        if self.release < 1 or not self.is_revised(index):
            return base
        if index not in self._edited:
            _seed, _kind, old, new = self.edit_of(index)
            text = base.decode("utf-8")
            if old not in text:
                raise RuntimeError(f"edit of document {index} does not apply: {old!r} not in page")
            self._edited[index] = text.replace(old, new, 1).encode("utf-8")
        return self._edited[index]

    def last_modified(self, index: int) -> str:
        if self.release >= 1 and self.is_revised(index):
            return formatdate(_EPOCH + 86_400 * self.release, usegmt=True)
        return formatdate(_EPOCH - index * 3600, usegmt=True)

    def detail_url(self, base: str, index: int) -> str:
        from bench.synthetic import LIST_PATH

        return f"{base}{LIST_PATH}content/post_{_BASE_ID + index}.html"
