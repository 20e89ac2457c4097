"""The simulator plays the chain: townships whistle, departments report in, act, resolve; townships verify.

:func:`play_season` takes a stored patrol season (the incidents frame) and plays a share of its cases
through the **real** dispatch services — the same calls the HTTP API makes — in time order, running the
escalation pass (``tick``) at the end of every simulated day, so the warnings the lists promise appear
exactly as they would in production. Everything is drawn from ``numpy`` generators seeded from ``seed``
(one per case, keyed by the case id), so the same season and seed always play the same way; nothing reads
the clock except the stopwatch that times the play.

Habits played (every share and distribution is invented for the demo, tuned to look plausible)
----------------------------------------------------------------------------------------------
Receipt
  Each report came in a minute or two after it was seen, some hours later out of a phone's offline queue: the
  simulator stamps each report's receipt so (the intake stamped the time the season's file was loaded), and
  the desks' clock — 分拣及时率, W13 — runs from it.
Which cases
  About ``share`` of the eligible incidents (inside the district, not a likely duplicate), drawn with
  weights by severity (critical 4 : high 2.5 : medium 1.2 : low 0.6), are whistled with their plan as below.
  Incidents already triaged (case status other than ``reported``) are skipped: playing the same season
  twice plays nothing twice.
The desks (分拣)
  Every other report in a township is decided by its township's desk through the triage services: likely
  duplicates marked 重复, 类别待定 reports named (改类) from the patrol's words; of the rest a share by problem
  family is not taken into the chain (不予受理, with the desk's reason: a truck long gone, nothing found on site,
  a permit shown) and the others are whistled to their lead alone (routine cases, played like the others).
  Within hours mostly; about 1 % of the reports wait more than a day and 0.2 % are never looked at, so W13
  (分拣超时) is raised a few times a month. See :mod:`~gis_enforcement.demo.chain_desk`.
The whistle
  The township whistles a few minutes to a few hours after the report came in (log-normal, median 18 min). Night
  cases of one township within 6 h and 10 km of each other are often whistled together (a joint whistle).
  The lists' plan is whistled as proposed, except that dispatchers narrow it to the lead, the township team
  and the first one or two assists of the lists for about a third of the critical cases, half of the high
  and 70-80 % of the medium and low ones (a routine case does not need every department).
Report-in
  Most departments arrive on time (well inside 30 minutes); about 13 % by day and 22 % at night arrive
  late (within the hour: W01); about 3 % do not come within the hour (W02) — assists mostly never come, a
  lead always comes in the end. Each department has its own punctuality (the township's own team is
  fastest). Positions lie inside the category's geofence with phone-GPS noise; about 2.5 % of check-ins are
  first tried from too far away — refused with the distance — and retried on site. About 1 % of assists
  decline the summons with a reason; the township releases or overrules them.
Enforcement
  The lead records its action with measures from the rule (a fine where the lists allow one, in a range
  plausible for the category, e.g. river sand 10k-100k yuan), before/after photo hashes and seized items;
  some assists record their part. The lead completes after a share of its resolution time (log-normal,
  median 35 %: about 8 % pass 80 % — W05 yellow — and 4 % overrun — W05 red) and resolves.
Closing the loop
  The township verifies on site the next day or later, in working hours, releases assists that never came,
  and closes; about 3 % of cases are reopened on verification instead (not fixed on site). About 30 % of the
  cases of categories that need daily management end with a follow-up task for the township (部门要求、
  街乡落实), due in 3-10 working days; most are done in time, about 12 % late and 3 % never (W09).
Recurrences
  At a few closed cases (more for sand, mines, workshops and dumping) the problem comes back twice within
  30 days: two patrol reports go through the real intake, are linked to the closed case, are whistled like
  any case, and the place lands on the warning list (W08).
The first whistle
  One illegal-mining case (MIN-01) in 金海湖镇 — where the 2016 gold-mine accident happened — is whistled
  with every department the lists allow for MIN-01, and all of them come.

The summary is read back from the database for the season's cases, so a second run prints the same tables.

The parts
---------
:mod:`~gis_enforcement.demo.chain_habits`
  the shares, odds and tables above, in one place.
:mod:`~gis_enforcement.demo.chain_cases`
  the played case and its generator; which incidents are played, the first whistle, joint and narrowed whistles.
:mod:`~gis_enforcement.demo.chain_player`
  the event loop over the dispatch services and how townships and departments behave once a case is whistled.
:mod:`~gis_enforcement.demo.chain_desk`
  when each report came in, and how the townships' desks triage the reports not chosen above.
:mod:`~gis_enforcement.demo.chain_summary`
  :class:`ChainSummary` and its tables, read back from the database, and the first-whistle story.
"""

from __future__ import annotations

import time as stopwatch
from datetime import datetime
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from gis_enforcement.demo.chain_cases import (
    PlayedCase,
    case_from_row,
    eligible_incidents,
    first_whistle_index,
    joint_whistle_groups,
    narrowed_whistle,
)
from gis_enforcement.demo.chain_desk import Desk, first_reports, receipt_times
from gis_enforcement.demo.chain_habits import P_NARROW, REVISIT_TAG, SEVERITY_WEIGHT
from gis_enforcement.demo.chain_player import ChainPlayer
from gis_enforcement.demo.chain_summary import ChainSummary, DepartmentRow, TownshipRow, read_back, tell_first_whistle
from gis_enforcement.dispatch.whistle import departments_allowed
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import Session, incident_repo

__all__ = ["ChainSummary", "DepartmentRow", "TownshipRow", "play_season"]


def play_season(
    session: Session,
    *,
    catalog: Catalog,
    calendar: WorkCalendar,
    incidents: pd.DataFrame,
    seed: int,
    share: float = 0.35,
    locator: Locator | None = None,
    tz: str = "Asia/Shanghai",
    photos_dir: Path,
) -> ChainSummary:
    """Play about ``share`` of the eligible incidents of ``incidents`` (the frame of
    :func:`~gis_enforcement.storage.incident_repo.incidents_frame`) through the whistle chain; see the module
    docstring for the habits played.

    Every other report in a township is triaged by its township's desk (marked duplicate, named, declined with
    a reason, or whistled to its lead alone), and each report's receipt is stamped as it would have come in.

    Reproducible: the same stored season and ``seed`` play the same way. Idempotent: incidents already
    triaged are skipped, so a second call plays nothing and reports the stored chain again. With a
    ``locator``, problems that come back at closed cases are reported through the real intake (W08). The site
    photos the enforcement records name are uploaded to their cases and stored under ``photos_dir``.
    Never commits.
    """
    if not 0.0 <= share <= 1.0:
        raise InvalidInput("share must lie between 0 and 1", field="share")
    began = stopwatch.perf_counter()
    zone = ZoneInfo(tz)
    summary = ChainSummary(seed=seed)
    player = ChainPlayer(session, catalog=catalog, calendar=calendar, locator=locator, seed=seed, tz=zone,
                         summary=summary, photos_dir=photos_dir)
    # each report came in a minute or two after it was seen (the intake stamped the time its file was loaded)
    receipts = receipt_times(incidents, seed) if len(incidents) else {}
    incident_repo.set_receipt_times(session, received=receipts)
    pool = eligible_incidents(incidents)
    story_i = first_whistle_index(pool)
    rng = np.random.default_rng([seed, 2017])
    chosen: set[int] = set()
    if len(pool):
        # by the category as reported, so that a second run over the stored season (some classified since,
        # 改类) chooses the same cases
        filed = pool["reported_category"].fillna(pool["category"]) if "reported_category" in pool.columns \
            else pool["category"]
        weights = filed.map(lambda c: SEVERITY_WEIGHT.get(catalog.categories[c].severity, 1.0))
        w = weights.to_numpy(dtype=float)
        n = min(len(pool), int(round(share * len(pool))))
        chosen = set(rng.choice(len(pool), size=n, replace=False, p=w / w.sum()).tolist()) if n else set()
    if story_i is not None:
        chosen.add(story_i)
    story_case: PlayedCase | None = None
    cases: list[PlayedCase] = []
    for i in sorted(chosen):
        row = pool.iloc[i]
        if row["status"] != CaseStatus.REPORTED.value:
            summary.skipped += 1
            continue
        case = case_from_row(row, catalog, seed, zone, receipts.get(UUID(str(row["id"]))))
        if i == story_i:
            case.story = True
            story_case = case
        else:
            cases.append(case)
    story_id = UUID(str(pool.iloc[story_i]["id"])) if story_i is not None else None
    for case in cases:  # the desk names what the patrol could not, before it groups and whistles
        if catalog.categories[case.category].classify_first:
            player.classify(case)
    cases = [c for c in cases if not c.broken]
    whistled_ids = {str(pool.iloc[i]["id"]) for i in chosen}
    _schedule_desks(player, incidents, whistled_ids, receipts, catalog=catalog, seed=seed, zone=zone)

    if story_case is not None:
        allowed = departments_allowed(catalog, story_case.category)
        planned = set(catalog.rule(story_case.rule_code).departments)
        player.schedule_whistle([story_case], add=sorted(allowed - planned))
    for group in joint_whistle_groups(cases, rng, zone):
        c = group[0]
        only: list[str] | None = None
        if len(group) == 1 and c.rng.random() < P_NARROW.get(c.severity, 0.0):
            only = narrowed_whistle(catalog.rule(c.rule_code).departments, c.rng)
        player.schedule_whistle(group, only=only)
    player.run()

    ids = [UUID(str(i)) for i in incidents["id"]] + player.case_ids
    observed = None
    if len(incidents):  # the season's reports, and the problems that came back up to a year after its last
        first, last = pd.to_datetime(incidents["observed_at"], utc=True).agg(["min", "max"])
        observed = (first.to_pydatetime(), (last + pd.Timedelta(days=366)).to_pydatetime())
    read_back(session, catalog, summary, list(dict.fromkeys(ids)), tz=zone, observed=observed)
    if story_id is not None:
        tell_first_whistle(session, catalog, summary, story_id, tz=zone)
    summary.seconds = stopwatch.perf_counter() - began
    return summary


def _schedule_desks(player: ChainPlayer, incidents: pd.DataFrame, whistled_ids: set[str],
                    receipts: dict[UUID, datetime], *, catalog: Catalog, seed: int, zone: ZoneInfo) -> None:
    """Every report in a township not yet triaged and not chosen to be whistled goes to its township's desk
    (:mod:`~gis_enforcement.demo.chain_desk`), in the order the reports were seen. The problems the simulator
    reports again after a closure are whistled when they come in, not here."""
    f = incidents
    waiting = f["township_code"].notna() & (f["status"] == CaseStatus.REPORTED.value)
    waiting &= ~f["id"].astype(str).isin(whistled_ids)
    waiting &= ~f["reporter"].fillna("").str.contains(REVISIT_TAG, regex=False)
    rows = f[waiting].assign(_t=pd.to_datetime(f.loc[waiting, "observed_at"], utc=True))
    firsts = first_reports(f)
    desk = Desk(player)
    for _, row in rows.sort_values(["_t", "id"], kind="mergesort").iterrows():
        cid = UUID(str(row["id"]))
        desk.schedule(case_from_row(row, catalog, seed, zone, receipts.get(cid)), repeats=firsts.get(cid))
