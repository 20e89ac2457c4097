"""A load generator light enough to measure a server on the same two cores: HTTP/1.1 over raw asyncio streams.

Requests are encoded to bytes before the clock starts; each is written whole on a keep-alive connection taken
from a pool, and the answer is read by its status line, headers and ``Content-Length`` (chunked bodies are read
too). No HTTP library runs per request, so a request costs the client tens of microseconds of CPU instead of
the milliseconds of a full client — at 200 requests/s the generator should not need a core of its own.

Open loop: request i is written at start + i/rate by the wall clock whether or not earlier ones were answered.
A request waits for a free connection when all ``connections`` are busy; the wait counts in its latency.

``run`` drives a phase on uvloop's event loop (the server's own, installed with the package): at 200 requests/s
it took the generator's CPU per request from ~0.49 to ~0.39 ms, CPU the server's two cores no longer share with
the measuring process. Its timers have millisecond resolution, which moves a send by at most a millisecond and
none of the latencies (each is timed from its actual send).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import numpy as np

try:
    import uvloop
except ImportError:  # pragma: no cover — a dependency of the package; plain asyncio works the same, slower
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a phase's coroutine to its end on a new event loop (uvloop's when installed)."""
    if uvloop is not None:
        return uvloop.run(coro)  # type: ignore[no-any-return]
    return asyncio.run(coro)


def encode_request(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request as bytes (keep-alive; ``Content-Length`` when there is a body)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ConnectionLost(ConnectionError):
    """The server closed the connection before the whole answer came (``before_answer``: before any of it)."""

    def __init__(self, message: str, *, before_answer: bool) -> None:
        super().__init__(message)
        self.before_answer = before_answer


class Connection:
    """One keep-alive connection: write a request, read its answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` and return the answer's status and body."""
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            self.reusable = False
            partial = getattr(exc, "partial", b"")
            raise ConnectionLost("closed before the answer", before_answer=not partial) from exc
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                self.reusable = False
        try:
            if chunked:
                body = await self._chunked()
            elif length >= 0:
                body = await self.reader.readexactly(length)
            else:  # no length: the body runs to the end of the connection
                body = await self.reader.read()
                self.reusable = False
        except asyncio.IncompleteReadError as exc:
            self.reusable = False
            raise ConnectionLost("closed in the middle of the answer", before_answer=False) from exc
        return status, body

    async def _chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(out)
            out += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.reusable = False
        self.writer.close()


@dataclass
class Result:
    """Per request: latency in ms (inf when not 2xx or unanswered), the outcome, when it was sent and done."""

    latency_ms: np.ndarray
    outcome: list[str]  # HTTP status as text, "timeout", or the transport error's name
    sent_at: np.ndarray
    done_at: np.ndarray
    late_sends: int  # sends more than 5 ms behind their schedule


class Pool:
    """Up to ``size`` keep-alive connections to one server, opened as needed and reused."""

    def __init__(self, base_url: str, size: int) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.idle: list[Connection] = []
        self.free = asyncio.Semaphore(size)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send on an idle connection (or a new one). A kept connection the server closed while it was idle
        (its keep-alive timeout) fails before any answer: that request is sent again on a new connection,
        as HTTP clients do; a new connection that fails is an error."""
        async with self.free:
            reused = bool(self.idle)
            conn = self.idle.pop() if reused else await Connection.open(self.host, self.port)
            try:
                status, body = await conn.exchange(request)
            except ConnectionLost as exc:
                conn.close()
                if not (reused and exc.before_answer):
                    raise
                conn = await Connection.open(self.host, self.port)
                try:
                    status, body = await conn.exchange(request)
                except BaseException:
                    conn.close()
                    raise
            except BaseException:
                conn.close()
                raise
            if conn.reusable:
                self.idle.append(conn)
            else:
                conn.close()
            return status, body

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class Timings:
    """Per request of a run: latency in ms (inf when not 2xx or unanswered), outcome, when sent and done."""

    def __init__(self, n: int) -> None:
        self.latency = np.full(n, np.inf)
        self.outcome = ["not sent"] * n
        self.sent_at = np.zeros(n)
        self.done_at = np.zeros(n)

    async def send(self, i: int, pool: Pool, request: bytes, timeout_s: float) -> bytes:
        """Send request ``i`` through ``pool`` and time it; the answer's body when 2xx, else b""."""
        t0 = self.sent_at[i] = time.perf_counter()
        body = b""
        try:
            async with asyncio.timeout(timeout_s):
                status, answer = await pool.exchange(request)
            self.outcome[i] = str(status)
            if 200 <= status < 300:
                self.latency[i] = (time.perf_counter() - t0) * 1000
                body = answer
        except TimeoutError:
            self.outcome[i] = "timeout"
        except OSError as exc:
            self.outcome[i] = type(exc).__name__
        self.done_at[i] = time.perf_counter()
        return body

    def result(self, late_sends: int) -> Result:
        return Result(self.latency, self.outcome, self.sent_at, self.done_at, late_sends)


async def open_loop(base_url: str, requests: list[bytes], rate: float, *, timeout_s: float,
                    connections: int) -> Result:
    """Send ``requests`` at ``rate`` per second by the wall clock (open loop) and time each one."""
    timings = Timings(len(requests))
    late = 0
    pool = Pool(base_url, connections)
    tasks = []
    start = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        if time.perf_counter() - due > 0.005:
            late += 1
        tasks.append(asyncio.create_task(timings.send(i, pool, request, timeout_s)))
    await asyncio.gather(*tasks)
    pool.close()
    return timings.result(late)


async def closed_loop(base_url: str, requests: list[bytes], *, timeout_s: float) -> tuple[Result, bytes]:
    """Send ``requests`` one after another on one connection; also returns the last 2xx answer's body."""
    timings = Timings(len(requests))
    last = b""
    pool = Pool(base_url, 1)
    for i, request in enumerate(requests):
        last = await timings.send(i, pool, request, timeout_s) or last
    pool.close()
    return timings.result(0), last
