"""Recognize injected content: gambling/porn SEO spam, swapped-in brand names and off-site links."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from .chars import normalize_line

logger = logging.getLogger(__name__)

# Brand names and spam slogans that never occur in a government text: flagged wherever they appear,
# even inside an otherwise normal sentence (a hacked page swaps them into the body).
_GAMBLING_BRANDS = (
    "买球", "线上买球", "买球网站", "百家乐", "真人娱乐", "澳门威尼斯人", "威尼斯人娱乐", "新葡京", "葡京娱乐",
    "葡京", "皇冠体育", "皇冠娱乐", "亚博体育", "开云体育", "九游会", "乐鱼体育", "半岛体育", "球探体育",
    "必威体育", "bet365", "BET365", "betway", "威廉希尔", "永利娱乐", "AG真人", "ag真人", "pk10", "PK10",
    "时时彩", "幸运飞艇", "开户送", "注册送", "送彩金", "真钱棋牌", "棋牌娱乐", "体育投注", "足球投注",
    "篮球投注", "外围投注", "娱乐城",
)
_PORN_BRANDS = (
    "成人影院", "成人视频", "约炮", "裸聊", "三级片", "国产自拍", "偷拍自拍", "一夜情", "av女优", "AV女优",
    "pornhub", "xvideos", "巨乳",
)
# Generic vocabulary of spam: a line made only of these (or an SEO chain of them) is spam; inside
# official prose they are ordinary words (a text may regulate lotteries or fight gambling).
_TERMS = (
    "彩票网", "博彩网", "赌博网", "网上赌场", "线上赌场", "网络赌场", "体育博彩", "博彩", "赌场", "赌博", "棋牌", "彩票", "投注",
    "下注", "色情", "成人", "黄色网站", "色情网站", "娱乐", "官网", "官方网站", "网站", "平台", "线上", "在线",
    "app", "APP", "下载", "注册", "登录", "入口", "首页", "网址", "体育", "直播", "美女", "视频", "开户", "手机版",
)
_CORE_WORDS = ("买球", "博彩", "赌场", "赌博", "棋牌", "投注", "下注", "色情")
_CORE_RE = re.compile("|".join(_CORE_WORDS))


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


# 娱乐城 must not eat 娱乐城市 ("文化娱乐城市建设").
_BRAND_RE = re.compile(_alternation(_GAMBLING_BRANDS + _PORN_BRANDS).replace("娱乐城", "娱乐城(?![市区镇乡])"))
_VOCAB_RE = re.compile(_alternation(_GAMBLING_BRANDS + _PORN_BRANDS + _TERMS))
_PORN_SET = frozenset(_PORN_BRANDS)
_SEP_RE = re.compile(r"[-_|—–~·/\\]")
_TLDS = (
    "com|net|org|cc|vip|top|xyz|me|tv|io|co|info|biz|club|site|online|bet|app|win|shop|live|fun|pro|"
    "ltd|asia|hk|mo|tw|cn|icu|cyou|link"
)
_URL_RE = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9\-._~%:]+(?:[/?#][^\s,。;,;)(()“”\"'<>]*)?"
    r"|(?<![@A-Za-z0-9.\-])[a-z0-9][a-z0-9.\-]{0,120}\.(?:" + _TLDS + r")(?![A-Za-z0-9])"
    r"(?:/[^\s,。;,;)(()“”\"'<>]*)?"
)
# Frequent characters of official documents (the seed texts), most frequent first. Only used to
# pick, in each spam word, the character that candidate_lines searches for: the rarest one.
_COMMON_CHARS = (
    "数业字建化发推展设区工省务新和大产动进广的据市经加实平创政国能合作台服信等一济通企湾人家用全网点"
    "制地智粤资应关力强施东中港技澳高融息联深持体开理提行领链共管项重造域级快基三源金支州与试心场府分"
    "研集成机为术型目会科落系互要办公商优规厅导对年入构在计络电部引交方统件局易育城民流升出培度现批境"
    "标专二以接促责策有础验示范程算案聚安监质个才同量定划各续十协素供我立圳跨代打主是效上软社核门超特"
    "模保究慧及小频精指积极先头清转群组于准营享面式投法水四职按视完内措生委单索园好院探多相充税性条线"
    "居挥利布贸牵路际求善态养议下文运了势过综景任则块评意学围干环治前认增子招助医五励便事更负调教带第"
    "证本鼓步贯室知收决月位解"
)
_COMMON_RANK = {ch: i for i, ch in enumerate(_COMMON_CHARS)}


def _anchored(word: str) -> str:
    """A pattern that matches ``word`` at its rarest character (look-behind and look-ahead for the
    rest): the regex engine then only stops at characters that are rare in official text, instead
    of at every 一, 国, 体 … that starts some spam word."""
    k = max(range(len(word)), key=lambda i: (word[i] not in _COMMON_RANK, _COMMON_RANK.get(word[i], 0)))
    behind = f"(?<={re.escape(word[:k + 1])})" if k else ""
    ahead = f"(?={re.escape(word[k + 1:])})" if k + 1 < len(word) else ""
    return re.escape(word[k]) + behind + ahead


# Necessary conditions, for skipping lines in bulk (see candidate_lines): every line that
# spam_line_kind flags holds a brand or a core word once its spaces are gone, every brand that
# find_inline removes is one of these words too (娱乐城 here without its look-ahead), and every
# link it removes holds http(s)://, www. or a dot and a TLD, spaces or not.
_HINT_RE = re.compile(
    "|".join(_anchored(w) for w in sorted(set(_GAMBLING_BRANDS + _PORN_BRANDS + _CORE_WORDS)))
    + r"|https?://|www\.|\.(?:" + _TLDS + ")"
)
_OFFICIAL_HOST_RE = re.compile(r"(?:^|\.)(?:gov\.cn|gov\.hk|gov\.mo)$")
_SENTENCE_MARKS = frozenset("。;!?,,")


@dataclass(frozen=True)
class Finding:
    """One injected item: the text removed and its kind (gambling|porn|seo|link|brand)."""

    text: str
    kind: str


def _kind_of(word: str) -> str:
    return "porn" if word in _PORN_SET else "gambling"


def url_host(url: str) -> str:
    """The host part of a URL-ish string, lower-cased."""
    u = url.lower()
    if "://" in u:
        u = u.split("://", 1)[1]
    for sep in "/?#:":
        u = u.split(sep, 1)[0]
    return u.strip(".")


def is_official_host(host: str) -> bool:
    """A government host (*.gov.cn, *.gov.hk, *.gov.mo)."""
    return bool(_OFFICIAL_HOST_RE.search(host))


def spam_line_kind(line: str) -> str | None:
    """If a whole (normalized) line is spam, its kind (gambling|porn|seo); else None."""
    compact = line.replace(" ", "")
    n = len(compact)
    if not n or n > 120:
        return None
    brands = _BRAND_RE.findall(compact)
    has_sentence = any(ch in _SENTENCE_MARKS for ch in compact)
    if not brands and (has_sentence or not _CORE_RE.search(compact)):
        return None
    parts = [p for p in _SEP_RE.split(compact) if p]
    leftover = _SEP_RE.sub("", _VOCAB_RE.sub("", compact))
    if brands:
        if len(parts) >= 2 and not has_sentence and all(_VOCAB_RE.search(p) for p in parts):
            return "seo"
        if len(leftover) <= max(3, n // 3):
            return _kind_of(brands[0])
        return None
    if len(parts) >= 2 and all(_VOCAB_RE.search(p) for p in parts) and len(leftover) <= n // 3:
        return "seo"
    if not leftover:
        return "porn" if "色情" in compact else "gambling"
    return None


def find_inline(line: str) -> tuple[str, list[Finding]]:
    """Remove brand words and off-site links from inside a content line; return what was removed."""
    found: list[Finding] = []
    if _BRAND_RE.search(line):
        short = len(line) <= 40

        def _drop(m: re.Match[str]) -> str:
            found.append(Finding(m.group(0), _kind_of(m.group(0)) if short else "brand"))
            return ""

        line = _BRAND_RE.sub(_drop, line)
    if "." in line:

        def _drop_url(m: re.Match[str]) -> str:
            url = m.group(0)
            host = url_host(url)
            if "." not in host or is_official_host(host):
                return url
            found.append(Finding(url, "link"))
            return ""

        line = _URL_RE.sub(_drop_url, line)
    if found:
        line = line.strip(" -_|")
    return line, found


@lru_cache(maxsize=16)
def title_inline(title: str) -> tuple[str, tuple[Finding, ...]]:
    """find_inline(normalize_line(title)), kept for the last few titles: the metadata and the
    injected list of a structure both need it for the same page title."""
    line, found = find_inline(normalize_line(title))
    return line, tuple(found)


def _line_numbers(rx: re.Pattern[str], joined: str) -> set[int]:
    """Indexes of the lines of ``joined`` (one line per "\\n") in which ``rx`` matches."""
    out: set[int] = set()
    line = 0
    pos = 0
    for m in rx.finditer(joined):
        start = m.start()
        line += joined.count("\n", pos, start)
        pos = start
        out.add(line)
    return out


def candidate_lines(text: str) -> set[int]:
    """Indexes of the lines of ``text`` that may hold spam words or links.

    For any other line find_inline(line) is (line, []) and spam_line_kind(line) is None. One
    regex pass over the whole spaceless text instead of four per line.
    """
    return _line_numbers(_HINT_RE, text.replace(" ", ""))
