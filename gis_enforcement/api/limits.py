"""Rate limits: at most ``limit`` requests per ``window_s`` seconds per key (a user name, a client address).

A sliding log per key, in the process's memory: enough for one server process guarding sign-in against
password guessing and intake against a runaway client; over the limit the API answers 429 with Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from gis_enforcement.errors import TooManyRequests

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, field: str, now: float | None = None) -> None:
        """Count one request of ``key``; TooManyRequests (naming ``field``) when it is over the limit."""
        t = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= t - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = max(1, int(hits[0] + self.window_s - t) + 1)
                raise TooManyRequests(f"too many requests: try again in {retry} s", field=field, retry_after=retry)
            hits.append(t)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= t - self.window_s][:50_000]:
                    del self._hits[k]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
