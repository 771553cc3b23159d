"""Load, once per process, what the extractors otherwise load on first use.

htmldate reads every dateparser locale, and dateparser compiles each locale's regexes
(about 3 s of CPU together), the first time a page needs its extensive date search;
trafilatura builds its justext stop-list on its first rescue; our language guess reads
justext's stop-list files (0.1-0.3 s) on the first non-Latin page. Paid inside each
worker of each batch's pool, that start-up cost would be repeated batch after batch;
paid once in the parent, forked workers inherit it.
"""

from __future__ import annotations

_warm = False


def warm_up() -> None:
    """Idempotent; failures are ignored (warming is an optimisation, never required)."""
    global _warm
    if _warm:
        return
    _warm = True
    try:
        from htmldate.extractors import get_external_parser, month_words

        month_words()
        # dateparser builds each locale's word-splitting regex the first time a string is
        # tried against that locale (~2.5 s of CPU for its ~200 locales); a string that is
        # a date in no language is tried against all of them, once, here.
        get_external_parser().get_date_data("Weather forecast")
    except Exception:  # noqa: BLE001 - a missing optional piece only means a cold start
        pass
    try:
        import trafilatura.external as tx

        if getattr(tx, "JT_STOPLIST", None) is None:
            tx.jt_stoplist_init()
    except Exception:  # noqa: BLE001
        pass
    from . import core, html, language  # noqa: F401 - core: the extraction modules, loaded once here

    html.warm()
    language.warm()
