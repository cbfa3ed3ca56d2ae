"""Recognize page chrome lines (counters, share/print widgets, breadcrumbs, source/time lines)."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# All patterns run on a normalized line (width folded) with every space removed.
_COUNTER_RE = re.compile(
    r"^(?:浏览量|访问量|阅读量|点击数|点击量|浏览次数|访问次数|阅读次数|阅读数|浏览数|访问数|点击率|"
    r"浏览|阅读|点击|人气)[::]?\d*次?$"
)
_COUNTER_ANY_RE = re.compile(r"(?:浏览量|访问量|阅读量|点击数|点击量|浏览次数|访问次数|阅读次数|阅读数)[::]?\d*次?")
_SOURCE_TIME_RE = re.compile(
    r"^(?:【?(?:信息|文章|稿件|新闻)?来源】?[::]|(?:发布|更新|发稿)(?:时间|日期)[::]|"
    r"作者[::]|(?:责任)?编辑[::]|审核[::]|校对[::]|字[号体][::]|分享到|分享[::]|"
    r"(?:时间|日期)[::]\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\d{1,2}:\d{2}(?::\d{2})?)?$)"
)
_WIDGET_TOKENS = (
    "【打印】", "【关闭】", "[打印]", "[关闭]", "【打印本页】", "【关闭窗口】", "打印本页", "关闭窗口",
    "打印", "关闭", "收藏", "分享到", "分享", "字号", "字体", "【大】", "【中】", "【小】", "[大]",
    "[中]", "[小]", "大中小", "大", "中", "小", "默认", "无障碍", "长者助手", "繁体版", "简体版",
    "繁體", "简体", "关怀版", "适老化", "适老版", "English", "ENGLISH", "EN", "手机版", "微信", "微博",
    "QQ空间", "QQ", "扫一扫", "|", "/", "-", "【", "】", "[", "]", "·", "•", ":", ":", ",", "、",
    "我要纠错", "【我要纠错】", "纠错", "返回顶部", "返回", "上一篇", "下一篇", "相关链接", "登录", "注册",
    "智能问答", "用户登录", "个人中心", "搜索", "读屏专用", "语音播报", "放大", "缩小", "背景色",
    "滚动", "停止", "在手机打开当前页", "扫一扫在手机打开当前页",
)
_WIDGET_RE = re.compile(
    "|".join(re.escape(t) for t in sorted(_WIDGET_TOKENS, key=len, reverse=True))
)
_BREADCRUMB_RE = re.compile(r"^(?:当前位置|您现在的位置|您当前的位置|当前所在位置|您的位置|所在位置|位置)[::]")
_PROMO_RE = re.compile(
    r"^(?:推荐阅读|相关阅读|延伸阅读|热门推荐|猜你喜欢|精彩推荐|相关推荐|商务合作|广告合作|免责声明|"
    r"版权声明|点击关注|长按识别|关注我们|转载请注明|本文来源|原文链接|阅读原文|点击阅读原文|"
    r"扫码关注|欢迎关注)"
)
# "大宗交易圈 2023-11-22 15:17": a third-party site's byline (name + date + time, nothing else).
_BYLINE_RE = re.compile(r"^[^\d,。;,]{1,20}?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\d{1,2}:\d{2}(?::\d{2})?$")
_TIME_ONLY_RE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\d{1,2}:\d{2}(?::\d{2})?)?$")


# The four anchored checks of chrome_kind as one alternation, in the same order: the first that
# matches is the kind chrome_kind reports unless its length limit rules it out. One call instead
# of four for the many short content lines (headings, signatures) that match none.
_ANCHORED = (("counter", _COUNTER_RE, 40), ("breadcrumb", _BREADCRUMB_RE, 60),
             ("source_time", _SOURCE_TIME_RE, 80), ("promotion", _PROMO_RE, 120))
_ANY_ANCHORED_RE = re.compile(
    "|".join(f"(?P<{kind}>{rx.pattern.removeprefix('^')})" for kind, rx, _ in _ANCHORED)
)
_ANCHORED_LIMIT = {kind: limit for kind, _, limit in _ANCHORED}
# Characters of the widget words. Removing widget words keeps every other character, so a line
# with three of those left can never shrink to the two characters a widget bar may leave.
_WIDGET_CHARS = "".join(re.escape(c) for c in sorted(set("".join(_WIDGET_TOKENS))))
_THREE_NON_WIDGET_RE = re.compile(f"(?:[{_WIDGET_CHARS}]*[^{_WIDGET_CHARS}]){{3}}")


def chrome_kind(line: str) -> str | None:
    """The kind of page chrome a normalized line is ("counter", "widget", ...), or None if content."""
    compact = line.replace(" ", "")
    if not compact:
        return None
    n = len(compact)
    if n > 120:
        return None  # longer than every kind of chrome below
    m = _ANY_ANCHORED_RE.match(compact)
    if m is not None:
        kind = m.lastgroup or ""
        if n <= _ANCHORED_LIMIT[kind]:
            return kind
        # Too long for the first kind that matched: the checks one by one, as they read.
        if n <= 40 and _COUNTER_RE.match(compact):
            return "counter"
        if n <= 60 and _BREADCRUMB_RE.match(compact):
            return "breadcrumb"
        if n <= 80 and _SOURCE_TIME_RE.match(compact):
            return "source_time"
        if _PROMO_RE.match(compact):
            return "promotion"
    # A byline ends in a time, so it holds a colon.
    if n <= 40 and ((":" in compact and _BYLINE_RE.match(compact)) or _TIME_ONLY_RE.match(compact)):
        return "byline"
    if n <= 80:
        if _THREE_NON_WIDGET_RE.match(compact) is None:
            rest = _WIDGET_RE.sub("", compact)
            if not rest or (len(rest) <= 2 and rest != compact and not _has_cjk_word(rest)):
                # A line made only of widget words (share/print/close/font size/accessibility bars).
                if rest != compact:
                    return "widget"
        if _COUNTER_ANY_RE.search(compact) and len(_WIDGET_RE.sub("", _COUNTER_ANY_RE.sub("", compact))) <= 20:
            # "发布时间:… 浏览量:12 【打印】" and similar mixed chrome lines.
            if _SOURCE_TIME_RE.search(compact) or not _has_sentence_mark(compact):
                return "counter"
    return None


def _has_cjk_word(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _has_sentence_mark(text: str) -> bool:
    return any(ch in "。;!?," for ch in text)
