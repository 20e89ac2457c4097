"""The background passes inside ``serve``: escalation every ``tick_interval_s`` seconds and webhook delivery every
``delivery_interval_s``, each on its own thread. A failed pass is logged and retried at the next interval (both
passes are idempotent: a warning is raised once, a delivery settled once)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from gis_enforcement.admin.platform import Platform
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.outbox import Sender, deliver_due, http_sender

log = logging.getLogger(__name__)


class PeriodicPass:
    """Runs ``run_once`` every ``interval_s`` seconds on a daemon thread until stopped."""

    name = "pass"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.passes = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> int:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 — keep the scheduler alive; the next pass retries
                log.exception("%s pass failed", self.name)


class EscalationScheduler(PeriodicPass):
    name = "escalation"

    def __init__(self, platform: Platform, interval_s: float) -> None:
        super().__init__(interval_s)
        self.platform = platform

    def run_once(self) -> int:
        """One escalation pass now; returns how many warnings it raised."""
        with self.platform.transaction() as session:
            raised = tick(session, catalog=self.platform.catalog, now=datetime.now(UTC),
                          tz=self.platform.settings.timezone)
        self.passes += 1
        if raised:
            log.info("escalation raised %d warning(s)", len(raised))
        return len(raised)


class DeliveryScheduler(PeriodicPass):
    name = "webhook-delivery"

    def __init__(self, platform: Platform, interval_s: float, send: Sender | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(interval_s)
        self.platform = platform
        self.send = send or http_sender(platform.settings.webhook_timeout_s)
        self.clock = clock or (lambda: datetime.now(UTC))

    def run_once(self) -> int:
        """One delivery pass now; returns how many events were delivered."""
        report = deliver_due(self.platform.transaction, now=self.clock, send=self.send)
        self.passes += 1
        for sid, error in report.failed.items():
            log.warning("webhook %d: delivery failed (%s); retried with back-off", sid, error)
        return report.events_delivered
