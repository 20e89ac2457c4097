"""Limits: at most ``limit`` requests per ``window_s`` seconds per key (a user name, a client address), at most
so many requests of a kind in progress at once, the size of a request body.

A sliding log per key, in the process's memory: enough for one server process guarding sign-in against
password guessing and intake against a runaway client; over the limit the API answers 429 with Retry-After.
Over the in-progress limit it answers 503 with Retry-After: the server is busy, not the client too fast.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gis_enforcement.errors import Overloaded, TooManyRequests

__all__ = ["BodyLimit", "InFlightLimit", "RateLimiter", "kept_limit"]


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


class InFlightLimit:
    """At most ``limit`` requests of one kind in progress at once; one more is refused straight away with
    ``Overloaded`` (503, Retry-After) rather than queued. Past its capacity a server then answers every request
    quickly, keeps its threads and connections for the requests it took, and clients retry later instead of
    timing out while it works on requests whose senders have given up."""

    def __init__(self, limit: int, *, retry_after_s: int = 1) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        self._in_flight = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, what: str) -> Iterator[None]:
        """Hold one of the places while the block runs; ``Overloaded`` naming ``what`` when none is free."""
        with self._lock:
            if self._in_flight >= self.limit:
                raise Overloaded(f"the server is working on {self.limit} {what} already; try again in "
                                 f"{self.retry_after_s} s", retry_after=self.retry_after_s)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1


def kept_limit(state: Any, attribute: str, cap: int) -> InFlightLimit:
    """The ``InFlightLimit`` an app keeps as ``state.<attribute>``, made on first use and again when its
    setting (``cap``) changed."""
    limit = getattr(state, attribute, None)
    if limit is None or limit.limit != cap:
        limit = InFlightLimit(cap)
        setattr(state, attribute, limit)
    return limit  # type: ignore[no-any-return]


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is refused with 413 (by its Content-Length at once,
    else as soon as the bytes read pass the limit), before a route holds it in memory."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        over = False

        async def counted() -> Any:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request" and not over:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # the route gets an end of body; its answer is replaced below
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def answer(message: Any) -> None:
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(send)

        await self.app(scope, counted, answer)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"error": {"code": "payload_too_large", "field": "body",
                                     "message": f"a request body is at most {self.max_bytes:,} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
