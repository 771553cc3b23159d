"""The dedup stage: exact copies, verified near copies, clusters and their representatives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from wiredesk.core.records import Article, Assignment, StoredArticle
from wiredesk.dedup.batch import _Doc, _ts, _UnionFind, host_of
from wiredesk.dedup.hosts import FurnitureView, HostState, RecentDoc
from wiredesk.dedup.index import DocInfo, Index, IndexEntry, Staged
from wiredesk.dedup.minhash import Signer, anchor_keys, band_keys, band_keys_many
from wiredesk.dedup.representative import Member, choose
from wiredesk.dedup.settings import DedupSettings, lsh_bands
from wiredesk.dedup.text import batch_shingles, body_text, shingle_hashes
from wiredesk.dedup.verify import Verifier

if TYPE_CHECKING:
    from datasketch import LeanMinHash

Lookup = Callable[[Sequence[str]], Mapping[str, StoredArticle]]
_BATCH_ORDER = 1 << 62  # batch members sort after every stored member (store seq numbers)


@dataclass(frozen=True, slots=True)
class DedupResult:
    """``assignments``: one per input article, same order. ``updates``: stored articles whose
    cluster or representative changed because of this batch."""

    assignments: list[Assignment]
    updates: list[Assignment] = field(default_factory=list)


class Deduplicator(Verifier):
    """The stage. One per worker; ``index`` is its state, ``lookup`` reads the store (the truth)."""

    def __init__(self, settings: DedupSettings, index: Index, lookup: Lookup) -> None:
        self.settings = settings
        self.index = index
        self.lookup = lookup
        self.signer = Signer(num_perm=settings.num_perm, seed=settings.seed)
        self.bands, self.rows = lsh_bands(settings)
        self._shingle_cache: dict[str, tuple[str, np.ndarray]] = {}
        self._unit_of: dict[tuple, str] = {}
        self._view_cache: dict[str, tuple] = {}  # host -> (grouping, FurnitureView), one batch
        self._body_words: dict[str, float] = {}  # article id -> word_units of its body (verify.py)

    # ------------------------------------------------------------------ helpers
    def shingles(self, text: str) -> np.ndarray:
        return shingle_hashes(text, self.settings.shingle_size)

    def keys(self, shingles: np.ndarray) -> np.ndarray:
        return band_keys(self.signer.signature(shingles), self.bands, self.rows)

    def _stored_doc(self, st: StoredArticle) -> _Doc:
        cached = self._shingle_cache.get(st.id)
        if cached is None or cached[0] != st.article.content_hash:
            cached = (st.article.content_hash, self.shingles(body_text(st.article.text, st.article.title)))
            if len(self._shingle_cache) > 4000:  # ~5 KB each: a bounded memo across batches
                self._shingle_cache.clear()
            self._shingle_cache[st.id] = cached
        return _Doc(("s", st.id), st.article, cached[1], host_of(st.article), _ts(st.article), st.seq, stored=st)

    def minhash(self, article: Article | StoredArticle) -> LeanMinHash:
        """The article's full-text signature (what its LSH band keys come from) as a
        datasketch ``LeanMinHash``."""
        text = article.article.text if isinstance(article, StoredArticle) else article.text
        return self.signer.to_datasketch(self.signer.signature(self.shingles(text)))

    def _anchored(self, common: int, a: int, b: int) -> bool:
        return common >= 2 and common >= self.settings.anchor_share * min(a, b)

    def _within_window(self, ts: float, other: float) -> bool:
        w = self.settings.window_days
        return w is None or abs(ts - other) <= w * 86400.0

    # ------------------------------------------------------------------ assign
    def assign(self, articles: Sequence[Article], *, seq_base: int | None = None) -> DedupResult:
        """Decide exact / near / new for a batch of new articles (see the package docstring).

        ``seq_base`` is accepted for the store's convenience and not needed: ordering among
        stored articles comes from their ``seq``.
        """
        self.index.begin()
        try:
            result, staged = self._assign(list(articles))
        except BaseException:
            self.index.abort()
            raise
        self.index.stage(staged)
        return result

    def _assign(self, articles: list[Article]) -> tuple[DedupResult, Staged]:
        s = self.settings
        self._view_cache = {}
        # All texts' shingles and full signatures in a few numpy passes.
        hashes, offsets = batch_shingles([body_text(a.text, a.title) for a in articles], s.shingle_size)
        full_keys = band_keys_many(self.signer.signatures(hashes, offsets), self.bands, self.rows)
        batch: list[_Doc] = []
        for i, a in enumerate(articles):
            seq = hashes[offsets[i] : offsets[i + 1]]
            batch.append(_Doc(("b", i), a, np.unique(seq), host_of(a), _ts(a), _BATCH_ORDER + i, sequence=seq))
        own_ids = {a.id for a in articles}

        host_states = self.index.hosts({d.host for d in batch if d.host}) if s.host_furniture else {}

        # Exact copies: earlier in the batch first, then the index (confirmed by the store below).
        first_of_hash: dict[str, int] = {}
        exact_batch: dict[int, int] = {}
        for i, a in enumerate(articles):
            if batch[i].shingles.size == 0:  # no words at all: nothing to be a copy of
                continue
            j = first_of_hash.get(a.content_hash)
            if j is not None:
                exact_batch[i] = j
            else:
                first_of_hash[a.content_hash] = i
        views0 = self._views(batch, {d.node: d for d in batch}, _UnionFind(), host_states, exact_batch, {})
        units0 = dict(self._unit_of)
        # Two pages whose "text" is nothing but their host's furniture (an extraction that
        # missed the article) are not copies of each other, however equal.
        for i, j in list(exact_batch.items()):
            if (
                batch[i].host
                and batch[i].host == batch[j].host
                and self._furniture_only(batch[i], views0, (units0.get(batch[i].node), units0.get(batch[j].node)))
            ):
                del exact_batch[i]
        indexed_exact = self.index.exact({articles[i].content_hash for i in first_of_hash.values()})
        exact_ids = {x for ids in indexed_exact.values() for x in ids} - own_ids
        infos = self.index.docs(exact_ids)
        maybe_exact: dict[int, str] = {}
        for i, d in enumerate(batch):
            if i in exact_batch or d.shingles.size == 0:
                continue
            for cand in indexed_exact.get(d.article.content_hash, ()):
                info = infos.get(cand)
                if info is None or cand in own_ids or not self._within_window(d.ts, info.ts):
                    continue
                if (
                    d.host
                    and d.host == info.host
                    and self._furniture_only(d, views0, (units0.get(d.node), f"c:{info.cluster_id}"))
                ):
                    continue
                maybe_exact[i] = cand
                break

        # LSH candidates among the batch and from the index. Each article is looked up (and
        # indexed) under two signatures: of all its shingles, and of those left once its host's
        # furniture is removed. The second finds copies inside pages that kept a lot of site
        # text (their Jaccard similarity to a clean copy is far below the LSH threshold).
        table: dict[int, list[int]] = {}
        anchor_table: dict[int, list[int]] = {}
        anchor_common: dict[tuple[int, int], int] = {}
        batch_pairs: set[tuple[int, int]] = set()
        stored_cands: dict[int, set[str]] = {}
        anchor_hits: dict[int, dict[str, int]] = {}
        for i, d in enumerate(batch):
            if i in exact_batch or d.shingles.size < s.min_shingles:
                continue
            d.keys = full_keys[i]
            base = d.shingles
            if d.host in views0:
                stripped = views0[d.host].strip(d.shingles, (units0[d.node],))
                if s.min_shingles <= stripped.size < d.shingles.size:
                    d.keys = np.union1d(d.keys, self.keys(stripped))
                    base = stripped
            d.anchors = anchor_keys(base, rate=s.anchor_rate, cap=s.max_anchors)
            for k in d.keys.tolist():
                for j in table.get(k, ()):
                    batch_pairs.add((j, i))
                table.setdefault(k, []).append(i)
            for k in d.anchors.tolist():
                for j in anchor_table.get(k, ()):
                    anchor_common[(j, i)] = anchor_common.get((j, i), 0) + 1
                anchor_table.setdefault(k, []).append(i)
            anchors = d.anchors if d.anchors.size >= 2 else d.anchors[:0]
            found, hits = self.index.probe(d.keys, anchors, max_postings=s.anchor_postings)
            stored_cands[i] = found - own_ids
            if hits:
                anchor_hits[i] = {k: v for k, v in hits.items() if v >= 2 and k not in own_ids}
        for (j, i), common in anchor_common.items():
            if self._anchored(common, batch[j].anchors.size, batch[i].anchors.size):
                batch_pairs.add((j, i))
        infos.update(self.index.docs({x for h in anchor_hits.values() for x in h} - set(infos)))
        for i, found in anchor_hits.items():
            n = batch[i].anchors.size
            stored_cands[i] |= {x for x, c in found.items() if x in infos and self._anchored(c, n, infos[x].anchors)}
        wanted = set().union(*stored_cands.values()) if stored_cands else set()
        infos.update(self.index.docs(wanted - set(infos)))
        # The window bounds what is compared, by published date (else index time). A story
        # with thousands of stored copies is one cluster: a few of its members (the closest in
        # time) are enough to verify against.
        for i, cands in stored_cands.items():
            ts = batch[i].ts
            by_cluster: dict[str, list[str]] = {}
            for c in cands:
                if c in infos and self._within_window(ts, infos[c].ts):
                    by_cluster.setdefault(infos[c].cluster_id, []).append(c)
            stored_cands[i] = {
                c
                for members in by_cluster.values()
                for c in sorted(members, key=lambda c: (abs(infos[c].ts - ts), c))[: s.max_per_cluster]
            }
        wanted = set().union(*stored_cands.values()) if stored_cands else set()
        wanted.update(maybe_exact.values())
        stored = dict(self.lookup(sorted(wanted))) if wanted else {}
        stored = {k: v for k, v in stored.items() if k in wanted}
        # The store is the truth: an exact match it no longer holds (or holds changed) is none.
        exact_stored = {
            i: c
            for i, c in maybe_exact.items()
            if c in stored and stored[c].article.content_hash == articles[i].content_hash
        }
        docs: dict[tuple, _Doc] = {d.node: d for d in batch}
        for st in stored.values():
            docs[("s", st.id)] = self._stored_doc(st)

        uf = _UnionFind()
        for i, j in exact_batch.items():
            uf.union(("b", i), ("b", j))
        for i, cid in exact_stored.items():
            uf.union(("b", i), ("s", cid))
        pairs = [(("b", j), ("b", i)) for j, i in sorted(batch_pairs)]
        pairs += [
            (("b", i), ("s", c)) for i in sorted(stored_cands) for c in sorted(stored_cands[i]) if ("s", c) in docs
        ]
        more_hosts = {d.host for d in docs.values() if d.host} - set(host_states)
        if more_hosts and s.host_furniture:
            host_states.update(self.index.hosts(more_hosts))

        # Phase 1: same-host pairs (re-posts), with furniture counted outside the pair.
        # Phase 2: the rest, with same-host groups from phase 1 counted once.
        near: set[tuple] = set()
        verified: set[frozenset] = set()
        same = [p for p in pairs if docs[p[0]].host and docs[p[0]].host == docs[p[1]].host]
        same_set = set(same)
        other = [p for p in pairs if p not in same_set]
        for phase in (same, other):
            views = self._views(batch, docs, uf, host_states, exact_batch, exact_stored)
            for x, y in phase:
                if uf.find(x) == uf.find(y) and frozenset((x, y)) in verified:
                    continue
                ok, sim, weak = self._verify(docs[x], docs[y], views, uf, docs)
                if ok and weak and uf.find(x) != uf.find(y):
                    ok = self._corroborated(docs[x], docs[y], views, uf, docs)
                if ok:
                    uf.union(x, y)
                    verified.add(frozenset((x, y)))
                    # "near" marks the later of the two: the batch article when paired with a stored one.
                    near.add(x if y[0] == "s" else y)
        views = self._views(batch, docs, uf, host_states, exact_batch, exact_stored)
        return self._decide(articles, batch, docs, uf, near, exact_batch, exact_stored, stored, views, host_states)

    # ------------------------------------------------------------------ clusters
    def _decide(self, articles, batch, docs, uf, near, exact_batch, exact_stored, stored, views, host_states):
        s = self.settings
        comps: dict[object, list[tuple]] = {}
        for node in docs:
            comps.setdefault(uf.find(node), []).append(node)
        assignments: dict[int, Assignment] = {}
        updates: list[Assignment] = []
        moves: dict[str, str] = {}
        cluster_of_batch: dict[int, str] = {}
        changed = self._changed(articles)
        taken = self._still_used(changed, {a.id for a in articles})

        def new_cluster_id(i: int) -> str:
            # A new cluster takes its first article's id, unless that article was stored
            # before and its old cluster (named after it) still has other members.
            aid = articles[i].id
            return f"{aid}~{articles[i].content_hash[-12:]}" if aid in taken else aid

        for nodes in comps.values():
            b_nodes = sorted(n for n in nodes if n[0] == "b")
            if not b_nodes:
                continue
            if len(nodes) == 1:  # matched nothing: its own new cluster
                i = b_nodes[0][1]
                cluster_of_batch[i] = new_cluster_id(i)
                assignments[i] = Assignment(article_id=articles[i].id, cluster_id=cluster_of_batch[i], kind="new")
                continue
            s_nodes = [n for n in nodes if n[0] == "s"]
            existing = {docs[n].stored.cluster_id for n in s_nodes}
            members: dict[str, StoredArticle] = {docs[n].stored.id: docs[n].stored for n in s_nodes}
            batch_ids = {a.id for a in articles}
            # One existing cluster: its current representative stands for the members not
            # loaded. All members are loaded only when the representative changes or clusters
            # merge (their duplicate_of must change): a viral story's thousands of copies are
            # not read back for every new one.
            current = {st.duplicate_of or st.id for st in members.values()}
            partial = len(existing) == 1 and len(current) == 1
            if partial:
                cur = next(iter(current))
                if cur not in members and cur not in batch_ids:
                    found = self.lookup([cur]).get(cur)
                    if found is not None and found.cluster_id in existing and found.duplicate_of is None:
                        members[cur] = found
                    else:
                        partial = False
            if partial:
                for st in members.values():
                    if ("s", st.id) not in docs:
                        docs[("s", st.id)] = self._stored_doc(st)
                pool = [
                    Member(docs[("s", k)].article, st.seq, self._article_size(docs[("s", k)], views))
                    for k, st in members.items()
                ]
                pool += [
                    Member(articles[n[1]], _BATCH_ORDER + n[1], self._article_size(docs[n], views)) for n in b_nodes
                ]
                partial = choose(pool, s.representative).article.id == cur
            if existing and not partial:
                listed = self.index.members(existing)
                more = {x for ids in listed.values() for x in ids} - set(members) - batch_ids
                if more:
                    found = self.lookup(sorted(more))
                    members.update({k: v for k, v in found.items() if k in more and v.cluster_id in existing})
            for st in members.values():
                if ("s", st.id) not in docs:
                    docs[("s", st.id)] = self._stored_doc(st)
            if existing:
                sizes: dict[str, list] = {}
                for st in members.values():
                    sizes.setdefault(st.cluster_id, []).append(st.seq)
                cluster_id = min(existing, key=lambda c: (-len(sizes.get(c, ())), min(sizes.get(c, [0])), c))
            else:
                cluster_id = new_cluster_id(b_nodes[0][1])
            pool = [
                Member(docs[("s", k)].article, st.seq, self._article_size(docs[("s", k)], views))
                for k, st in members.items()
            ]
            pool += [Member(articles[n[1]], _BATCH_ORDER + n[1], self._article_size(docs[n], views)) for n in b_nodes]
            rep = choose(pool, s.representative).article
            rep_node = next(n for n in nodes + [("s", k) for k in members] if docs[n].article is rep)
            rep_doc = docs[rep_node]

            def sim_to_rep(d: _Doc) -> float:
                if d.article.content_hash == rep.content_hash:
                    return 1.0
                return round(self._similarity(d, rep_doc, views, uf, docs)[0], 4)

            for n in b_nodes:
                i = n[1]
                a = articles[i]
                cluster_of_batch[i] = cluster_id
                if i in exact_batch or i in exact_stored:
                    kind = "exact"
                elif n in near:
                    kind = "near"
                else:
                    kind = "new"
                if n == rep_node:
                    assignments[i] = Assignment(article_id=a.id, cluster_id=cluster_id, kind=kind)
                else:
                    assignments[i] = Assignment(
                        article_id=a.id,
                        cluster_id=cluster_id,
                        kind=kind,
                        duplicate_of=rep.id,
                        similarity=sim_to_rep(docs[n]),
                    )
            for k, st in members.items():
                is_rep = ("s", k) == rep_node
                dup = None if is_rep else rep.id
                if st.cluster_id == cluster_id and st.duplicate_of == dup:
                    continue
                if st.cluster_id != cluster_id:
                    moves[k] = cluster_id
                if is_rep:
                    updates.append(Assignment(article_id=k, cluster_id=cluster_id, kind="new"))
                else:
                    sim = sim_to_rep(docs[("s", k)])
                    updates.append(
                        Assignment(
                            article_id=k,
                            cluster_id=cluster_id,
                            kind="exact" if sim == 1.0 and st.article.content_hash == rep.content_hash else "near",
                            duplicate_of=rep.id,
                            similarity=sim,
                        )
                    )
        updates += self._orphans(articles, changed, cluster_of_batch, {u.article_id for u in updates}, views)
        staged = Staged(moves=moves)
        for i, d in enumerate(batch):
            exact = i in exact_batch or i in exact_stored
            if exact:
                keys, n_anchors = None, 0
            else:
                keys = d.keys if d.keys is not None else self.keys(d.shingles)
                anchors = d.anchors if d.anchors is not None else np.empty(0, dtype=np.uint64)
                keys, n_anchors = np.concatenate([keys, anchors]), int(anchors.size)
            info = DocInfo(d.article.id, cluster_of_batch[i], d.article.content_hash, d.host, d.ts, n_anchors)
            staged.entries.append(IndexEntry(info, keys))
        self._stage_hosts(
            staged,
            [(d, cluster_of_batch[i]) for i, d in enumerate(batch) if i not in exact_batch and i not in exact_stored],
            host_states,
            moves,
        )
        return DedupResult(assignments=[assignments[i] for i in range(len(articles))], updates=updates), staged

    # ------------------------------------------------------------------ changed articles
    def _changed(self, articles: list[Article]) -> dict[int, DocInfo]:
        """Batch articles already indexed with another text (stored again, changed): their
        old index entries, by batch position."""
        known = self.index.docs(a.id for a in articles)
        return {
            i: known[a.id]
            for i, a in enumerate(articles)
            if a.id in known and known[a.id].content_hash != a.content_hash
        }

    def _still_used(self, changed: dict[int, DocInfo], batch_ids: set[str]) -> set[str]:
        """Cluster ids of changed articles' old clusters that keep other members."""
        olds = {info.cluster_id for info in changed.values()}
        listed = self.index.members(olds) if olds else {}
        return {c for c, ids in listed.items() if set(ids) - batch_ids}

    def _orphans(self, articles, changed, cluster_of_batch, updated: set[str], views) -> list[Assignment]:
        """A changed article that was its cluster's representative and left that cluster (its
        new text no longer matches) leaves copies pointing at a text that is gone: the
        cluster keeps its id and chooses a new representative among the members left."""
        out: list[Assignment] = []
        batch_ids = {a.id for a in articles}
        for i, old in changed.items():
            cid = old.cluster_id
            if cluster_of_batch.get(i) == cid:
                continue  # still in its cluster: decided with it above
            rest_ids = [x for x in self.index.members([cid]).get(cid, []) if x not in batch_ids and x not in updated]
            found = self.lookup(rest_ids) if rest_ids else {}
            rest = [st for x, st in found.items() if x in rest_ids and st.cluster_id == cid]
            if not rest or any(st.duplicate_of is None for st in rest):
                continue  # nobody left, or the representative is still there
            docs = {st.id: self._stored_doc(st) for st in rest}
            pool = [Member(st.article, st.seq, self._article_size(docs[st.id], views)) for st in rest]
            rep = choose(pool, self.settings.representative).article
            for st in rest:
                if st.id == rep.id:
                    out.append(Assignment(article_id=st.id, cluster_id=cid, kind="new"))
                    continue
                same = st.article.content_hash == rep.content_hash
                sim = (
                    1.0 if same else round(self._similarity(docs[st.id], docs[rep.id], views, _UnionFind(), docs)[0], 4)
                )
                kind = "exact" if same else "near"
                out.append(Assignment(article_id=st.id, cluster_id=cid, kind=kind, duplicate_of=rep.id, similarity=sim))
            updated.update(st.id for st in rest)
        return out

    def _stage_hosts(
        self, staged: Staged, new: list[tuple[_Doc, str]], host_states: dict[str, HostState], moves: dict[str, str]
    ) -> None:
        s = self.settings
        if not s.host_furniture:
            return
        for d, cid in new:
            if not d.host or d.shingles.size == 0:
                continue
            state = staged.hosts.get(d.host) or host_states.get(d.host) or HostState(host=d.host)
            state.add(RecentDoc(d.article.id, cid, d.shingles), sample=s.host_sample, max_furniture=s.max_furniture)
            staged.hosts[d.host] = state
        if moves:
            for state in list(host_states.values()):
                if any(r.article_id in moves for r in state.recent):
                    state.set_cluster(moves)
                    staged.hosts[state.host] = state

    # ------------------------------------------------------------------ commit / reindex
    def commit(self, seq: int) -> None:
        """The store committed the batch as ``seq``: make its index entries durable."""
        self.index.commit(seq)

    def abort(self) -> None:
        """The store did not commit the batch: forget its index entries and, on a shared
        index, release the lock now instead of when it expires."""
        self.index.abort()

    def reindex(self, stored: Iterable[StoredArticle], *, chunk: int = 2000) -> int:
        """Add already-decided stored articles to the index, keeping their verdicts. Returns
        how many were new to the index."""
        added = 0
        buf: list[StoredArticle] = []
        for st in stored:
            buf.append(st)
            if len(buf) >= chunk:
                added += self._reindex_chunk(buf)
                buf = []
        if buf:
            added += self._reindex_chunk(buf)
        return added

    def _reindex_chunk(self, chunk: list[StoredArticle]) -> int:
        chunk = sorted(chunk, key=lambda st: st.seq)
        self.index.begin()
        try:
            known = self.index.docs(st.id for st in chunk)
            hashes = self.index.exact({st.article.content_hash for st in chunk})
            seen_hashes = set(hashes)
            staged = Staged()
            hosts_needed = {h for st in chunk if (h := host_of(st.article))}
            host_states = self.index.hosts(hosts_needed) if self.settings.host_furniture else {}
            new_docs: list[tuple[_Doc, str]] = []
            # New to the index, or stored again with changed text (re-keyed by the index).
            fresh = [st for st in chunk if st.id not in known or known[st.id].content_hash != st.article.content_hash]
            for st in chunk:
                if st.id in known and known[st.id].cluster_id != st.cluster_id:
                    staged.moves[st.id] = st.cluster_id
            done: set[str] = set()
            # Shingles and signatures of the whole chunk in one pass, as assign() does.
            hashes, offsets = batch_shingles(
                [body_text(st.article.text, st.article.title) for st in fresh], self.settings.shingle_size
            )
            full_keys = band_keys_many(self.signer.signatures(hashes, offsets), self.bands, self.rows)
            for k, st in enumerate(fresh):
                if st.id in done:  # twice in one chunk
                    continue
                done.add(st.id)
                seq = hashes[offsets[k] : offsets[k + 1]]
                d = _Doc(
                    ("s", st.id),
                    st.article,
                    np.unique(seq),
                    host_of(st.article),
                    _ts(st.article),
                    st.seq,
                    stored=st,
                    sequence=seq,
                )
                exact = st.article.content_hash in seen_hashes
                seen_hashes.add(st.article.content_hash)
                keys, n_anchors = None, 0
                if not exact and d.shingles.size:
                    keys, base = full_keys[k], d.shingles
                    state = staged.hosts.get(d.host) or host_states.get(d.host) if d.host else None
                    if state is not None:
                        stripped = FurnitureView(state, []).strip(d.shingles, (f"c:{st.cluster_id}",))
                        if self.settings.min_shingles <= stripped.size < d.shingles.size:
                            keys, base = np.union1d(keys, self.keys(stripped)), stripped
                    anchors = anchor_keys(base, rate=self.settings.anchor_rate, cap=self.settings.max_anchors)
                    keys, n_anchors = np.concatenate([keys, anchors]), int(anchors.size)
                info = DocInfo(st.id, st.cluster_id, st.article.content_hash, d.host, d.ts, n_anchors)
                staged.entries.append(IndexEntry(info, keys))
                known[st.id] = info
                if not exact:
                    new_docs.append((d, st.cluster_id))
            self._stage_hosts(staged, new_docs, host_states, staged.moves)
            self.index.stage(staged)
        except BaseException:
            self.index.abort()
            raise
        self.index.commit(max(st.seq for st in chunk))
        return len(staged.entries)
