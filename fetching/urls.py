"""URLs in two forms: the one a request is sent to, and the one a page is known by.

``request_url``: a link as found, resolved against its page and without its fragment,
nothing else changed. That is what gets requested (and what robots.txt is matched
against): servers tell ``/story`` from ``/story/`` and answer the one they do not serve
with a redirect, so a "normalised" URL may cost a hop, or a loop.

``canonicalize_url``: the identity key only (seen-URL state, article ids, dedup), never
requested. courlan (trafilatura's URL library) lower-cases scheme and host, drops the
default port, strips tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ...) and
sorts the query; here credentials and fragment are dropped, dot segments resolved, escapes
normalised, and ``/story/``, ``/story`` and ``/story/index.html`` made one key.
``?p=123``-style URLs keep their query: it names the page.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit, urlunsplit

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "ncid",
        "cmpid",
        "soc_src",
        "soc_trk",
        "ocid",
        "at_medium",
        "at_campaign",
        "spm",
        "share",
        "ref_src",
        "ref_url",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "__hs", "ga_")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_RESERVED = ":/?#[]@!$&'()*+,;="
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


_INDEX_FILES = frozenset({"index.html", "index.htm", "index.php", "index.shtml", "default.htm", "default.aspx"})


def is_tracking_param(name: str) -> bool:
    """courlan's tracker rule, plus the click and mailing-list ids it does not know."""
    lowered = name.lower()
    if lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES):
        return True
    # courlan (with its package's imports, ~0.1 s) is loaded by the first URL with a query, not
    # by every process that imports this module (a run of page files without URLs never needs it).
    from courlan.clean import TRACKERS_RE

    return TRACKERS_RE.search(lowered) is not None


def request_url(found: str, base: str | None = None) -> str:
    """The URL to request for a link ``found`` on ``base``: resolved, fragment dropped,
    otherwise exactly as the site wrote it."""
    found = found.strip()
    url = urljoin(base, found) if base else found
    return urldefrag(url)[0]


def without_tracking(url: str) -> str:
    """``url`` with its tracking parameters removed and nothing else changed: how a page's
    own URL is recorded (``?utm_source=rss`` says how we came, not where the page is)."""
    if "?" not in url:  # no query: nothing to drop, no need to take the URL apart
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [p for p in parts.query.split("&") if p and not is_tracking_param(unquote(p.partition("=")[0]))]
    return urlunsplit(parts._replace(query="&".join(kept)))


def canonicalize_url(url: str) -> str:
    """The canonical spelling of ``url``. Non-http(s) URLs are returned stripped but unchanged
    otherwise (the fetcher refuses them with reason ``scheme``)."""
    if _is_canonical(url):
        return url
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in HTTP_SCHEMES:
        return url
    host = _canonical_host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        return url
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _canonical_path(parts.path)
    head, _, last = path.rpartition("/")
    if last.lower() in _INDEX_FILES:  # /story/index.html is /story/ is /story
        path = head or "/"
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


# A URL that is its own canonical spelling, known without taking it apart: lower-case scheme
# and host (ASCII labels), no credentials, port, query or fragment, a path of characters that
# need no escaping and no escape to normalise. The path must still pass _is_canonical's checks.
_CANONICAL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)")


def _is_canonical(url: str) -> bool:
    """True only when ``canonicalize_url`` would return ``url`` unchanged (the common case of
    a URL read from an archive or a feed): then the slow path (split, escapes, normpath,
    query) is skipped. False says nothing: the slow path decides."""
    match = _CANONICAL.fullmatch(url)
    if match is None:
        return False
    path = match.group(1)
    if path == "/":
        return True
    # normpath would change: doubled slashes, dot segments ("/." also catches "/.well-known":
    # left to the slow path), a trailing slash; and an index file is dropped.
    if "//" in path or "/." in path or path.endswith("/"):
        return False
    return path.rpartition("/")[2].lower() not in _INDEX_FILES


def host_key(url: str) -> str:
    """``host:port`` of an http(s) URL: the unit of politeness and robots.txt."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    host = (parts.hostname or "").lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower().rsplit("@", 1)[-1], "", "", ""))


def _canonical_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host or host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _normalise_escapes(text: str) -> str:
    """RFC 3986 6.2.2: upper-case escapes, decode escaped unreserved characters, escape what
    may not appear raw (spaces, non-ASCII). Reserved characters keep their form, escaped
    or not, because servers may tell them apart (``a%2Fb`` is not ``a/b``)."""
    text = _ESCAPE.sub(_unescape_unreserved, text)
    return quote(text, safe=_RESERVED + "%", errors="surrogateescape")


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(0)[1:], 16))
    return char if char in _UNRESERVED else match.group(0).upper()


def _canonical_path(path: str) -> str:
    if not path:
        return "/"
    path = _normalise_escapes(path)
    normalised = posixpath.normpath(path)
    if normalised.startswith("//"):
        normalised = "/" + normalised.lstrip("/")
    if normalised in (".", ""):
        normalised = "/"
    if not normalised.startswith("/"):
        normalised = "/" + normalised
    return normalised  # normpath already dropped the trailing slash


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    kept = []
    for part in query.split("&"):
        if not part:
            continue
        name = part.partition("=")[0]
        if is_tracking_param(unquote(name.replace("+", " "))):
            continue
        # Escapes normalised, "=" kept only where it was: "?print" and "?print=" may differ.
        kept.append(_normalise_escapes(part))
    kept.sort()
    return "&".join(kept)
