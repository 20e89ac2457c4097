"""The cases the simulated chain plays: which incidents are chosen, the first whistle, and joint whistles.

Each played case carries its own ``numpy`` generator seeded from the season's seed and the case id, so a
case plays the same way whatever else is played around it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from gis_enforcement.demo.chain_habits import P_JOINT, REVISIT_TAG, STORY_CATEGORY, STORY_TOWNSHIP
from gis_enforcement.domain.catalog import Catalog

__all__ = ["METRE", "PlayedCase", "case_from_row", "case_rng", "eligible_incidents", "first_whistle_index",
           "joint_whistle_groups", "narrowed_whistle"]

#: Degrees of latitude per metre.
METRE = 1 / 111_320


# -- the cases ------------------------------------------------------------------------------------------
@dataclass
class PlayedCase:
    """One case as the player sees it: where and when it was reported, and its own random generator."""

    id: UUID
    category: str
    rule_code: str
    severity: str
    township: str
    township_name: str
    lon: float
    lat: float
    observed: datetime
    rng: np.random.Generator
    story: bool = False
    revisit: bool = False
    broken: bool = False
    description: str = ""
    received: datetime | None = None  # when it came in (its desk's clock); None: at the observation
    routine: bool = False  # whistled by its desk to the lead alone: one photo of the result on the record

    @property
    def came_in(self) -> datetime:
        """When the report reached its township's desk."""
        return self.received or self.observed


def case_rng(seed: int, case_id: UUID) -> np.random.Generator:
    """The generator of one case, keyed by the season's seed and the case id."""
    n = case_id.int
    return np.random.default_rng([seed, n & 0xFFFFFFFF, (n >> 32) & 0xFFFFFFFF, (n >> 64) & 0xFFFFFFFF])


# -- choosing the cases -----------------------------------------------------------------------------------
def eligible_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents a township would whistle for: inside a township, not a likely duplicate, not a revisit the
    simulator itself reported (those are whistled when they come in)."""
    f = incidents
    keep = f["township_code"].notna() & f["likely_duplicate_of"].isna() & f["rule_code"].notna()
    keep &= ~f["reporter"].fillna("").str.contains(REVISIT_TAG, regex=False)
    out = f[keep].copy()
    out["observed_at"] = pd.to_datetime(out["observed_at"], utc=True)
    return out.sort_values(["observed_at", "id"], kind="mergesort").reset_index(drop=True)


def first_whistle_index(pool: pd.DataFrame) -> int | None:
    """The first-whistle case: the season's first MIN-01 in 金海湖镇 (any MIN-01 when there is none)."""
    mining = pool["category"] == STORY_CATEGORY
    town = pool["township_name"].fillna("").str.startswith(STORY_TOWNSHIP)
    for sel in (mining & town, mining):
        idx = np.flatnonzero(sel.to_numpy())
        if len(idx):
            return int(idx[0])
    return None


def case_from_row(row: pd.Series, catalog: Catalog, seed: int, tz: ZoneInfo,
                  received: datetime | None = None) -> PlayedCase:
    """The played case of one row of the incidents frame (that came in at ``received``)."""
    cid = UUID(str(row["id"]))
    name = row["township_name"] if pd.notna(row["township_name"]) else row["township_code"]
    return PlayedCase(id=cid, category=str(row["category"]), rule_code=str(row["rule_code"]),
                      severity=catalog.categories[row["category"]].severity, township=str(row["township_code"]),
                      township_name=str(name), lon=float(row["lon"]), lat=float(row["lat"]),
                      observed=pd.Timestamp(row["observed_at"]).to_pydatetime().astimezone(tz),
                      rng=case_rng(seed, cid),
                      description=str(row["description"]) if pd.notna(row.get("description")) else "",
                      received=None if received is None else received.astimezone(tz))


def narrowed_whistle(plan: Sequence[str], rng: np.random.Generator) -> list[str]:
    """A dispatcher's narrower whistle: the lead, the township team and the first one or two assists of the
    lists (they name the most relevant first)."""
    lead, assists = plan[0], [d for d in plan[1:] if d != "TOWN"]
    k = int(rng.choice(3, p=[0.15, 0.6, 0.25]))
    return [lead, *(["TOWN"] if "TOWN" in plan[1:] else []), *assists[:k]]


def joint_whistle_groups(cases: list[PlayedCase], rng: np.random.Generator, tz: ZoneInfo) -> list[list[PlayedCase]]:
    """Night cases of one township within 6 h and 10 km of each other (one night): often whistled together."""
    groups: list[list[PlayedCase]] = []
    by_town: dict[str, list[PlayedCase]] = defaultdict(list)
    for c in cases:
        by_town[c.township].append(c)
    for town in sorted(by_town):
        run: list[PlayedCase] = []
        for c in sorted(by_town[town], key=lambda c: (c.observed, str(c.id))):
            h = c.observed.astimezone(tz).hour
            night = h >= 20 or h <= 5
            head = run[0] if run else None
            if (head is not None and night and len(run) < 3
                    and c.observed - run[-1].observed <= timedelta(hours=6)
                    and math.hypot((c.lon - head.lon) * math.cos(math.radians(c.lat)), c.lat - head.lat) / METRE
                    <= 10_000):
                run.append(c)
                continue
            if run:
                groups.append(run)
            run = [c] if night else []
            if not night:
                groups.append([c])
        if run:
            groups.append(run)
    out: list[list[PlayedCase]] = []
    for g in groups:
        if len(g) > 1 and rng.random() >= P_JOINT:
            out.extend([c] for c in g)
        else:
            out.append(g)
    return out
