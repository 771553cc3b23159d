"""warm_up loads the lazily built extraction data once, so pool workers inherit it."""

from wiredesk.extractors import html as html_path
from wiredesk.extractors import warm_up


def test_warm_up_loads_date_locales_and_readability_once():
    from htmldate.extractors import month_words

    warm_up()
    assert month_words.cache_info().currsize == 1  # dateparser's locales are loaded
    assert html_path._READABILITY is not None
    before = month_words.cache_info().hits
    warm_up()  # idempotent: the second call does nothing at all
    assert month_words.cache_info().hits == before


def test_forkserver_preload_module_warms_on_import():
    import importlib

    import wiredesk.extractors._preload as preload

    importlib.reload(preload)  # importing it is what the forkserver does
    assert html_path._READABILITY is not None
