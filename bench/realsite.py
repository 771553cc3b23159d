"""Real sites as real servers serve them: `wiredesk run`, twice, against
- two static sites generated the way static generators emit them, behind a real nginx
  (tests/realsite.py: /section/slug/index.html, 301 to the slash form, gzip + ETags,
  robots.txt with Disallow / Crawl-delay / Sitemap, RSS, sitemap index, listings);
- a stock WordPress 6 from the Debian packages (Apache + mod_php + mod_deflate + MariaDB,
  "Month and name" permalinks, feeds, wp-sitemap, posts with comments and a credited copy),
  brought up by scripts/wordpress.sh (needs root the first time: it installs the packages).

Per site it prints: articles stored / expected, non-articles stored, robots violations (from
the server's access log, checked with protego against the site's robots.txt), author and date
right, credited copies whose original is the representative; on the second run: new
records, requests for article pages, and the share of requests for resources that sent a
validator (ETag or Last-Modified) that were conditional and answered 304.

    .venv/bin/python bench/realsite.py                # all three sites (~2 min)
    .venv/bin/python bench/realsite.py --no-wordpress  # the nginx sites only
    .venv/bin/python bench/realsite.py --ports 25000-25999 --keep /tmp/realsite

Our own pages (generated prose), never benchmark ground truth.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protego import Protego  # noqa: E402

from tests.realsite import AUTHORS, LogLine, Nginx, build_sites, free_ports, prose  # noqa: E402
from wiredesk.fetching import canonicalize_url  # noqa: E402

AGENT = "wiredesk-bench/1.0 (+https://example.org/bench)"


@dataclass
class Truth:
    name: str
    base: str
    articles: dict[str, dict]  # own URL -> {author, published, original}
    robots: str
    log: Callable[[], list[LogLine]]


def wordpress_content(wire) -> dict:
    """Posts for the WordPress site: our own prose, comments three hours and more after the
    post, and one credited copy of a Coastal Wire story (dated before its original)."""
    t0 = datetime(2026, 11, 4, 6, 45, tzinfo=UTC)
    users = [{"login": slug.replace("-", ""), "name": name} for slug, name in AUTHORS.items()]
    titles = [
        ("Harbour master retires after thirty winters", "News", ["harbour"]),
        ("New bus route links the villages to the station", "News", ["transport"]),
        ("Library extends opening hours for students", "Community", ["library"]),
        ("Fishing quota talks stall again", "News", ["harbour", "fishing"]),
        ("Orchard open day draws record crowds", "Community", ["farming"]),
        ("Clinic recruits three new nurses", "Health", ["health"]),
        ("Choir prepares for the winter concert", "Community", ["music"]),
        ("Sea swimmers raise money for the lifeboat", "Community", ["charity", "harbour"]),
        ("Planning board rejects hotel extension", "News", ["planning"]),
        ("Football club names a new coach", "Sport", ["football"]),
        ("Solar panels go up on the school roof", "News", ["energy"]),
    ]
    posts = []
    for i, (title, category, tags) in enumerate(titles):
        when = t0 + timedelta(days=i, hours=i % 5)
        comments = []
        if i % 3 == 0:  # comments on every third post, the last one a day later
            comments = [
                {"author": f"Reader {n}", "date_gmt": _gmt(when + timedelta(hours=3 * n)), "text": f"Comment {n}."}
                for n in (1, 2, 8)
            ]
        posts.append(
            {
                "title": title,
                "author": users[i % len(users)]["login"],
                "date_gmt": _gmt(when),
                "categories": [category],
                "tags": tags,
                "content": "\n\n".join(
                    f"<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->" for p in prose(title)
                ),
                "comments": comments,
            }
        )
    original = wire.stories[0]
    posts.append(
        {
            "title": original.title,
            "author": users[0]["login"],
            "date_gmt": _gmt(original.published - timedelta(hours=4)),
            "categories": ["News"],
            "tags": ["energy"],
            "content": "\n\n".join(
                f"<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->" for p in prose(original.text_seed)
            )
            + f'\n\n<!-- wp:paragraph -->\n<p>Originally published at <a href="{wire.url(original.path)}">Coastal Wire</a>.</p>\n<!-- /wp:paragraph -->',
            "comments": [],
            "original": wire.url(original.path),
        }
    )
    pages = [
        {"title": "About", "content": "<p>" + " ".join(prose("wp/about", 2)) + "</p>"},
        {"title": "Contact", "content": "<p>Write to the newsroom at the harbour office.</p>"},
    ]
    return {"title": "Harbour Notes", "tagline": "News from the bay", "users": users, "posts": posts, "pages": pages}


def _gmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def apache_log(path: Path) -> list[LogLine]:
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) != 8:
            continue
        at, port, method, uri, status, inm, ims, agent = parts
        dash = lambda v: "" if v == "-" else v  # noqa: E731
        out.append(LogLine(float(at), int(port), method, uri, int(status), dash(inm), dash(ims), agent))
    return out


def run_wiredesk(config: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/wiredesk"), "run", "--config", str(config), "--json", "--no-export"],
        capture_output=True,
        text=True,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )
    if proc.returncode != 0:
        sys.exit(f"wiredesk run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    summary["_bench_seconds"] = time.perf_counter() - started
    return summary


def stored_articles(db: Path) -> list[dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT id, source, url, author, published, duplicate_of FROM articles")]


def validated_keys(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url FROM fetch_state WHERE etag IS NOT NULL OR last_modified IS NOT NULL")
        return {r[0] for r in rows}


def same_time(a: str | None, b: str) -> bool:
    if not a:
        return False
    try:
        x = datetime.fromisoformat(a.replace("Z", "+00:00"))
    except ValueError:
        return False
    if x.tzinfo is None:
        return False
    return x == datetime.fromisoformat(b)


def report(truths: list[Truth], db: Path, first: dict, logs1: dict, logs2: dict, before: list[dict]) -> None:
    after = stored_articles(db)
    by_url = {a["url"]: a for a in after}
    validated = validated_keys(db)
    print(f"\nfirst run {first['_bench_seconds']:.1f} s; summary not_articles={first.get('not_articles')}")
    header = (
        "| site | stored / expected | non-articles stored | robots violations | author right | date right |"
        " originals represent copies | min gap s (Crawl-delay) | run 2: new records | run 2: article requests"
        " | run 2: 304 share |"
    )
    print(header)
    print("|" + "---|" * 11)
    for t in truths:
        mine = [a for a in after if a["url"] and a["url"].startswith(t.base)]
        expected = set(t.articles)
        stored = [a for a in mine if a["url"] in expected]
        extra = sorted(a["url"] for a in mine if a["url"] not in expected)
        robots = Protego.parse(t.robots)
        ours1 = [line for line in logs1[t.name] if line.agent == AGENT]
        violations = [line.uri for line in ours1 if not robots.can_fetch(t.base + line.uri, AGENT)]
        author_ok = sum(1 for a in stored if a["author"] == t.articles[a["url"]]["author"])
        date_ok = sum(1 for a in stored if same_time(a["published"], t.articles[a["url"]]["published"]))
        copies = [(u, v["original"]) for u, v in t.articles.items() if v.get("original")]
        rep_ok = 0
        for url, original in copies:
            copy, orig = by_url.get(url), by_url.get(original)
            if copy and orig and orig["duplicate_of"] is None and copy["duplicate_of"] == orig["id"]:
                rep_ok += 1
        times = sorted(line.at for line in ours1)
        gap = min((b - a for a, b in zip(times, times[1:])), default=0.0)
        delay = robots.crawl_delay(AGENT)
        new = len([a for a in mine if a["id"] not in {b["id"] for b in before}])
        ours2 = [line for line in logs2[t.name] if line.agent == AGENT]
        paths = {u[len(t.base) :] for u in expected}
        article_requests = sum(1 for line in ours2 if line.uri in paths or line.uri.rstrip("/") + "/" in paths)
        with_validator = [line for line in ours2 if canonicalize_url(t.base + line.uri) in validated]
        share = sum(1 for line in with_validator if line.conditional and line.status == 304)
        share_text = f"{share}/{len(with_validator)}" + (
            f" = {share / len(with_validator):.0%}" if with_validator else ""
        )
        print(
            f"| {t.name} | {len(stored)} / {len(expected)} (distinct URLs {len({a['url'] for a in stored})}) "
            f"| {len(extra)} | {len(violations)} | {author_ok}/{len(stored)} | {date_ok}/{len(stored)} "
            f"| {rep_ok}/{len(copies)} | {gap:.3f} ({delay if delay is not None else '-'}) "
            f"| {new} | {article_requests} | {share_text} "
            f"(of {len(ours2)} requests) |"
        )
        if extra:
            print(f"    non-articles stored: {extra[:5]}")
        if violations:
            print(f"    robots violations: {violations[:5]}")
        wrong = [
            (a["url"], a["author"], a["published"])
            for a in stored
            if a["author"] != t.articles[a["url"]]["author"]
            or not same_time(a["published"], t.articles[a["url"]]["published"])
        ]
        if wrong:
            print(f"    wrong author/date: {wrong[:4]}")
        missing = sorted(expected - {a["url"] for a in stored})
        if missing:
            print(f"    missing: {missing[:5]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ports", default=os.environ.get("WIREDESK_TEST_PORTS", ""), help="e.g. 25000-25999")
    ap.add_argument("--no-wordpress", action="store_true")
    ap.add_argument("--keep", type=Path, help="work directory to keep (default: a temporary one)")
    ap.add_argument("--interval", type=float, default=0.25, help="fetch.per_host_min_interval (s)")
    args = ap.parse_args()
    if args.ports:
        os.environ["WIREDESK_TEST_PORTS"] = args.ports
    work = args.keep or Path(tempfile.mkdtemp(prefix="wiredesk-realsite-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)
    ports = free_ports(3)
    sites = build_sites(work / "www", ports[:2])
    truths: list[Truth] = []
    wp_dir = work / "wordpress"
    with Nginx(sites, work / "nginx") as nginx:
        for site in sites.values():
            arts = {}
            for s in site.stories:
                original = sites["ledger"].url(s.original) if s.original else None
                arts[site.url(s.path)] = {
                    "author": s.author,
                    "published": s.published.isoformat(),
                    "original": original,
                }
            port = site.port
            truths.append(
                Truth(
                    site.name,
                    site.base,
                    arts,
                    (site.root / "robots.txt").read_text(),
                    lambda port=port: [line for line in nginx.log() if line.port == port],
                )
            )
        try:
            if not args.no_wordpress:
                content = wordpress_content(sites["wire"])
                (work / "wp-content.json").write_text(json.dumps(content))
                started = time.perf_counter()
                subprocess.run(
                    [
                        "bash",
                        str(ROOT / "scripts/wordpress.sh"),
                        "start",
                        str(wp_dir),
                        str(ports[2]),
                        str(work / "wp-content.json"),
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                print(f"WordPress up in {time.perf_counter() - started:.1f} s")
                wp = json.loads((wp_dir / "truth.json").read_text())
                originals = {p["title"]: p.get("original") for p in content["posts"]}
                arts = {
                    a["url"]: {
                        "author": a["author"],
                        "published": a["published"],
                        "original": originals.get(a["title"]),
                    }
                    for a in wp["articles"]
                }
                base = wp["home"].rstrip("/")
                with urllib.request.urlopen(base + "/robots.txt") as resp:
                    robots = resp.read().decode()
                truths.append(Truth("wordpress", base, arts, robots, lambda: apache_log(wp_dir / "logs/access.log")))
            config = work / "wiredesk.yaml"
            db = work / "store" / "wiredesk.db"
            config.write_text(
                json.dumps(
                    {
                        "store": {"url": str(db)},
                        "run": {"workers": 1},
                        "fetch": {
                            "allow_private": ["127.0.0.1"],
                            "user_agent": AGENT,
                            "per_host_min_interval": args.interval,
                        },
                        "sources": [{"name": t.name, "sites": [t.base + "/"]} for t in truths],
                    }
                )
            )
            first = run_wiredesk(config)
            logs1 = {t.name: t.log() for t in truths}
            before = stored_articles(db)
            marks = {t.name: len(logs1[t.name]) for t in truths}
            second = run_wiredesk(config)
            logs2 = {t.name: t.log()[marks[t.name] :] for t in truths}
            report(truths, db, first, logs1, logs2, before)
            print(
                f"second run {second['_bench_seconds']:.1f} s; stored {second['stored']}, not_modified {second['not_modified']}"
            )
        finally:
            if not args.no_wordpress:
                subprocess.run(["bash", str(ROOT / "scripts/wordpress.sh"), "stop", str(wp_dir)], check=False)
    print(f"work directory: {work}")


if __name__ == "__main__":
    main()
