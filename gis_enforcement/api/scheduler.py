"""The escalation scheduler inside ``serve``: runs the escalation pass every ``tick_interval_s`` seconds on a
background thread; a failed pass is logged and retried at the next interval (the pass is idempotent)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from gis_enforcement.admin.platform import Platform
from gis_enforcement.dispatch.escalation import tick

log = logging.getLogger(__name__)


class EscalationScheduler:
    def __init__(self, platform: Platform, interval_s: float) -> None:
        self.platform = platform
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="escalation", daemon=True)
        self.passes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> int:
        """One escalation pass now; returns how many warnings it raised."""
        with self.platform.transaction() as session:
            raised = tick(session, catalog=self.platform.catalog, now=datetime.now(UTC))
        self.passes += 1
        if raised:
            log.info("escalation raised %d warning(s)", len(raised))
        return len(raised)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 — keep the scheduler alive; the next pass retries
                log.exception("escalation pass failed")
