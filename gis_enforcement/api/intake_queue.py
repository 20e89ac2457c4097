"""The intake queue: single-Feature submissions taken by one thread of the server process, in groups that share
one transaction and one commit.

Why one thread. Intake is Python work between database round trips. When many threads of one process each run
a submission, every thread coming back from the database waits for the interpreter lock held by another one,
and the waits add up to more than the work: at 200 POSTs a second on two processes, intake on the thread pool
answered a median POST in 17–29 ms and refused 4–6 % with 503; on one thread, 10–12 ms and none refused
(docs/benchmarks.md, fourth run). One thread taking submissions one after another keeps the lock between it
and the event loop, and a burst queues here, answered in order, instead of spreading over the thread pool.

Why groups. Whatever arrived while the thread was busy is taken together: every submission through
``answer_feature`` in one session, then one commit for all of them — one WAL flush. The thread keeps its
database connection between groups (no pool checkout and ping per group). Under a
steady load groups are small (one or two); in a burst they grow, and the cost per submission falls as the queue
grows, which is when it matters.

A submission that is refused (bad input, the same id with other content) writes nothing and does not disturb
its group: its error is its answer. When the group's transaction itself fails (the connection was lost, a
deadlock with another process storing the same ids), each submission of the group — a group of one too — is
taken again in a transaction of its own on a new connection, so that one cannot fail the others and a connection
lost while idle costs nobody an error; a submission that fails alone gets its error.
Every answer is sent only after the commit that stored it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.routers.incidents import answer_feature
from gis_enforcement.domain.access import Caller
from gis_enforcement.errors import EnforcementError

__all__ = ["IntakeQueue"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Submission:
    feature: dict[str, Any]
    caller: Caller
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[Response]


@dataclass(slots=True)
class _Stats:
    submissions: int = 0
    groups: int = 0
    largest_group: int = 0
    retried_groups: int = 0


_STOP = object()


class IntakeQueue:
    """One intake thread per server process; ``max_group`` submissions at most in one transaction."""

    def __init__(self, platform: Platform, *, max_group: int = 32) -> None:
        self.platform = platform
        self.max_group = max_group
        self.stats = _Stats()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._connection: Any = None  # the thread's own, kept between groups (see _session)
        self._thread = threading.Thread(target=self._run, name="intake", daemon=True)
        self._thread.start()

    async def take(self, feature: dict[str, Any], caller: Caller) -> Response:
        """The answer to one submission, once it is committed (or its error, raised)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Response] = loop.create_future()
        self._queue.put(_Submission(feature, caller, loop, answer))
        return await answer

    def stop(self, timeout_s: float = 10.0) -> None:
        """Take what is queued, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            group = [self._queue.get()]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in group:
                stopping = True
                group = [s for s in group if s is not _STOP]
            if group:
                self._take(group)
        self._let_go()

    def _take(self, group: list[_Submission]) -> None:
        stats = self.stats
        stats.groups += 1
        stats.submissions += len(group)
        stats.largest_group = max(stats.largest_group, len(group))
        try:
            answers = self._in_one_transaction(group)
        except Exception as exc:  # noqa: BLE001 — the transaction failed: see the module's note
            self._let_go()  # it may be the connection that failed
            stats.retried_groups += 1
            log.warning("an intake group of %d failed (%s); each is taken again on its own", len(group), exc)
            for submission in group:
                answer: Response | BaseException
                try:
                    answer = self._in_one_transaction([submission])[0]
                except Exception as alone:  # noqa: BLE001 — its own answer, as the route's would be
                    self._let_go()
                    answer = alone
                _settle(submission, answer)
            return
        for submission, answer in zip(group, answers, strict=True):
            _settle(submission, answer)

    def _in_one_transaction(self, group: list[_Submission]) -> list[Response | EnforcementError]:
        platform = self.platform
        answers: list[Response | EnforcementError] = []
        with self._session() as session:
            for s in group:
                try:
                    answers.append(answer_feature(platform, session, s.feature, s.caller))
                except EnforcementError as exc:  # refused: nothing of it was written
                    answers.append(exc)
            session.commit()
        return answers

    def _session(self) -> Any:
        """A session on the thread's own connection. The connection is kept between groups: a session on the
        pool would check one out and ping it for every group (two more round trips for a group of one); after a
        failed transaction it is let go, and the next group opens a new one."""
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self.platform.engine.connect()
        return self.platform.sessions(bind=self._connection)

    def _let_go(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001 — a broken connection is discarded by the pool all the same
                log.debug("closing the intake connection failed", exc_info=True)
            self._connection = None


def _settle(submission: _Submission, answer: Response | BaseException) -> None:
    def settle() -> None:
        if submission.answer.done():  # the client went away and the request was cancelled
            return
        if isinstance(answer, BaseException):
            submission.answer.set_exception(answer)
        else:
            submission.answer.set_result(answer)

    try:
        submission.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the event loop is closed: nobody is waiting
        pass
