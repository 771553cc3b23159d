"""Per-host shingle memory: which shingles are site furniture rather than article text.

A host's furniture is what its documents of *different* clusters share (navigation, share
bars, footers, newsletter prompts left in by extraction). Counting clusters rather than
documents keeps an updated re-post of one story from turning the story itself into
furniture. The state kept per host is bounded: the shingle sets of its last
``host_sample`` documents (with their cluster ids) plus the furniture already learned from
documents that have left that sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

_EMPTY = np.empty(0, dtype=np.uint64)


@dataclass(slots=True)
class RecentDoc:
    article_id: str
    cluster_id: str
    shingles: np.ndarray  # sorted distinct uint64


@dataclass(slots=True)
class HostState:
    host: str
    recent: list[RecentDoc] = field(default_factory=list)  # oldest first
    furniture: np.ndarray = field(default_factory=lambda: _EMPTY.copy())  # sorted uint64

    def add(self, doc: RecentDoc, *, sample: int, max_furniture: int) -> None:
        """Append a document; documents leaving the sample fold their furniture into the set."""
        for r in self.recent:
            if r.article_id == doc.article_id:  # seen before: a changed article keeps its place, with its new text
                r.cluster_id, r.shingles = doc.cluster_id, doc.shingles
                return
        self.recent.append(doc)
        while len(self.recent) > sample:
            old = self.recent.pop(0)
            others = [r.shingles for r in self.recent if r.cluster_id != old.cluster_id]
            if others:
                shared = old.shingles[np.isin(old.shingles, np.concatenate(others))]
                if shared.size:
                    merged = np.union1d(self.furniture, shared)
                    if merged.size > max_furniture:  # keep the most recently confirmed ones
                        keep_old = np.setdiff1d(self.furniture, shared)[: max(0, max_furniture - shared.size)]
                        merged = np.union1d(keep_old, shared[:max_furniture])
                    self.furniture = merged

    def set_cluster(self, moves: dict[str, str]) -> None:
        for r in self.recent:
            if r.article_id in moves:
                r.cluster_id = moves[r.article_id]

    # ------------------------------------------------------------ persistence

    def to_bytes(self) -> bytes:
        head = {
            "host": self.host,
            "recent": [[r.article_id, r.cluster_id, int(r.shingles.size)] for r in self.recent],
            "furniture": int(self.furniture.size),
        }
        parts = [r.shingles.astype("<u8").tobytes() for r in self.recent]
        parts.append(self.furniture.astype("<u8").tobytes())
        return json.dumps(head).encode() + b"\n" + b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> HostState:
        nl = data.index(b"\n")
        head = json.loads(data[:nl])
        arr = np.frombuffer(data, dtype="<u8", offset=nl + 1).astype(np.uint64)
        pos = 0
        recent = []
        for aid, cid, n in head["recent"]:
            recent.append(RecentDoc(aid, cid, arr[pos : pos + n]))
            pos += n
        furniture = arr[pos : pos + head["furniture"]]
        return cls(host=head["host"], recent=recent, furniture=furniture)


class FurnitureView:
    """Answers "which of these shingles are furniture for this pair?" for one batch.

    ``units`` are the things that count as one occurrence: a cluster of the host's recent
    documents, or a group of batch documents already known to be one story.
    """

    def __init__(self, state: HostState | None, extra: list[tuple[str, np.ndarray]]) -> None:
        self.furniture = state.furniture if state is not None else _EMPTY
        # strip() of one document's shingles is asked again for every candidate it is compared
        # with: (id of the array, exclude) -> (the array, kept alive so its id stays its own; result)
        self._stripped: dict[tuple[int, tuple[str | None, ...]], tuple[np.ndarray, np.ndarray]] = {}
        units: dict[str, list[np.ndarray]] = {}
        if state is not None:
            for r in state.recent:
                units.setdefault(f"c:{r.cluster_id}", []).append(r.shingles)
        for unit, sh in extra:
            units.setdefault(unit, []).append(sh)
        self.units = {u: (np.unique(np.concatenate(v)) if len(v) > 1 else v[0]) for u, v in units.items()}
        if self.units:
            allsh = np.concatenate(list(self.units.values()))
            self.keys, self.counts = np.unique(allsh, return_counts=True)
        else:
            self.keys, self.counts = _EMPTY, np.empty(0, dtype=np.int64)

    def strip(self, shingles: np.ndarray, exclude: tuple[str | None, ...]) -> np.ndarray:
        """``shingles`` minus those seen in a unit other than the excluded ones (or known furniture)."""
        if shingles.size == 0:
            return shingles
        key = (id(shingles), tuple(sorted(set(exclude), key=str)))
        memo = self._stripped.get(key)
        if memo is not None and memo[0] is shingles:
            return memo[1]
        kept = self._strip(shingles, key[1])
        self._stripped[key] = (shingles, kept)
        return kept

    def _strip(self, shingles: np.ndarray, exclude: tuple[str | None, ...]) -> np.ndarray:
        counts = np.zeros(shingles.size, dtype=np.int64)
        if self.keys.size:
            pos = np.searchsorted(self.keys, shingles)
            pos[pos >= self.keys.size] = 0
            hit = self.keys[pos] == shingles
            counts[hit] = self.counts[pos[hit]]
        for unit in set(exclude):
            if unit is not None and unit in self.units:
                counts -= np.isin(shingles, self.units[unit], assume_unique=True)
        furniture = counts >= 1
        if self.furniture.size:
            furniture |= np.isin(shingles, self.furniture, assume_unique=True)
        return shingles[~furniture]
