"""Verification of candidate pairs: furniture-stripped containment and its guards.

A mixin of Deduplicator (it uses ``settings``, ``index``, ``lookup``, ``_stored_doc`` and the
``_unit_of`` map of the latest ``_views`` call).
"""

from __future__ import annotations

import numpy as np

from wiredesk.dedup.batch import _Doc, _LazyViews, _UnionFind
from wiredesk.dedup.hosts import FurnitureView
from wiredesk.dedup.text import body_text, shingle_sequence, word_units


class Verifier:
    @staticmethod
    def _units(docs: dict, uf: _UnionFind) -> dict[tuple, str]:
        """What counts as one occurrence for furniture: a stored cluster, or a batch group
        (a batch group joined to a stored cluster on the same host counts as that cluster)."""
        joined: dict[tuple, str] = {}
        for node, d in docs.items():
            if d.stored is not None:
                joined.setdefault((uf.find(node), d.host), f"c:{d.stored.cluster_id}")
        out = {}
        for node, d in docs.items():
            if d.stored is not None:
                out[node] = f"c:{d.stored.cluster_id}"
            else:
                root = uf.find(node)
                out[node] = joined.get((root, d.host), f"g:{root!r}")
        return out

    def _views(self, batch, docs, uf, host_states, exact_batch, exact_stored) -> dict[str, FurnitureView]:
        if not self.settings.host_furniture:
            return {}
        units = self._units(docs, uf)
        self._unit_of = units
        extra: dict[str, list[tuple[str, np.ndarray]]] = {}
        for i, d in enumerate(batch):
            if d.host and i not in exact_batch and i not in exact_stored:
                extra.setdefault(d.host, []).append((units[d.node], d.shingles))
        hosts = {d.host for d in docs.values() if d.host}
        # A host whose batch documents are grouped as in the previous call keeps its view.
        cache = self._view_cache

        def build(h: str) -> FurnitureView:
            parts = extra.get(h, [])
            sig = (id(host_states.get(h)), tuple((u, id(sh)) for u, sh in parts))
            hit = cache.get(h)
            if hit is not None and hit[0] == sig:
                return hit[1]
            view = FurnitureView(host_states.get(h), parts)
            cache[h] = (sig, view)
            return view

        return _LazyViews(hosts, build)

    def _article_size(self, d: _Doc, views) -> int:
        """How complete a member's text is: its shingles minus its host's known furniture."""
        if not d.host or d.host not in views:
            return int(d.shingles.size)
        return int(views[d.host].strip(d.shingles, (self._unit_of.get(d.node),)).size)

    def _furniture_only(self, d: _Doc, views, exclude: tuple) -> bool:
        if d.host not in views or d.shingles.size < self.settings.min_shingles:
            return False
        left = views[d.host].strip(d.shingles, exclude).size
        return left < self.settings.min_shingles and left < 0.5 * d.shingles.size

    def _strip(self, d: _Doc, partner: _Doc, views, uf, docs) -> np.ndarray:
        if not d.host or d.host not in views:
            return d.shingles
        units = self._unit_of
        exclude = [units.get(d.node)]
        if partner.host == d.host:
            exclude.append(units.get(partner.node))
        return views[d.host].strip(d.shingles, tuple(exclude))

    def _similarity(self, x: _Doc, y: _Doc, views, uf, docs) -> tuple[float, int, int, int]:
        """(containment, shared, smaller size, larger size) over furniture-stripped shingles."""
        fx = self._strip(x, y, views, uf, docs)
        fy = self._strip(y, x, views, uf, docs)
        small, large = sorted((fx.size, fy.size))
        if small == 0:
            return 0.0, 0, 0, large
        inter = int(np.intersect1d(fx, fy, assume_unique=True).size)
        return inter / small, inter, small, large

    def _corroborated(self, x: _Doc, y: _Doc, views, uf, docs) -> bool:
        """A weak link (the smaller text is a small part of the larger one) joins the larger
        one's group only if the smaller also matches another member of that group: a page's
        leftover teaser of another story must not pull that story into the page's cluster."""
        fx, fy = self._strip(x, y, views, uf, docs).size, self._strip(y, x, views, uf, docs).size
        small, big = (x, y) if fx <= fy else (y, x)
        root = uf.find(big.node)
        others = [docs[n] for n in docs if n != big.node and uf.find(n) == root][:4]
        if big.stored is not None:  # its stored cluster: the representative, else a few members
            st = big.stored
            ids = (
                [st.duplicate_of] if st.duplicate_of else self.index.members([st.cluster_id]).get(st.cluster_id, [])[:5]
            )
            ids = [i for i in ids if i != st.id and ("s", i) not in docs]
            found = self.lookup(ids) if ids else {}
            others += [self._stored_doc(m) for m in found.values() if m.cluster_id == st.cluster_id]
        return not others or any(self._verify(small, o, views, uf, docs)[0] for o in others)

    def _verify(self, x: _Doc, y: _Doc, views, uf, docs) -> tuple[bool, float, bool]:
        """(verified, containment, weak: the shared part is under weak_share of the larger text)."""
        s = self.settings
        sim, inter, small, large = self._similarity(x, y, views, uf, docs)
        weak = inter < s.weak_share * large
        ok = small >= s.min_shingles and inter >= s.min_overlap and sim >= s.containment
        # A short body (a headline and a line, a brief) shares too little to tell a copy
        # from another story on the same subject: such documents are only exact-matched.
        ok = ok and self._long_enough(x) and self._long_enough(y)
        if ok and x.host is not None and x.host == y.host:
            # What one host's pages share may be template the furniture counts have not seen
            # yet (a new host, another page format): only a re-post passes, not a page
            # contained in a longer one, nor another text in the same template slot.
            ok = sim >= s.same_host_containment and small >= s.same_host_size_ratio * large
            ok = ok and min(self._novel_run(x, y), self._novel_run(y, x)) < s.same_host_novel_run
        return ok, sim, weak

    def _long_enough(self, d: _Doc) -> bool:
        """Whether d's body is long enough for a near match (see DedupSettings.min_body_words)."""
        memo = self._body_words
        hit = memo.get(d.article.id)
        if hit is None:
            if len(memo) > 4000:  # a bounded memo across batches
                memo.clear()
            hit = memo[d.article.id] = word_units(body_text(d.article.text, d.article.title))
        return hit >= self.settings.min_body_words

    def _novel_run(self, x: _Doc, y: _Doc) -> int:
        """Longest run of consecutive shingles of x that y does not have."""
        if x.sequence is None:
            x.sequence = shingle_sequence(body_text(x.article.text, x.article.title), self.settings.shingle_size)
        novel = ~np.isin(x.sequence, y.shingles)
        if not novel.any():
            return 0
        edges = np.diff(np.concatenate(([0], novel.view(np.int8), [0])))
        return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())
