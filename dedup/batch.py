"""Per-batch working records of the Deduplicator: a document node, union-find, lazy views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wiredesk.core.hosts import host_key
from wiredesk.core.records import Article, StoredArticle
from wiredesk.dedup.hosts import FurnitureView
from wiredesk.dedup.representative import published_ts


def host_of(article: Article) -> str | None:
    """The host whose furniture an article shares (None: no URL, no furniture memory):
    ``wiredesk.core.hosts.host_key``, so two sites on one address keep apart by port."""
    return host_key(article.url)


@dataclass(slots=True)
class _Doc:
    node: tuple[str, object]  # ("b", index in batch) or ("s", article id)
    article: Article
    shingles: np.ndarray
    host: str | None
    ts: float
    order: int
    stored: StoredArticle | None = None
    keys: np.ndarray | None = None  # LSH band keys
    sequence: np.ndarray | None = None  # shingle hashes in text order (same-host checks)
    anchors: np.ndarray | None = None  # anchor keys


class _LazyViews(dict):
    """host -> FurnitureView, built on first use: most hosts of a batch never need one."""

    def __init__(self, hosts: set[str], build: Callable[[str], FurnitureView]) -> None:
        super().__init__()
        self.hosts, self.build = hosts, build

    def __contains__(self, host: object) -> bool:
        return host in self.hosts

    def __missing__(self, host: str) -> FurnitureView:
        view = self[host] = self.build(host)
        return view


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb, key=repr)] = min(ra, rb, key=repr)


def _ts(article: Article) -> float:
    ts = published_ts(article.published)
    return ts if ts is not None else article.fetched_at.timestamp()
