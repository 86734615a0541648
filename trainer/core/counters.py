"""Short-lived shared counters: sliding windows of distinct members, and locks that expire.

In memory for one process (development, tests), in Redis as soon as several workers or servers
must count together (TRAINER_REDIS_URL). Nothing here is durable: a restart forgets it, which is
what short lockouts want. A Redis that does not answer is logged and counts as empty, so an
outage slows nobody's sign-in (Argon2id still bounds guessing)."""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence

log = logging.getLogger(__name__)


class MemoryCounters:
    """One process's counters (a dict under a lock); expired entries are swept as it goes."""

    def __init__(self) -> None:
        self._windows: dict[str, dict[str, float]] = {}
        self._locks: dict[str, float] = {}
        self._guard = threading.Lock()
        self._next_sweep = 0.0

    def reset(self) -> None:
        with self._guard:
            self._windows.clear()
            self._locks.clear()

    def add(self, key: str, member: str | None, now: float, window_s: float) -> int:
        """Add `member` (None: a fresh one) to the window `key`; how many it now holds."""
        with self._guard:
            self._sweep(now)
            entries = self._windows.setdefault(key, {})
            for old in [m for m, at in entries.items() if at <= now - window_s]:
                del entries[old]
            entries[member or uuid.uuid4().hex] = now
            return len(entries)

    def lock(self, key: str, until: float, now: float) -> None:
        with self._guard:
            self._locks[key] = max(until, self._locks.get(key, 0.0))

    def locked_until(self, keys: Sequence[str], now: float) -> list[float | None]:
        with self._guard:
            return [u if (u := self._locks.get(k)) is not None and u > now else None
                    for k in keys]

    def forget(self, *keys: str) -> None:
        with self._guard:
            for key in keys:
                self._windows.pop(key, None)
                self._locks.pop(key, None)

    def _sweep(self, now: float) -> None:
        # Windows and locks here last at most a day: anything untouched that long is gone.
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        self._locks = {k: u for k, u in self._locks.items() if u > now}
        self._windows = {k: e for k, e in self._windows.items()
                         if e and max(e.values()) > now - 86400}


class RedisCounters:
    """The same counters in Redis: a sorted set per window (member → time), a key per lock."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix + ":"
        self._errors = (redis.RedisError, OSError)

    def reset(self) -> None:
        try:
            keys = list(self._redis.scan_iter(self._prefix + "*", count=1000))
            if keys:
                self._redis.delete(*keys)
        except self._errors:
            log.exception("Redis counters: reset failed")

    def add(self, key: str, member: str | None, now: float, window_s: float) -> int:
        name = self._prefix + key
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.zremrangebyscore(name, "-inf", now - window_s)
            pipe.zadd(name, {member or uuid.uuid4().hex: now})
            pipe.zcard(name)
            pipe.expire(name, int(window_s) + 1)
            return int(pipe.execute()[2])
        except self._errors:
            log.exception("Redis counters: add failed (counted as nothing)")
            return 0

    def lock(self, key: str, until: float, now: float) -> None:
        ttl_ms = int((until - now) * 1000)
        if ttl_ms <= 0:
            return
        try:
            self._redis.set(self._prefix + key, repr(until), px=ttl_ms)
        except self._errors:
            log.exception("Redis counters: lock failed")

    def locked_until(self, keys: Sequence[str], now: float) -> list[float | None]:
        try:
            values = self._redis.mget([self._prefix + k for k in keys])
        except self._errors:
            log.exception("Redis counters: read failed (nothing locked)")
            return [None] * len(keys)
        return [u if v is not None and (u := float(v)) > now else None for v in values]

    def forget(self, *keys: str) -> None:
        try:
            self._redis.delete(*(self._prefix + k for k in keys))
        except self._errors:
            log.exception("Redis counters: forget failed")


def counters_for(redis_url: str | None, prefix: str) -> MemoryCounters | RedisCounters:
    return RedisCounters(redis_url, prefix) if redis_url else MemoryCounters()
