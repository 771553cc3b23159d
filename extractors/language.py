"""Function words of the languages wiredesk sees most, for two jobs: how much a line reads
like running prose (menus and link lists have almost no function words), and a cheap
language guess for plain-text pages (HTML pages say their language in <html lang>)."""

from __future__ import annotations

import re
from collections import Counter

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
_WORD = re.compile(r"\w+", re.UNICODE)


def stopword_ratio(tokens: list[str]) -> float:
    """Share of tokens that are function words in any known language."""
    if not tokens:
        return 0.0
    return sum(map(_ALL.__contains__, map(str.lower, tokens))) / len(tokens)


def guess_language(text: str, *, min_hits: int = 8) -> str | None:
    """ISO 639-1 code of the language whose function words dominate, or None if unsure."""
    counts = dict.fromkeys(STOPWORDS, 0)
    # Count each distinct token once, then credit its languages.
    for token, k in Counter(_WORD.findall(text[:20_000].lower())).items():
        for lang in _LANGS_OF.get(token, ()):
            counts[lang] += k
    best = max(counts, key=counts.__getitem__)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] < min_hits or ranked[0] < 1.5 * ranked[1]:
        return None
    return best
