"""Hostile feeds and sitemaps: entity expansion of every known shape, hidden declarations,
external entities, and what must still work (HTML entities, external DTDs never read).

The memory test parses every attack in a child process (Python heap by tracemalloc, the
whole process by ru_maxrss) under an address-space cap, so a regression fails with numbers
instead of taking the machine's memory.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wiredesk.fetching.feeds import BadFeed, XmlBomb, parse_feed, parse_sitemap
from wiredesk.fetching.safexml import sanitize

MAX_EXTRA_MB = 50
MAX_SECONDS = 3.0  # per parse, on a loaded 2-core machine; each takes milliseconds
ITEM = b"<item><title>t</title><link>https://ex.com/a</link><description>%s</description></item>"


def rss(doctype: bytes, description: bytes = b"d") -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + doctype + b'\n<rss version="2.0"><channel><title>c</title>'
        b"<link>https://ex.com/</link>" + ITEM % description + b"</channel></rss>\n"
    )


def urlset(doctype: bytes, loc: bytes = b"https://ex.com/a") -> bytes:
    return (
        b'<?xml version="1.0"?>\n' + doctype + b'\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>" + loc + b"</loc></url></urlset>\n"
    )


# The reported feed: 97 KB, the declaration inside a comment of the DOCTYPE (so the strict
# parser sees no declaration, only an undefined entity), referenced 10,000 times.
COMMENTED = b'<!DOCTYPE rss [\n<!--\n<!ENTITY bomb "' + b"x" * 37_000 + b'">\n-->\n]>'
COMMENTED_REFS = b"&bomb;" * 10_000
LAUGHS = (
    b'<!DOCTYPE rss [\n<!ENTITY l0 "lol">\n'
    + b"".join(b'<!ENTITY l%d "%s">\n' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>"
)
QUADRATIC = b'<!DOCTYPE rss [\n<!ENTITY big "' + b"y" * 50_000 + b'">\n]>'
IN_PI = b'<!DOCTYPE rss [\n<?note\n<!ENTITY bomb "' + b"x" * 37_000 + b'">\n?>\n]>'
IN_QUOTES = b"<!DOCTYPE rss SYSTEM \"\n<!ENTITY bomb '" + b"x" * 37_000 + b"'>\n\">"
IN_PROLOG_COMMENT = b'<!--\n<!ENTITY bomb "' + b"x" * 37_000 + b'">\n-->\n<!DOCTYPE rss>'
EXTERNAL_FILE = b'<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>'


def external_http(port: int) -> bytes:
    return b'<!DOCTYPE rss [\n<!ENTITY remote SYSTEM "http://127.0.0.1:%d/entity">\n]>' % port


def external_parameter(port: int) -> bytes:
    return b'<!DOCTYPE rss [\n<!ENTITY %% p SYSTEM "http://127.0.0.1:%d/p.dtd">\n%%p;\n]>' % port


def external_dtd(port: int) -> bytes:  # a DOCTYPE naming an external DTD only: harmless once it is never read
    return b'<!DOCTYPE rss SYSTEM "http://127.0.0.1:%d/rss.dtd">' % port


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        body = b'<!ENTITY bomb "' + b"z" * 1000 + b'">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _bind(server_class: type[ThreadingHTTPServer]) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 in this project's test port range (22000-22999)."""
    ports = list(range(22000, 23000))
    random.shuffle(ports)
    for port in ports[:50]:
        try:
            return server_class(("127.0.0.1", port), _Counting)
        except OSError:
            continue
    raise RuntimeError("no free port in 22000-22999")


@pytest.fixture(scope="module")
def entity_server() -> Iterator[tuple[int, list[str]]]:
    """Where the external entities point: a real server that counts requests (there must be none)."""
    server = _bind(ThreadingHTTPServer)
    _Counting.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Counting.hits
    finally:
        server.shutdown()
        server.server_close()


def attack_cases(port: int) -> dict[str, tuple[str, bytes]]:
    """name -> (how to parse it, body): every one of these must be refused as xml-bomb."""
    cases = {
        "feed-commented-declaration": ("feed", rss(COMMENTED, COMMENTED_REFS)),
        "feed-billion-laughs": ("feed", rss(LAUGHS, b"&l9;")),
        "feed-quadratic": ("feed", rss(QUADRATIC, b"&big;" * 20_000)),
        "feed-declaration-in-pi": ("feed", rss(IN_PI, COMMENTED_REFS)),
        "feed-declaration-in-quoted-id": ("feed", rss(IN_QUOTES, COMMENTED_REFS)),
        "feed-declaration-in-prolog-comment": ("feed", rss(IN_PROLOG_COMMENT, COMMENTED_REFS)),
        "feed-external-file": ("feed", rss(EXTERNAL_FILE, b"&secret;")),
        "feed-external-http": ("feed", rss(external_http(port), b"&remote;")),
        "feed-external-parameter": ("feed", rss(external_parameter(port))),
        "feed-utf16-commented-declaration": ("feed", rss(COMMENTED, COMMENTED_REFS).decode().encode("utf-16")),
        "sitemap-commented-declaration": ("sitemap", urlset(COMMENTED, COMMENTED_REFS)),
        "sitemap-billion-laughs": ("sitemap", urlset(LAUGHS, b"&l9;")),
        "sitemap-quadratic": ("sitemap", urlset(QUADRATIC, b"&big;" * 20_000)),
        "sitemap-declaration-in-pi": ("sitemap", urlset(IN_PI, COMMENTED_REFS)),
        "sitemap-external-file": ("sitemap", urlset(EXTERNAL_FILE, b"&secret;")),
        "sitemap-external-http": ("sitemap", urlset(external_http(port), b"&remote;")),
    }
    for name in ("sitemap-commented-declaration", "sitemap-billion-laughs", "sitemap-external-http"):
        cases[name.replace("sitemap", "sitemap-gzip")] = ("sitemap", gzip.compress(cases[name][1]))
    return cases


def test_the_reported_feed_is_97_kb_with_10000_references() -> None:
    body = rss(COMMENTED, COMMENTED_REFS)
    assert 95_000 < len(body) < 100_000 and body.count(b"&bomb;") == 10_000


def _parse(kind: str, body: bytes) -> object:
    if kind == "feed":
        return parse_feed(body, "https://ex.com/feed")
    return parse_sitemap(body, "https://ex.com/sitemap.xml", max_bytes=10_000_000)


@pytest.mark.parametrize("name", sorted(attack_cases(0)))
def test_attack_is_refused_as_xml_bomb(name: str, entity_server: tuple[int, list[str]]) -> None:
    port, hits = entity_server
    kind, body = attack_cases(port)[name]
    with pytest.raises(XmlBomb):
        _parse(kind, body)
    assert hits == [], "an external entity or DTD was fetched"


_CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import Path
from wiredesk.fetching.feeds import parse_feed, parse_sitemap

def vm_bytes():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return None

parse_feed(Path(sys.argv[1], "warm.feed").read_bytes(), "https://ex.com/f")  # lazy imports
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
vm = vm_bytes()
if vm:  # a regression must hit a wall, not the machine's memory
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = vm + int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
out = {}
for path in sorted(Path(sys.argv[1]).glob("case-*")):
    body = path.read_bytes()
    kind = path.suffix[1:]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        if kind == "feed":
            parse_feed(body, "https://ex.com/f")
        else:
            parse_sitemap(body, "https://ex.com/s.xml", max_bytes=10_000_000)
        outcome = "parsed"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as exc:
        outcome = type(exc).__name__
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out[path.stem[5:]] = {"outcome": outcome, "seconds": seconds, "peak": peak}
out["_extra_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base_rss
print(json.dumps(out))
"""


def test_every_attack_parses_in_bounded_memory_and_time(tmp_path: Path, entity_server: tuple[int, list[str]]) -> None:
    port, hits = entity_server
    (tmp_path / "warm.feed").write_bytes(rss(b"", b"&nbsp;"))
    cases = attack_cases(port)
    for name, (kind, body) in cases.items():
        (tmp_path / f"case-{name}.{kind}").write_bytes(body)
    cap = 512 * 1024 * 1024
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path), str(cap)], capture_output=True, text=True, timeout=300
    )
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout)
    extra_rss = report.pop("_extra_rss")
    print(json.dumps(report, indent=1), f"extra rss {extra_rss / 2**20:.1f} MB")
    assert set(report) == set(cases)
    for name, row in report.items():
        assert row["outcome"] == "XmlBomb", f"{name}: {row}"
        assert row["peak"] < MAX_EXTRA_MB * 2**20, f"{name}: {row['peak'] / 2**20:.0f} MB of Python heap"
        assert row["seconds"] < MAX_SECONDS, f"{name}: {row['seconds']:.1f} s"
    assert extra_rss < MAX_EXTRA_MB * 2**20, f"{extra_rss / 2**20:.0f} MB more resident memory"
    assert hits == []


def test_declarations_inside_cdata_are_text_not_declarations() -> None:
    hidden = b'<![CDATA[<!DOCTYPE x [\n<!ENTITY bomb "' + b"x" * 1000 + b'">\n]>&bomb;&bomb;]]>'
    entries = parse_feed(rss(b"", hidden), "https://ex.com/feed")
    assert [e.url for e in entries] == ["https://ex.com/a"]
    assert hidden in sanitize(rss(b"", hidden), "u")  # kept verbatim, never expanded


def test_external_dtd_is_dropped_unread(entity_server: tuple[int, list[str]]) -> None:
    port, hits = entity_server
    entries = parse_feed(rss(external_dtd(port), b"a&nbsp;b"), "https://ex.com/feed")
    assert [e.url for e in entries] == ["https://ex.com/a"]
    sitemap = parse_sitemap(urlset(external_dtd(port)), "https://ex.com/s.xml", max_bytes=10**6)
    assert [e.url for e in sitemap.entries] == ["https://ex.com/a"]
    assert hits == []


def test_doctype_bounds_respect_quotes_comments_and_pis() -> None:
    doctype = b'<!DOCTYPE rss [\n<!ATTLIST rss v CDATA "]>">\n<!-- ]> -->\n<?pi ]> ?>\n<!ELEMENT rss ANY>\n]>'
    body = rss(doctype)
    clean = sanitize(body, "u")
    assert b"DOCTYPE" not in clean and b"ATTLIST" not in clean and b"<?pi" not in clean
    assert [e.url for e in parse_feed(body, "https://ex.com/feed")] == ["https://ex.com/a"]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ATTLIST rss v CDATA "unterminated]><rss/>',
        b'<?xml version="1.0"?><!DOCTYPE rss [<!-- open ]><rss/>',
        b"<?xml version='1.0'?><rss><channel><!-- never closed </channel></rss>",
        b"<rss><channel></channel></rss><!DOCTYPE late>",
    ],
)
def test_markup_left_open_is_bad_feed(body: bytes) -> None:
    with pytest.raises(BadFeed):
        parse_feed(body, "https://ex.com/feed")


def test_html_named_entities_become_characters() -> None:
    body = rss(b"", b"caf&eacute;&nbsp;&hellip; &amp; &lt;b&gt; &#233; &copy;&undefined-name;")
    clean = sanitize(body, "u")
    assert b"&#xE9;&#xA0;&#x2026; &amp; &lt;b&gt; &#233; &#xA9;&amp;undefined-name;" in clean
    assert [e.url for e in parse_feed(body, "https://ex.com/feed")] == ["https://ex.com/a"]
    # RSS 0.91's Netscape DOCTYPE names a DTD of HTML entities: dropped, the entities mapped.
    netscape = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.2/rss.dtd">'
    assert [e.url for e in parse_feed(rss(netscape, b"&mdash;"), "https://ex.com/feed")] == ["https://ex.com/a"]


def test_html_entities_in_a_sitemap_no_longer_lose_the_sitemap() -> None:
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://ex.com/a</loc>'
        b"<news:news><news:title>Caf&eacute;&nbsp;news</news:title></news:news></url></urlset>"
    )
    for data in (body, gzip.compress(body)):
        assert [e.url for e in parse_sitemap(data, "https://ex.com/s.xml", max_bytes=10**6).entries] == [
            "https://ex.com/a"
        ]


def test_utf16_feed_parses() -> None:
    body = rss(b"", b"caf&eacute;").decode().encode("utf-16")
    assert [e.url for e in parse_feed(body, "https://ex.com/feed")] == ["https://ex.com/a"]
