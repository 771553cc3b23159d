"""A static news site as static generators emit it, served by a real nginx.

``build_sites`` writes two sites (our own pages, generated here): "The Harbour Ledger"
(``ledger``) and "Coastal Wire" (``wire``, which carries two credited copies of Ledger
stories). Each is laid out the way Hugo, Jekyll or Eleventy emit a site:
``/section/slug/index.html`` (nginx answers ``/section/slug`` with a 301 to the slash
form), a home page with teasers and ``/page/2/``, section, tag, author and date-archive
listings, an About page, an RSS feed, a sitemap index, and a robots.txt with
``Disallow``, ``Crawl-delay`` and ``Sitemap`` lines; articles carry JSON-LD and
OpenGraph metadata, author boxes ("View all posts by ...", "Follow", "More from ..."),
comment sections with later ``<time>`` stamps, and related-story teasers.

``Nginx`` runs the Debian nginx binary on them (gzip and ETags on, an access log with
request times and conditional headers). Used by tests/test_realsite_nginx.py and
bench/realsite.py.
"""

from __future__ import annotations

import html
import json
import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

CRAWL_DELAY = 0.2
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

_WORDS = (
    "harbour council budget ferry island fishermen season report storm tide market prices "
    "school teachers parents library museum festival music theatre gallery painters river bridge "
    "engineers repair traffic commuters station railway timetable weather forecast wind coast "
    "village mayor vote residents housing rents tenants landlords planning permit builders "
    "hospital nurses doctors clinic waiting patients ambulance volunteers charity donations "
    "farmers harvest apples orchard cider rain drought water reservoir pipes leaks inspectors "
    "company workers wages union strike talks agreement factory shipyard orders steel welders "
    "tourists hotels restaurants chefs menu visitors summer winter lighthouse keepers museum "
    "archive letters history sailors voyage captain cargo container port cranes dockers night "
    "police officers court judge trial witnesses evidence jury verdict appeal lawyers fines "
    "energy turbines solar panels grid cables substation bills households savings bank loans "
    "students university research scientists samples laboratory results study funding grant "
    "football club players coach stadium match league goals supporters tickets season final"
).split()
_VERBS = "said reported announced expected confirmed argued warned promised approved rejected planned".split()


def prose(seed: str, paragraphs: int = 5) -> list[str]:
    """Paragraphs of plain English-like prose, different for every seed."""
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(4):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(12, 18))]
            words.insert(rng.randint(2, 6), rng.choice(_VERBS))
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return out


@dataclass(frozen=True)
class Story:
    site: str
    section: str
    slug: str
    title: str
    author: str
    author_slug: str
    published: datetime
    tags: tuple[str, ...]
    text_seed: str  # copies share their original's seed: the same text
    original: str | None = None  # a copy: the original's path on the ledger site
    credit: str = ""  # "line" (credit line with a link) / "canonical" (rel=canonical) / ""
    plain: bool = False  # no JSON-LD / OpenGraph / meta: only <time> and rel=author

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.slug}/"


@dataclass
class Site:
    name: str
    title: str
    root: Path
    port: int
    host: str = "127.0.0.1"  # two outlets need two host names ("localhost" for the second)
    stories: list[Story] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)  # paths of listing pages
    disallowed: tuple[str, ...] = ()  # paths that exist, are linked, and robots.txt forbids

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path


AUTHORS = {"jane-doe": "Jane Doe", "omar-haddad": "Omar Haddad", "li-wen": "Li Wen"}


def _ledger_stories() -> list[Story]:
    t0 = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
    plan = [
        ("news", "ferry-timetable-changes", "Ferry timetable changes for the winter season", "jane-doe"),
        (
            "news",
            "council-approves-harbour-budget",
            "Council approves the harbour budget after late vote",
            "omar-haddad",
        ),
        ("news", "storm-damages-sea-wall", "Storm damages the old sea wall near the station", "li-wen"),
        ("business", "shipyard-wins-steel-order", "Shipyard wins a large steel order from abroad", "omar-haddad"),
        ("business", "cider-makers-count-harvest", "Cider makers count the cost of a dry harvest", "jane-doe"),
        ("business", "dockers-agree-new-wage-deal", "Dockers agree a new wage deal with the port", "li-wen"),
        ("culture", "lighthouse-museum-reopens", "Lighthouse museum reopens with sailors' letters", "jane-doe"),
        ("culture", "winter-music-festival-lineup", "Winter music festival announces its lineup", "li-wen"),
        ("culture", "painters-return-to-the-quay", "Painters return to the quay for the autumn show", "omar-haddad"),
    ]
    stories = []
    for i, (section, slug, title, author) in enumerate(plan):
        stories.append(
            Story(
                site="ledger",
                section=section,
                slug=slug,
                title=title,
                author=AUTHORS[author],
                author_slug=author,
                published=t0 + timedelta(days=i, hours=i % 4),
                tags=("harbour", section) if i % 2 == 0 else (section,),
                text_seed=f"ledger/{slug}",
                plain=(i == 4),
            )
        )
    return stories


def _wire_stories(ledger: list[Story]) -> list[Story]:
    t0 = datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
    own = [
        ("coast", "wind-farm-cable-landing", "Wind farm cable comes ashore at the point", "li-wen"),
        ("coast", "tide-gauge-records-high", "Tide gauge records the highest water in years", "jane-doe"),
        ("region", "railway-bridge-repairs-begin", "Railway bridge repairs begin on Monday", "omar-haddad"),
    ]
    stories = [
        Story("wire", s, slug, title, AUTHORS[a], a, t0 + timedelta(days=i, hours=2), (s,), f"wire/{slug}")
        for i, (s, slug, title, a) in enumerate(own)
    ]
    # Two credited copies, dated BEFORE their originals (copies often carry an earlier
    # wire time): the credit, not the date, must make the Ledger page the representative.
    for original, credit in ((ledger[1], "line"), (ledger[6], "canonical")):
        stories.append(
            Story(
                site="wire",
                section="region",
                slug=original.slug,
                title=original.title,
                author=original.author,
                author_slug=original.author_slug,
                published=original.published - timedelta(hours=5),
                tags=("region",),
                text_seed=original.text_seed,
                original=original.path,
                credit=credit,
            )
        )
    return stories


def _page(site: Site, title: str, body: str, *, head: str = "", body_class: str = "") -> str:
    cls = f' class="{body_class}"' if body_class else ""
    nav = " ".join(f'<a href="/{s}/">{s.title()}</a>' for s in sorted({s.section for s in site.stories}))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} | {site.title}</title>"
        f'<link rel="alternate" type="application/rss+xml" title="{site.title}" href="/index.xml">'
        f'{head}</head>\n<body{cls}><header><a href="/">{site.title}</a> <nav>{nav} '
        f'<a href="/about/">About</a></nav></header>\n<main>{body}</main>\n'
        f"<footer><p>Copyright 2026 {site.title}. All rights reserved.</p>"
        f'<p><a href="/about/">About us</a> <a href="/index.xml">RSS</a></p></footer></body></html>\n'
    )


def _ld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _article_html(site: Site, story: Story, sites: dict[str, Site]) -> str:
    own = site.url(story.path)
    iso = story.published.isoformat()
    paras = prose(story.text_seed)
    body_paras = "\n".join(f"<p>{p}</p>" for p in paras)
    canonical = own
    credit = ""
    if story.original is not None:
        original_url = sites["ledger"].url(story.original)
        if story.credit == "line":
            credit = f'<p>Originally published at <a href="{original_url}">The Harbour Ledger</a>.</p>'
        else:
            canonical = original_url
            credit = "<p>This story first appeared in The Harbour Ledger.</p>"
    head = f'<link rel="canonical" href="{canonical}">'
    if not story.plain:
        head += (
            '<meta property="og:type" content="article">'
            f'<meta property="og:title" content="{html.escape(story.title)}">'
            f'<meta property="og:url" content="{canonical}">'
            f'<meta property="article:published_time" content="{iso}">'
            + _ld(
                {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": story.title,
                    "datePublished": iso,
                    "dateModified": (story.published + timedelta(hours=1)).isoformat(),
                    "author": {"@type": "Person", "name": story.author, "url": f"/authors/{story.author_slug}/"},
                    "publisher": {"@type": "Organization", "name": site.title},
                    "mainEntityOfPage": canonical,
                }
            )
        )
    author_box = (
        f'<aside class="author-box"><a href="/authors/{story.author_slug}/" rel="author">View all posts by '
        f'{story.author}</a> <a href="https://social.example/@{story.author_slug}">Follow</a> '
        f'<a href="/authors/{story.author_slug}/">More from {story.author}</a></aside>'
    )
    byline = (
        f'<p class="byline">By <a href="/authors/{story.author_slug}/" rel="author">{story.author}</a> · '
        f'<time datetime="{iso}">{story.published:%d %B %Y}</time></p>'
    )
    # The plain page has its author box before the byline: the first rel=author is a trap.
    top = author_box + byline if story.plain else byline
    bottom = "" if story.plain else author_box
    comments = "".join(
        f'<article class="comment" id="comment-{n}"><p>Reader {n} wrote: thanks for the report on this.</p>'
        f'<time datetime="{(story.published + timedelta(hours=3 * n)).isoformat()}">later</time></article>'
        for n in (1, 2)
    )
    tags = " ".join(f'<a href="/tags/{t}/" rel="tag">{t}</a>' for t in story.tags)
    related = [s for s in site.stories if s is not story][:3]
    related_html = "".join(f'<h3><a href="{s.path}">{html.escape(s.title)}</a></h3>' for s in related)
    body = (
        f"<article><h1>{html.escape(story.title)}</h1>{top}{body_paras}{credit}<p>Tags: {tags}</p>{bottom}</article>"
        f'<section id="comments" class="comments"><h2>2 comments</h2>{comments}</section>'
        f'<section class="related"><h2>Related</h2>{related_html}</section>'
    )
    return _page(site, story.title, body, head=head, body_class="single")


def _teasers(stories: list[Story]) -> str:
    return "\n".join(
        f'<article class="teaser"><h2><a href="{s.path}">{html.escape(s.title)}</a></h2>'
        f"<p>{prose(s.text_seed, 1)[0].split('. ')[0]}.</p></article>"
        for s in stories
    )


def _listing(site: Site, path: str, title: str, stories: list[Story], *, head: str = "", extra: str = "") -> None:
    body = f"<h1>{html.escape(title)}</h1>{_teasers(stories)}{extra}"
    _write(site.root, path, _page(site, title, body, head=head, body_class="list"))
    site.listings.append(path)


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _build(site: Site, sites: dict[str, Site]) -> None:
    newest = sorted(site.stories, key=lambda s: s.published, reverse=True)
    for story in site.stories:
        _write(site.root, story.path, _article_html(site, story, sites))
    traps = ""
    if site.disallowed:
        traps = "".join(f'<p><a href="{p}">Members only</a></p>' for p in site.disallowed)
        for path in site.disallowed:
            if "?" not in path:
                _write(site.root, path, _page(site, "Members", "<h1>Members</h1><p>Sign in.</p>"))
    # Home: og:type website, the six newest, a link to page 2 and the traps.
    _listing(
        site,
        "/",
        site.title,
        newest[:6],
        head='<meta property="og:type" content="website">'
        + _ld({"@context": "https://schema.org", "@type": "WebSite", "name": site.title, "url": site.base + "/"}),
        extra=('<nav class="pagination"><a href="/page/2/">Older stories</a></nav>' if newest[6:] else "") + traps,
    )
    # Page 2: only rel=prev says it is a listing (no JSON-LD, no OpenGraph).
    if newest[6:]:
        _listing(site, "/page/2/", f"{site.title}: page 2", newest[6:], head='<link rel="prev" href="/">')
    for section in sorted({s.section for s in site.stories}):
        members = [s for s in newest if s.section == section]
        _listing(
            site,
            f"/{section}/",
            section.title(),
            members,
            head=_ld({"@context": "https://schema.org", "@type": "CollectionPage", "name": section.title()}),
        )
    for tag in sorted({t for s in site.stories for t in s.tags}):
        members = [s for s in newest if tag in s.tags]
        if len(members) >= 3:  # a tag page is only teasers: no metadata at all
            _listing(site, f"/tags/{tag}/", f"Tag: {tag}", members)
    for slug, name in AUTHORS.items():
        members = [s for s in newest if s.author_slug == slug]
        if members:
            _listing(
                site,
                f"/authors/{slug}/",
                name,
                members,
                head='<meta property="og:type" content="profile">'
                + _ld({"@context": "https://schema.org", "@type": "ProfilePage", "name": name}),
            )
    month = newest[0].published
    _listing(
        site,
        f"/{month:%Y}/{month:%m}/",
        f"Archive {month:%B %Y}",
        newest,
        head='<meta property="og:type" content="website">',
    )
    about = "".join(f"<p>{p}</p>" for p in prose(f"{site.name}/about", 3))
    _write(
        site.root,
        "/about/",
        _page(
            site,
            "About",
            f"<h1>About {site.title}</h1>{about}",
            head=_ld({"@context": "https://schema.org", "@type": "AboutPage", "name": "About"}),
        ),
    )
    site.listings.append("/about/")
    _write_feeds(site, newest)


def _write_feeds(site: Site, newest: list[Story]) -> None:
    items = []
    for i, s in enumerate(newest):
        # One item's feed date is three hours late (a feed that dates by last update):
        # the page's own date must win.
        when = s.published + timedelta(hours=3 if i == 1 else 0)
        items.append(
            f"<item><title>{html.escape(s.title)}</title><link>{site.url(s.path)}</link>"
            f"<guid>{site.url(s.path)}</guid><pubDate>{when:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            f"<description>{html.escape(s.title)}</description></item>"
        )
    (site.root / "index.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{site.title}</title><link>{site.base}/</link><description>{site.title}</description>"
        + "".join(items)
        + "</channel></rss>\n",
        encoding="utf-8",
    )
    urlset = "".join(
        f"<url><loc>{site.url(s.path)}</loc><lastmod>{(s.published + timedelta(hours=1)).isoformat()}</lastmod></url>"
        for s in newest
    )
    pages = "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in site.listings)
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    (site.root / "sitemap-posts.xml").write_text(f'<?xml version="1.0"?>\n<urlset {ns}>{urlset}</urlset>\n')
    (site.root / "sitemap-pages.xml").write_text(f'<?xml version="1.0"?>\n<urlset {ns}>{pages}</urlset>\n')
    (site.root / "sitemap.xml").write_text(
        f'<?xml version="1.0"?>\n<sitemapindex {ns}>'
        f"<sitemap><loc>{site.url('/sitemap-posts.xml')}</loc></sitemap>"
        f"<sitemap><loc>{site.url('/sitemap-pages.xml')}</loc></sitemap></sitemapindex>\n"
    )
    disallow = "".join(f"Disallow: {p}\n" for p in ("/members/", "/*?print="))
    (site.root / "robots.txt").write_text(
        "User-agent: *\n"
        + disallow
        + f"Crawl-delay: {CRAWL_DELAY}\n\nUser-agent: BadBot\nDisallow: /\n\n"
        + f"Sitemap: {site.url('/sitemap.xml')}\n"
    )


def build_sites(root: Path, ports: tuple[int, int]) -> dict[str, Site]:
    ledger = Site("ledger", "The Harbour Ledger", root / "ledger", ports[0])
    wire = Site("wire", "Coastal Wire", root / "wire", ports[1], host="localhost")
    ledger.stories = _ledger_stories()
    wire.stories = _wire_stories(ledger.stories)
    first = ledger.stories[0]
    ledger.disallowed = ("/members/", f"{first.path}?print=1")
    sites = {"ledger": ledger, "wire": wire}
    for site in sites.values():
        _build(site, sites)
    return sites


# ---- nginx ------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)


def free_ports(count: int) -> tuple[int, ...]:
    """``count`` free loopback ports, from WIREDESK_TEST_PORTS ("25000-25999") when set
    (machines shared by several test runs), else any the kernel offers."""
    span = os.environ.get("WIREDESK_TEST_PORTS", "")
    candidates: list[int] = []
    if span:
        low, _, high = span.partition("-")
        candidates = list(range(int(low), int(high) + 1))
        random.shuffle(candidates)
    ports: list[int] = []
    for port in candidates or [0] * (count * 20):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            got = sock.getsockname()[1]
        if got not in ports:
            ports.append(got)
        if len(ports) == count:
            return tuple(ports)
    raise RuntimeError("no free ports")


_CONF = """
{user}
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 128; }}
http {{
    include {mime};
    default_type application/octet-stream;
    log_format wiredesk '$msec\\t$server_port\\t$request_method\\t$request_uri\\t$status\\t$http_if_none_match\\t'
                        '$http_if_modified_since\\t$http_user_agent\\t$request_time';
    access_log {run}/access.log wiredesk;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    sendfile on;
    keepalive_timeout 30;
    gzip on;
    gzip_min_length 256;
    gzip_types text/plain text/xml application/xml application/rss+xml;
    etag on;
{servers}
}}
"""

_SERVER = """
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        root {root};
        index index.html;
    }}
"""


@dataclass
class LogLine:
    at: float
    port: int
    method: str
    uri: str
    status: int
    if_none_match: str
    if_modified_since: str
    agent: str
    seconds: float = 0.0  # $request_time: from the first byte read to the last byte sent

    @property
    def started(self) -> float:
        """When the request arrived (nginx logs its end)."""
        return self.at - self.seconds

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


class Nginx:
    """A real nginx serving ``sites`` on their ports, for as long as the context lasts."""

    def __init__(self, sites: dict[str, Site], run_dir: Path) -> None:
        self.sites = sites
        self.run_dir = run_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx-light)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        servers = "".join(_SERVER.format(port=s.port, root=s.root) for s in self.sites.values())
        mime = "/etc/nginx/mime.types" if Path("/etc/nginx/mime.types").exists() else "mime.types"
        # As root, workers would drop to "nobody", who cannot read a 0700 pytest tmp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.run_dir / "nginx.conf"
        conf.write_text(_CONF.format(user=user, run=self.run_dir, mime=mime, servers=servers))
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.run_dir), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"nginx exited: {err.strip()}")
            if all(_listening(s.port) for s in self.sites.values()):
                return self
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("nginx did not start listening within 15 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def log(self) -> list[LogLine]:
        """The access log's lines. nginx writes a request's line after it has sent the response,
        so a client can have its answer before the line is there: wait until the log has not
        grown for a moment (at most 3 s)."""
        path = self.run_dir / "access.log"
        if not path.exists():
            return []
        size, quiet, deadline = -1, 0, time.monotonic() + 3
        while quiet < 3 and time.monotonic() < deadline:
            now = path.stat().st_size
            quiet = quiet + 1 if now == size else 0
            size = now
            time.sleep(0.05)
        out = []
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) != 9:
                continue
            at, port, method, uri, status, inm, ims, agent, took = parts
            line = LogLine(float(at), int(port), method, uri, int(status), _dash(inm), _dash(ims), agent, float(took))
            out.append(line)
        return out

    def clear_log(self) -> None:
        """Start a new access log (nginx reopens its logs on SIGUSR1)."""
        path = self.run_dir / "access.log"
        path.unlink(missing_ok=True)
        if self.proc is not None:
            subprocess.run(["kill", "-USR1", str(self.proc.pid)], check=True)
            deadline = time.monotonic() + 5
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.02)


def _dash(value: str) -> str:
    return "" if value == "-" else value


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
