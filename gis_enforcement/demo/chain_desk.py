"""The townships' desks in the simulated chain: when each report came in, and how its township triages it (分拣).

Every share and distribution here is invented for the demo (the numbers are in
:mod:`~gis_enforcement.demo.chain_habits`), tuned to look plausible.

Receipt
  A patrol's phone sends its report a minute or two after the observation; about ``P_QUEUED`` of them wait in
  the phone's queue (no signal in the hills) and come in half an hour to six hours later. The intake stamps a
  report with the time it was stored — for the demo's season, the moment its file was loaded, months after the
  observations — so the simulator stamps each report's receipt as it would have come in (``set_receipt_times``),
  and the triage clock (分拣及时率, W13) runs from it.
Triage
  The chain plays ``share`` of the cases with their full plan; every other report in a township is decided by
  its township's desk through the real triage services. A likely duplicate is marked 重复 (the first report of
  the problem named), or declined as a repeat when that report was declined or lies too far away; a report
  filed as 类别待定 is named (改类) from the patrol's words, then decided. Of the rest a share by problem family
  is not taken into the chain (不予受理, ``DESK_DECLINES``: a truck long gone, nothing found on site, a permit
  shown, already put right) and the others are whistled to their lead alone — a routine case, played like any
  other (for burning and village building the lead is the township's own team). Desks decide within hours
  (log-normal, median 75 min; duplicates 40 min); about ``P_DESK_LATE`` of the reports wait 26-60 hours (W13
  at the next nightly pass) and about ``P_DESK_FORGETS`` are never looked at (still on the desk at the end,
  W13). A report outside the district is on no township's desk and is left as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np
import pandas as pd

from gis_enforcement.demo.chain_cases import PlayedCase
from gis_enforcement.demo.chain_habits import (
    DESK_DECLINES,
    DESK_DECLINES_OTHER,
    DESK_MEDIAN_MIN,
    DESK_SIGMA,
    DUPLICATE_MEDIAN_MIN,
    P_DESK_FORGETS,
    P_DESK_LATE,
    P_QUEUED,
    REPEAT_REASON,
)
from gis_enforcement.dispatch import triage
from gis_enforcement.errors import EnforcementError, InvalidInput

if TYPE_CHECKING:  # the player holds the desk; the desk schedules on the player's clock
    from gis_enforcement.demo.chain_player import ChainPlayer

__all__ = ["Desk", "first_reports", "receipt_time", "receipt_times"]


def _receipt_rng(seed: int, report_id: UUID) -> np.random.Generator:
    """A generator of the report's receipt alone, so that stamping receipts draws nothing from the case's own."""
    n = report_id.int
    return np.random.default_rng([seed, 0x0EC5, n & 0xFFFFFFFF, (n >> 32) & 0xFFFFFFFF, (n >> 64) & 0xFFFFFFFF])


def receipt_time(seed: int, report_id: UUID, observed: datetime) -> datetime:
    """When a report observed at ``observed`` came in: a minute or two later, or out of a phone's queue."""
    rng = _receipt_rng(seed, report_id)
    if rng.random() < P_QUEUED:
        return observed + timedelta(minutes=float(rng.uniform(30.0, 360.0)))
    return observed + timedelta(seconds=float(np.clip(rng.lognormal(math.log(90.0), 0.6), 20.0, 900.0)))


def receipt_times(incidents: pd.DataFrame, seed: int) -> dict[UUID, datetime]:
    """The receipt of every report of the incidents frame (``id``, ``observed_at``), by id."""
    observed = pd.to_datetime(incidents["observed_at"], utc=True)
    return {UUID(str(i)): receipt_time(seed, UUID(str(i)), t.to_pydatetime())
            for i, t in zip(incidents["id"], observed, strict=True)}


class Desk:
    """The township desks of the played season: each report the chain does not play with its full plan is
    decided on the player's clock (so the nightly escalation pass sees it untriaged until then)."""

    def __init__(self, player: ChainPlayer) -> None:
        self.player = player

    def schedule(self, case: PlayedCase, *, repeats: UUID | None = None) -> None:
        """Schedule the desk's decision on ``case``, a report the chain does not play with its full plan;
        ``repeats``: the first report of the problem when the intake found it a likely duplicate."""
        rng = case.rng
        u = rng.random()
        if u < P_DESK_FORGETS:
            return  # nobody looks: it stays on the desk
        if u < P_DESK_FORGETS + P_DESK_LATE:
            delay = timedelta(hours=float(rng.uniform(26.0, 60.0)))
        else:
            median = DUPLICATE_MEDIAN_MIN if repeats is not None else DESK_MEDIAN_MIN
            delay = timedelta(minutes=float(np.clip(rng.lognormal(math.log(median), DESK_SIGMA), 4.0, 20 * 60.0)))
        at = case.came_in + delay
        if repeats is not None:
            self.player.at(at, self._marked(case, repeats, at))
        elif self.player.catalog.categories[case.category].classify_first:
            self.player.at(at, self._named(case, at))  # named first, then decided as a report of that problem
        else:
            self._decide(case, at)

    def _decide(self, case: PlayedCase, at: datetime) -> None:
        """Decline ``case`` with the desk's reason, or whistle its lead alone, at ``at``."""
        share, reasons = DESK_DECLINES.get(case.category.split("-")[0], DESK_DECLINES_OTHER)
        if case.rng.random() < share:
            weights = np.array([w for w, _ in reasons], dtype=float)
            reason = reasons[int(case.rng.choice(len(reasons), p=weights / weights.sum()))][1]
            self.player.at(at, self._declined(case, at, reason))
            return
        rule = self.player.catalog.rules_by_code.get(case.rule_code)
        case.routine = True
        self.player.schedule_whistle([case], only=[rule.departments[0]] if rule is not None else None, at=at)

    def _named(self, case: PlayedCase, at: datetime) -> Callable[[], None]:
        def name() -> None:
            self.player.classify(case, at=at)
            if not case.broken:
                self._decide(case, at + timedelta(minutes=float(case.rng.uniform(10.0, 90.0))))
        return name

    def _declined(self, case: PlayedCase, at: datetime, reason: str) -> Callable[[], None]:
        def decline() -> None:
            if case.broken:
                return
            try:
                triage.reject(self.player.session, incident_id=case.id, township=case.township, reason=reason,
                              at=at, actor=self.player.desk(case))
            except EnforcementError as exc:
                case.broken = True
                self.player.summary.anomalies.append(f"{case.id} reject: {exc}")
        return decline

    def _marked(self, case: PlayedCase, first: UUID, at: datetime) -> Callable[[], None]:
        def mark() -> None:
            try:
                triage.mark_duplicate(self.player.session, incident_id=case.id, township=case.township, at=at,
                                      duplicate_of=first, reason="同一问题的重复报告", actor=self.player.desk(case))
            except InvalidInput as exc:
                if exc.field != "duplicate_of":
                    case.broken = True
                    self.player.summary.anomalies.append(f"{case.id} mark_duplicate: {exc}")
                    return
                self._declined(case, at, REPEAT_REASON)()  # the first was declined itself, or lies too far
            except EnforcementError as exc:
                case.broken = True
                self.player.summary.anomalies.append(f"{case.id} mark_duplicate: {exc}")
        return mark


def first_reports(incidents: pd.DataFrame) -> Mapping[UUID, UUID]:
    """For each likely duplicate of the incidents frame, the first report of its problem: the end of its chain
    of likely duplicates (a report the intake found to repeat one that repeats another)."""
    link = {UUID(str(i)): UUID(str(d)) for i, d in zip(incidents["id"], incidents["likely_duplicate_of"],
                                                       strict=True) if pd.notna(d)}
    out: dict[UUID, UUID] = {}
    for report in link:
        first, seen = link[report], {report}
        while first in link and first not in seen:
            seen.add(first)
            first = link[first]
        out[report] = first
    return out
