"""Function words and scripts, for two jobs: how much a line reads like running prose
(menus and link lists have almost no function words), and a cheap language guess (ISO 639-1)
for plain-text pages (HTML pages say their language in <html lang>).

Latin-script languages are told apart by the short hand-made lists below. Other scripts
mostly name their language (Greek, Hebrew, Thai, Hangul, kana); where a script serves
several languages (Arabic script: ar/fa/ur; Cyrillic: ru/uk/bg/...; Devanagari: hi/mr/ne)
the most frequent words of justext's stop-lists (shipped with trafilatura) decide, with
letters only one language uses as a tie-break.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

from .furniture import WORD as _WORD

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the of and to a in is that for it on was with as he she they be by at "
        "this are from his her have has had not but or an which were their its "
        "been will would who said says there more than also after about into".split()
    ),
    "de": frozenset(
        "der die das und zu den von mit ist im des sich nicht auf für ein eine "
        "als auch es an dem wird werden sind bei aus nach wie noch oder einer "
        "war wurde sie er hat haben vor durch über zum zur aber".split()
    ),
    "fr": frozenset(
        "le la les de des du et un une est en que qui dans pour pas sur au "
        "aux par plus avec ce cette il elle ont sont été être mais ou son sa ses "
        "leur nous vous se ne".split()
    ),
    "es": frozenset(
        "el la los las de del y en que un una es por con para al se no su sus "
        "como más pero lo le ha han fue son este esta entre sobre".split()
    ),
    "it": frozenset(
        "il la le di del della dei delle e che un una è per con non si al alla "
        "sono ha hanno come più ma anche nel nella gli lo da".split()
    ),
    "pl": frozenset(
        "i w na z do że się nie to jest o jak po przez od za ale czy już są "
        "oraz dla tym tak jego jej był była było przy".split()
    ),
    "nl": frozenset(
        "de het een en van in is dat op te zijn voor met niet die aan er ook "
        "als bij door maar om werd wordt heeft hebben naar".split()
    ),
    "pt": frozenset(
        "o a os as de do da dos das e em um uma que é por com para não se na no "
        "mais como mas foi são ao pelo pela".split()
    ),
    "ru": frozenset(
        "и в не на что с по как это из к за от у о но для же он она они был была были его её их также".split()
    ),
}
_ALL = frozenset().union(*STOPWORDS.values())
# function word -> the languages it belongs to (in STOPWORDS order)
_LANGS_OF = {w: tuple(lang for lang, ws in STOPWORDS.items() if w in ws) for w in _ALL}


# Non-Latin languages whose justext stop-list is used: ISO 639-1 -> list name. Only the
# most frequent words of each list are taken: its tail holds common content words.
_JUSTEXT_LISTS = {
    "ar": "Arabic",
    "fa": "Persian",
    "ur": "Urdu",
    "hi": "Hindi",
    "mr": "Marathi",
    "ne": "Nepali",
    "bn": "Bengali",
    "ru": "Russian",
    "uk": "Ukrainian",
    "bg": "Bulgarian",
    "sr": "Serbian",
    "mk": "Macedonian",
    "el": "Greek",
    "he": "Hebrew",
    "ta": "Tamil",
    "te": "Telugu",
    "gu": "Gujarati",
    "ka": "Georgian",
    "hy": "Armenian",
}
_TOP_WORDS = 120

# Scripts by the first word of their characters' Unicode names, and the language a script
# names by itself (None: several languages share it, function words decide).
_SCRIPT_LANG = {
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "CJK": "zh",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "BENGALI": "bn",
    "TAMIL": "ta",
    "TELUGU": "te",
    "GUJARATI": "gu",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GURMUKHI": "pa",
    "KHMER": "km",
    "LAO": "lo",
    "MYANMAR": "my",
    "SINHALA": "si",
    "ETHIOPIC": "am",
}
_SCRIPT_NAMES = {"LATIN", "CYRILLIC", "ARABIC", "DEVANAGARI", *_SCRIPT_LANG}


@lru_cache(maxsize=1)
def _justext_words() -> dict[str, frozenset[str]]:
    """language -> its most frequent non-Latin function words (justext's stop-list files
    are in frequency order; get_stoplist() would return them as an unordered set)."""
    try:
        root = resources.files("justext") / "stoplists"
    except ModuleNotFoundError:  # trafilatura brings justext; without it only the lists above count
        return {}
    out = {}
    for lang, name in _JUSTEXT_LISTS.items():
        try:
            ranked = (root / f"{name}.txt").read_text(encoding="utf-8").split()
        except OSError:
            continue
        # whole words only (the lists hold "(в", "г." too); Latin-script entries belong to
        # the lists above
        ranked = [w.lower() for w in ranked if _WORD.fullmatch(w) and not _has_latin(w)]
        out[lang] = frozenset(ranked[:_TOP_WORDS])
    return out


def _has_latin(word: str) -> bool:
    return any("a" <= c.lower() <= "z" for c in word)


@lru_cache(maxsize=1)
def _all_words() -> frozenset[str]:
    return _ALL.union(*_justext_words().values())


def warm() -> None:
    """Read the stop-lists ahead of the first non-Latin page (see warm.py)."""
    _all_words()


def stopword_ratio(tokens: list[str]) -> float:
    """Share of tokens that are function words in any known language."""
    if not tokens:
        return 0.0
    if all(map(str.isascii, tokens)):
        words = _ALL
    else:
        words = _all_words()
    return sum(map(words.__contains__, map(str.lower, tokens))) / len(tokens)


def dominant_script(text: str) -> str | None:
    """The script most letters of the text are written in (a Unicode name prefix such as
    LATIN, CYRILLIC, ARABIC, CJK, HIRAGANA), or None for a text without letters."""
    sample = text[:5000]
    if sample.isascii():  # the common case, without a loop over its characters
        return "LATIN" if any(map(str.isalpha, sample)) else None
    counts: Counter[str] = Counter()
    for ch, k in Counter(sample).items():  # each distinct character once (a few hundred)
        if ch.isalpha() and not ch.isascii():
            name = unicodedata.name(ch, "").split(" ", 1)[0]
            if name in _SCRIPT_NAMES:
                counts[name] += k
        elif ch.isalpha():
            counts["LATIN"] += k
    if not counts:
        return None
    kana = counts["HIRAGANA"] + counts["KATAKANA"]
    han = counts["CJK"]
    top, n = counts.most_common(1)[0]
    if top in ("CJK", "HIRAGANA", "KATAKANA") or han + kana > n:
        # Japanese mixes kana into its Han text; Chinese has none
        return "HIRAGANA" if kana >= 0.1 * han else "CJK"
    return top


def guess_language(text: str, *, min_hits: int = 8) -> str | None:
    """ISO 639-1 code of the text's language, or None if unsure: by its script where the
    script names the language, else by whose function words dominate."""
    script = dominant_script(text)
    if script is None:
        return None
    if script in _SCRIPT_LANG:
        return _SCRIPT_LANG[script]
    if script == "LATIN":
        return _guess_latin(text, min_hits)
    return _guess_shared_script(text, script)


# Letters that only one language of a shared script uses.
_ONLY = {
    "ur": "ٹڈڑںےۓھ",
    "fa": "پچژگک",  # also in Urdu: only a tie-break after the Urdu letters
    "uk": "іїєґ",
    "bg": "ъ",
    "sr": "ђјљњћџ",
    "mk": "ѓќѕ",
}
_SCRIPT_CANDIDATES = {
    "ARABIC": ("ar", "fa", "ur"),
    "CYRILLIC": ("ru", "uk", "bg", "sr", "mk"),
    "DEVANAGARI": ("hi", "mr", "ne"),
}
_DEFAULT_OF_SCRIPT = {"ARABIC": "ar", "CYRILLIC": "ru", "DEVANAGARI": "hi"}


def _guess_shared_script(text: str, script: str) -> str:
    lists = _justext_words()
    tokens = Counter(_WORD.findall(text[:20_000].lower()))
    scores: dict[str, float] = {}
    for lang in _SCRIPT_CANDIDATES[script]:
        ws = lists.get(lang, frozenset())
        hits = sum(k for t, k in tokens.items() if t in ws)
        letters = sum(text.count(c) for c in _ONLY.get(lang, ""))
        scores[lang] = hits + 0.5 * letters
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] > 0 else _DEFAULT_OF_SCRIPT[script]


def _guess_latin(text: str, min_hits: int) -> str | None:
    counts = dict.fromkeys(STOPWORDS, 0)
    # Count each distinct token once, then credit its languages.
    tokens = Counter(_WORD.findall(text[:20_000].lower()))
    for token in tokens.keys() & _LANGS_OF.keys():  # the function words among them, found in C
        k = tokens[token]
        for lang in _LANGS_OF[token]:
            counts[lang] += k
    best = max(counts, key=counts.__getitem__)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] < min_hits or ranked[0] < 1.5 * ranked[1]:
        return None
    return best


# Character ranges of the scripts whose pages the line cleaner checks for foreign lines
# (text._damp_foreign): a page's article in one of these scripts with menus in another.
_SCRIPT_CHARS = {
    "ARABIC": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc",
    "HEBREW": "\u0590-\u05ff\ufb1d-\ufb4f",
    "DEVANAGARI": "\u0900-\u097f\ua8e0-\ua8ff",
    "BENGALI": "\u0980-\u09ff",
    "CYRILLIC": "\u0400-\u052f\u1c80-\u1c8f\ua640-\ua69f",
    "GREEK": "\u0370-\u03ff\u1f00-\u1fff",
    "THAI": "\u0e00-\u0e7f",
    "CJK": "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f",
    "HANGUL": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
}
SCRIPT_CHARS = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPT_CHARS.items()}
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def page_script(text: str) -> str | None:
    """The non-Latin script (a SCRIPT_CHARS key) that most letters of a text are written in,
    or None when Latin letters dominate or the text has none of those scripts."""
    counts = {name: len(rx.findall(text)) for name, rx in SCRIPT_CHARS.items()}
    best = max(counts, key=counts.__getitem__)
    if counts[best] == 0 or counts[best] <= len(_LATIN_LETTER.findall(text)):
        return None
    return best


# Languages written in a non-Latin script (ISO 639-1).
_NON_LATIN = (
    frozenset(_SCRIPT_LANG.values())
    | frozenset(_JUSTEXT_LISTS)
    | {"zh", "ja", "ko", "kk", "ky", "be", "tg", "mn", "ps", "sd", "yi", "dv"}
)


def non_latin_language(code: str | None) -> bool:
    """Whether a language (ISO 639-1, or a tag such as "zh-CN") is written in a non-Latin script."""
    return bool(code) and code.split("-")[0].lower() in _NON_LATIN
