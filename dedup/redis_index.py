"""A dedup index in Redis, shared by several workers.

Layout under ``<prefix>:`` (``redis://host:port/db?prefix=NAME``, default ``wiredesk_dedup``):
    meta            hash   params, last_seq
    n               int    number of indexed articles
    b:<band key>    set    article ids with that LSH band key
    d:<article id>  hash   c (cluster), h (content hash), o (host), t (timestamp), a (anchors)
    k:<article id>  bytes  the article's band and anchor keys (uint64 LE): what to remove when
                           its text changes and it is re-keyed
    x:<hash>        set    article ids with that content hash
    c:<cluster id>  set    member article ids
    host:<host>     bytes  HostState blob
    lock            str    token of the worker whose batch is between assign() and commit()

A batch holds the lock from ``assign`` to ``commit``: a second worker's batch waits, then
sees the first one's articles, so two copies of one story ingested at the same moment end
up in one cluster. The lock expires (``lock_ttl_s``) if a worker dies holding it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import numpy as np
import redis

from wiredesk.core.errors import DedupError
from wiredesk.dedup.hosts import HostState
from wiredesk.dedup.index import DocInfo, Index, Staged, check_params
from wiredesk.dedup.settings import DedupSettings
from wiredesk.dedup.shared import mask, split_prefix, wait_for

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class RedisIndex(Index):
    def __init__(self, location: str, *, settings: DedupSettings) -> None:
        super().__init__(settings)
        url, self.prefix = split_prefix(location)
        self.location = mask(url)
        try:
            self.r = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
            meta = self.r.hgetall(self._k("meta"))
        except redis.RedisError as exc:
            raise DedupError(f"dedup index {self.location}: {exc}", reason="dedup-open") from exc
        found = meta.get(b"params")
        check_params(found.decode() if found else None, settings, self.location)
        if found is None:
            self.r.hsetnx(self._k("meta"), "params", settings.signature_params())
        self._token: str | None = None
        self._release = self.r.register_script(_RELEASE)
        self.lock_ttl_s = max(300.0, 4 * settings.lock_timeout_s)

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # ------------------------------------------------------------------ lock
    def _lock(self) -> None:
        if self._token is not None:
            return
        token = uuid.uuid4().hex
        wait_for(
            lambda: bool(self.r.set(self._k("lock"), token, nx=True, px=int(self.lock_ttl_s * 1000))),
            timeout_s=self.settings.lock_timeout_s,
            what=self.location,
        )
        self._token = token

    def _unlock(self) -> None:
        if self._token is None:
            return
        token, self._token = self._token, None
        try:
            self._release(keys=[self._k("lock")], args=[token])
        except redis.RedisError:
            pass  # it expires anyway

    # ------------------------------------------------------------------ reads
    def last_seq(self) -> int:
        v = self.r.hget(self._k("meta"), "last_seq")
        return int(v) if v else 0

    def __len__(self) -> int:
        return int(self.r.get(self._k("n")) or 0)

    def candidates(self, keys: np.ndarray) -> set[str]:
        ks = [self._k("b", str(k)) for k in np.asarray(keys, dtype=np.uint64).tolist()]
        if not ks:
            return set()
        return {x.decode() for x in self.r.sunion(ks)}

    def docs(self, ids: Iterable[str]) -> dict[str, DocInfo]:
        ids = list(set(ids))
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hmget(self._k("d", i), "c", "h", "o", "t", "a")
        out = {}
        for i, (c, h, o, t, a) in zip(ids, pipe.execute()):
            if c is not None:
                out[i] = DocInfo(i, c.decode(), h.decode(), o.decode() or None, float(t), int(a or 0))
        return out

    def hits(self, keys: np.ndarray, *, max_postings: int) -> dict[str, int]:
        ks = [self._k("b", str(k)) for k in np.asarray(keys, dtype=np.uint64).tolist()]
        if not ks:
            return {}
        pipe = self.r.pipeline(transaction=False)
        for k in ks:
            pipe.scard(k)
        sizes = pipe.execute()
        pipe = self.r.pipeline(transaction=False)
        wanted = [k for k, n in zip(ks, sizes) if 0 < n <= max_postings]
        for k in wanted:
            pipe.smembers(k)
        counts: dict[str, int] = {}
        for ids in pipe.execute() if wanted else ():
            for x in ids:
                counts[x.decode()] = counts.get(x.decode(), 0) + 1
        return counts

    def exact(self, hashes: Iterable[str]) -> dict[str, list[str]]:
        hashes = list(set(hashes))
        pipe = self.r.pipeline(transaction=False)
        for h in hashes:
            pipe.smembers(self._k("x", h))
        return {h: sorted(x.decode() for x in ids) for h, ids in zip(hashes, pipe.execute()) if ids}

    def members(self, cluster_ids: Iterable[str]) -> dict[str, list[str]]:
        cids = list(set(cluster_ids))
        pipe = self.r.pipeline(transaction=False)
        for c in cids:
            pipe.smembers(self._k("c", c))
        return {c: sorted(x.decode() for x in ids) for c, ids in zip(cids, pipe.execute()) if ids}

    def hosts(self, names: Iterable[str]) -> dict[str, HostState]:
        names = list(set(names))
        if not names:
            return {}
        blobs = self.r.mget([self._k("host", n) for n in names])
        return {n: HostState.from_bytes(b) for n, b in zip(names, blobs) if b}

    # ------------------------------------------------------------------ writes
    def _write(self, staged: Staged, seq: int | None) -> None:
        try:
            self._write_unlocked(staged, seq)
        except redis.RedisError as exc:
            raise DedupError(f"dedup index {self.location}: write failed: {exc}", reason="dedup-write") from exc

    def _write_unlocked(self, staged: Staged, seq: int | None) -> None:
        ids = [e.info.article_id for e in staged.entries]
        known = self.docs(set(ids) | set(staged.moves))
        pipe = self.r.pipeline(transaction=True)
        added = 0
        moves = dict(staged.moves)
        rekey = [
            e.info.article_id
            for e in staged.entries
            if e.info.article_id in known and known[e.info.article_id].content_hash != e.info.content_hash
        ]
        old_keys = dict(zip(rekey, self.r.mget([self._k("k", a) for a in rekey]))) if rekey else {}
        for e in staged.entries:
            i = e.info
            old = known.get(i.article_id)
            if old is not None and old.content_hash == i.content_hash:
                moves.setdefault(i.article_id, i.cluster_id)
                continue
            if old is not None:  # changed text: remove the old keys and memberships, then index anew
                for k in np.frombuffer(old_keys.get(i.article_id) or b"", dtype="<u8").tolist():
                    pipe.srem(self._k("b", str(k)), i.article_id)
                pipe.srem(self._k("x", old.content_hash), i.article_id)
                pipe.srem(self._k("c", old.cluster_id), i.article_id)
                pipe.delete(self._k("k", i.article_id))
                moves.pop(i.article_id, None)
            else:
                added += 1
            known[i.article_id] = i
            pipe.hset(
                self._k("d", i.article_id),
                mapping={"c": i.cluster_id, "h": i.content_hash, "o": i.host or "", "t": repr(i.ts), "a": i.anchors},
            )
            pipe.sadd(self._k("x", i.content_hash), i.article_id)
            pipe.sadd(self._k("c", i.cluster_id), i.article_id)
            if e.keys is not None and e.keys.size:
                keys = np.asarray(e.keys, dtype=np.uint64)
                for k in keys.tolist():
                    pipe.sadd(self._k("b", str(k)), i.article_id)
                pipe.set(self._k("k", i.article_id), keys.astype("<u8").tobytes())
        for aid, cid in moves.items():
            old = known.get(aid)
            if old is None or old.cluster_id == cid:
                continue
            pipe.srem(self._k("c", old.cluster_id), aid)
            pipe.sadd(self._k("c", cid), aid)
            pipe.hset(self._k("d", aid), "c", cid)
        for host, state in staged.hosts.items():
            pipe.set(self._k("host", host), state.to_bytes())
        if added:
            pipe.incrby(self._k("n"), added)
        if seq is not None and seq > self.last_seq():
            pipe.hset(self._k("meta"), "last_seq", str(seq))
        pipe.execute()

    def close(self) -> None:
        super().close()
        self.r.close()

    def drop(self) -> None:
        """Delete every key of this index (tests, or a rebuild)."""
        for key in self.r.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.r.delete(key)
