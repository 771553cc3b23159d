"""The values the fetch stage takes and gives: what to fetch (SourceSpec, Discovered) and
what came of it (FetchOutcome). Frozen, like every record in wiredesk."""

from __future__ import annotations

from dataclasses import dataclass

from wiredesk.core.records import FetchRecord, RawPage


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """One named source of the config: where its URLs come from."""

    name: str
    feeds: tuple[str, ...] = ()  # RSS / Atom
    sitemaps: tuple[str, ...] = ()  # urlset, sitemap index, Google News, .xml.gz, plain text
    urls: tuple[str, ...] = ()  # article URLs as given
    sites: tuple[str, ...] = ()  # home pages: <link rel=alternate> feeds + robots.txt Sitemap:
    # Regular expression (searched in the URL) that article URLs match and listing pages
    # do not; None: the page's own signals decide (fetching.pagetype).
    article_urls: str | None = None


@dataclass(frozen=True, slots=True)
class Discovered:
    """An article URL found by discovery (or given directly), with the source's hints."""

    url: str  # as found (resolved, fragment dropped): what is requested
    source: str
    published: str | None = None  # ISO 8601 from the feed entry / news:publication_date
    lastmod: str | None = None  # ISO 8601 from sitemap <lastmod> / feed <updated>: "it changed"


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What fetch() made of one Discovered URL.

    ``page`` is set only for a 2xx HTML/text article response; ``page.url`` is the page's
    own URL (where redirects ended), ``record.url`` the identity key (canonical form, the
    state's key), ``final_url`` where redirects ended, when they did.
    ``skipped`` is a reason code when no request was sent at all (``stored``, ``backoff``,
    ``gave-up``, ``duplicate``, ``robots``, ``ssrf``, ``scheme``, ``host-down``,
    ``host-backoff``) or, ``not-article``, when the page was fetched and is a listing
    (home, section, tag, author, archive, search, ``page/2``): used for discovery only.
    Otherwise ``record.reason`` says why a requested URL failed (None: success, including
    304, which has no page).
    """

    record: FetchRecord
    page: RawPage | None = None
    skipped: str | None = None
    final_url: str | None = None

    @property
    def reason(self) -> str | None:
        """The one code a report counts this outcome by (None: fetched or unchanged)."""
        return self.skipped or self.record.reason


@dataclass(frozen=True, slots=True)
class DiscoveryReport:
    """Everything discover() did: the article URLs found and one outcome per feed, sitemap,
    home page fetched on the way (their failures, e.g. ``bad-feed``, ``xml-bomb``)."""

    items: tuple[Discovered, ...]
    documents: tuple[FetchOutcome, ...]
