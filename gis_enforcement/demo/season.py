"""A simulated patrol season for Pinggu: seeded, reproducible GPS incident reports in the intake format.

:func:`simulate_season` returns GeoJSON Features exactly as phones and the web page submit them (client UUID,
``[lon, lat]`` Point, category code, ISO 8601 time with the +08:00 offset, GPS accuracy, reporter,
description, datum). :func:`simulate_incident_table` returns the same season as the CSV intake table (all
WGS84), fully vectorised, fast enough to write a million-row benchmark file.

The same ``seed`` always gives the same reports (ids included); a different seed gives a different season.
Nothing is read from the clock or the network. The habits in time and words live in
:mod:`gis_enforcement.demo.habits`, the places and recurring sites in :mod:`gis_enforcement.demo.sites`.

Habits simulated (all probabilities and shares are invented for the demo, tuned to look plausible)
-------------------------------------------------------------------------------------------------
Where
  * MIN-02 river sand: inside ``river_corridor`` zones; mostly at night (about 80 % between 21:00 and 04:00).
  * MIN-01 illegal mining: ``mining_area`` zones and the north-east mountain townships 金海湖镇, 黄松峪乡 and
    镇罗营镇 (the 2016 gold-mine accident area); about half at night, the rest by day.
  * TRK-01/02/03 heavy trucks: on ``truck_route`` zones, day and night (overloaded trucks run at night,
    dust and banned-route trucks by day); a one-month overload campaign (治超专项行动) from day 45 of the
    season doubles truck reports.
  * ENV-01 polluting workshops (散乱污): within a few hundred metres of village points, working hours, fewer
    at weekends. CON-02 rural illegal building: near villages. CON-01 town illegal building, CON-03 site dust
    and MKT-01 unlicensed trading: urban communities (社区) and the 街道, and the larger villages (town
    planning areas of the 镇).
  * ENV-03 open burning: near villages and fields, mostly March-April and October-November (some in June,
    after the wheat harvest), afternoon and evening.
  * ENV-04 livestock pollution and ENV-02 outfalls: villages close to river corridors / the corridors.
  * ENV-05 construction-waste dumping: truck routes and township borders (the classic 三不管 spots).
  * FOR-01 logging: ecological red line and mountain townships. LAND-01, SAFE-01: around villages.
  * Categories of another district's catalog without a habit here: anywhere, by day.
Recurring problem sites
  A handful of fixed sites per season, placed by the seed: a sand yard on a river, a mine pit in the
  mountains, a furniture workshop in an old textile mill, a dumping pit on a township border, a livestock
  farm by a river, a truck bypass round a checkpoint. Each is reported again and again over the season,
  always more than the category's dedupe window apart (they are recurrences, not duplicates).
Near-duplicates
  About 3 % of reports are a second patrol reporting the same problem 8-60 m away and 10-120 minutes later
  (another reporter, its own words), so intake's likely-duplicate detection has genuine pairs to find;
  with chance coincidences about 3-5 % of a 3,000-report season are flagged.
Category unknown
  About 15 % of the ordinary reports of the ambiguous problems (dumped spoil, site dust, land occupation, rural
  building, workshops) come in under the lists' placeholder 类别待定, with words that say what the patrol saw
  (``habits.UNSURE``); the chain's township names their category before it whistles.
Borders and the district edge
  About 2.5 % of reports are moved onto township borders (±40 m), and about 0.5 % lie 150 m to 2.5 km
  outside the district (a patrol following a problem across the line into Hebei or Tianjin), so
  ``near_border`` and ``outside_district`` flags appear. Scatter around villages never leaves the district
  by itself. Reports come in time order.
GPS and datum
  Accuracy: mostly 3-15 m (phone GPS); 30-80 m for about 10 % of fixes (5 % base, more in the mountain
  townships and at night); about 1 % worse than 100 m. The reported point is the true one plus an error of
  that size. About 20 % of reports come in GCJ-02 (phone map SDKs) and 2 % in BD-09 (Baidu), converted
  with :func:`gis_enforcement.domain.datum.from_wgs84`; the rest are WGS84.
Who
  Township patrol teams ("金海湖镇巡查队-李强") and, for their categories, district teams (water authority
  river patrols, transport overload teams, planning/natural-resources, ecology, forestry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gis_enforcement.demo.habits import (
    GENERIC_HABIT,
    HABITS,
    HOURS,
    NIGHT_HOURS,
    UNSURE,
    UNSURE_SHARE,
    day_weights,
    draw_seconds,
)
from gis_enforcement.demo.sites import SITES, Setting, m_to_deg, sample_positions
from gis_enforcement.demo.strings import iso_times, uuid4_strings
from gis_enforcement.domain.datum import from_wgs84

__all__ = [
    "TABLE_COLUMNS",
    "season_feature_collection",
    "season_window",
    "simulate_incident_table",
    "simulate_season",
]

#: Columns of :func:`simulate_incident_table` (the CSV intake format).
TABLE_COLUMNS = ("id", "category", "lon", "lat", "accuracy_m", "observed_at", "reporter", "description")

BEIJING = timezone(timedelta(hours=8))

DUPLICATE_SHARE = 0.03
BORDER_SHARE = 0.025
OUTSIDE_SHARE = 0.005
GCJ02_SHARE = 0.20
BD09_SHARE = 0.02

_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林郑谢罗梁宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕"
                  "苏卢蒋蔡贾丁魏薛叶阎")
_GIVEN = tuple("强伟军勇杰磊涛明超刚平辉鹏华丽静敏艳娜") + (
    "建国", "建华", "志强", "海燕", "秀英", "桂兰", "国庆", "立新", "春生", "永刚", "红梅", "振华", "德明",
)
_TEAM_SIZE = 6
_PLATE_PREFIX = ("冀B", "冀J", "冀R", "冀E", "津A", "津N", "京A", "京Q", "蒙D", "辽B")


@dataclass
class _Season:
    """The simulated season as parallel integer/float arrays (strings only at the very end)."""

    codes: list[str]       # category codes; ``cat`` indexes them
    cat: np.ndarray
    lon: np.ndarray        # true position, WGS84
    lat: np.ndarray
    t: np.ndarray          # seconds since local midnight of the season start
    town: np.ndarray       # township of the reporting team
    place: np.ndarray      # index into ``places``
    places: list[str]
    phrase: np.ndarray     # index into ``phrases``
    phrases: list[str]
    team: np.ndarray       # -1: the township's team; else index into ``teams``
    teams: list[str]
    town_names: list[str]
    mountain: np.ndarray   # bool: reported in a mountain township


def _simulate(jurisdiction: Any, catalog: Any, count: int, seed: int, start: date, days: int) -> _Season:
    if count < 0:
        raise ValueError("count must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    rng = np.random.default_rng(seed)
    setting = Setting(jurisdiction, rng)
    # the problems of the lists; the placeholder for "category unknown" is no habit of its own (step 5)
    codes = [c for c, v in catalog.categories.items() if not getattr(v, "classify_first", False)]
    placeholder = next((c for c, v in catalog.categories.items() if getattr(v, "classify_first", False)), None)
    habits = [HABITS.get(c, GENERIC_HABIT) for c in codes]
    code_idx = {c: i for i, c in enumerate(codes)}
    window_h = [float(getattr(catalog.categories[c], "dedupe_window_hours", 72) or 72) for c in codes]
    # phrase table: each category's phrases, then each site's
    phrases: list[str] = []
    phrase_range: list[tuple[int, int]] = []
    for code, habit in zip(codes, habits, strict=True):
        first = len(phrases)
        phrases += [p.format(zh=catalog.categories[code].zh) for p in habit.phrases]
        phrase_range.append((first, len(phrases)))
    teams = sorted({h.team[0] for h in habits if h.team})
    team_idx = {name: i for i, name in enumerate(teams)}

    n_dup = int(round(count * DUPLICATE_SHARE)) if count >= 20 else 0
    n_base = count - n_dup
    # columns: cat, lon, lat, t, town, village, site_no (index into site_places, -1 = ordinary), phrase, team
    parts: list[tuple[np.ndarray, ...]] = []
    site_places: list[str] = []

    # 1. recurring problem sites: reported again and again, always more than the dedupe window apart
    n_sites = 0
    site_phrase_range: dict[int, tuple[int, int]] = {}
    for site in SITES:
        if site.category not in code_idx or n_base < 200:
            continue
        ci = code_idx[site.category]
        gap = math.ceil(window_h[ci] / 24.0) + 1
        phase = int(rng.integers(0, gap))
        slots = max((days - phase + gap - 1) // gap, 0)
        k = min(int(round(n_base * site.share)), slots)
        if k <= 0:
            continue
        slon, slat, stown, svil = sample_positions(setting, site.domain, 1, None)
        day = rng.choice(slots, size=k, replace=False) * gap + phase
        t = draw_seconds(rng, HOURS[habits[ci].hours], day)
        dlon, dlat = m_to_deg(rng.normal(0, site.spread_m, k), rng.normal(0, site.spread_m, k), slat)
        first = len(phrases)
        phrases += list(site.phrases)
        site_phrase_range[ci] = (first, len(phrases))
        site_places.append(site.name.format(v=setting.v_name[int(svil[0])]))
        parts.append((
            np.full(k, ci), slon + dlon, slat + dlat, t, np.repeat(stown, k), np.repeat(svil, k),
            np.full(k, len(site_places) - 1), rng.integers(first, len(phrases), size=k), np.full(k, -1),
        ))
        n_sites += k

    # 2. ordinary reports, by category, domain, season and hour
    weights = np.array([h.weight for h in habits], dtype=float)
    per_cat: np.ndarray | list[int] = rng.multinomial(n_base - n_sites, weights / weights.sum()) if codes else []
    for ci, (habit, k) in enumerate(zip(habits, per_cat, strict=True)):
        if k == 0:
            continue
        shares = np.array([w[1] for w in habit.where])
        per_domain = rng.multinomial(k, shares / shares.sum())
        day = rng.choice(days, size=k, p=day_weights(habit, start, days))
        t = draw_seconds(rng, HOURS[habit.hours], day)
        pos = [sample_positions(setting, domain, int(kd), spread)
               for (domain, _, spread), kd in zip(habit.where, per_domain, strict=True) if kd]
        team = np.full(k, -1)
        if habit.team:
            team[rng.random(k) < habit.team[1]] = team_idx[habit.team[0]]
        lo, hi = phrase_range[ci]
        lon, lat, town, village = (np.concatenate([p[j] for p in pos]) for j in range(4))
        parts.append((
            np.full(k, ci), lon, lat, t, town, village, np.full(k, -1), rng.integers(lo, hi, size=k), team,
        ))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else [np.empty(0)] * 9
    cat, lon, lat, t, town, village, site_no, phrase, team = (
        cols[0].astype(np.int64), cols[1].astype(float), cols[2].astype(float), cols[3].astype(np.int64),
        cols[4].astype(np.int64), cols[5].astype(np.int64), cols[6].astype(np.int64),
        cols[7].astype(np.int64), cols[8].astype(np.int64),
    )
    n = len(cat)

    # 3. township borders and just outside the district (ordinary reports only: sites stay put)
    ordinary = np.flatnonzero(site_no < 0)
    if len(ordinary):
        move = rng.random(len(ordinary))
        to_border = ordinary[move < BORDER_SHARE]
        to_out = ordinary[(move >= BORDER_SHARE) & (move < BORDER_SHARE + OUTSIDE_SHARE)]
        if len(to_border):
            lon[to_border], lat[to_border], town[to_border], village[to_border] = sample_positions(
                setting, "border", len(to_border), None)
        outside = setting.outside_pool()
        if len(to_out) and len(outside):
            j = rng.integers(0, len(outside), size=len(to_out))
            assert outside.town is not None and outside.village is not None
            lon[to_out], lat[to_out] = outside.lon[j], outside.lat[j]
            town[to_out], village[to_out] = outside.town[j], outside.village[j]

    # 4. genuine near-duplicates: a second patrol, 8-60 m away, 10-120 minutes later, its own words
    if n_dup and n:
        src = rng.choice(n, size=n_dup, replace=n_dup > n)
        ang = rng.uniform(0, 2 * np.pi, n_dup)
        d = rng.uniform(8, 60, n_dup)
        dlon, dlat = m_to_deg(d * np.sin(ang), d * np.cos(ang), lat[src])
        dt = rng.integers(10 * 60, 120 * 60, size=n_dup)
        t_dup = t[src] + dt
        late = t_dup >= days * 86400
        t_dup[late] = np.maximum(t[src][late] - dt[late], 0)
        # its own words: any phrase of the category (or of its site_no)
        dup_lo = np.array([phrase_range[c][0] for c in range(len(codes))])[cat[src]]
        dup_hi = np.array([phrase_range[c][1] for c in range(len(codes))])[cat[src]]
        from_site = site_no[src] >= 0
        if from_site.any():
            s_lo = np.array([site_phrase_range.get(c, phrase_range[c])[0] for c in range(len(codes))])
            s_hi = np.array([site_phrase_range.get(c, phrase_range[c])[1] for c in range(len(codes))])
            dup_lo = np.where(from_site, s_lo[cat[src]], dup_lo)
            dup_hi = np.where(from_site, s_hi[cat[src]], dup_hi)
        dup_phrase = dup_lo + (rng.random(n_dup) * (dup_hi - dup_lo)).astype(np.int64)
        dup_team = np.where(rng.random(n_dup) < 0.5, -1, team[src])
        cat, town, village, site_no = (np.concatenate([a, a[src]]) for a in (cat, town, village, site_no))
        lon = np.concatenate([lon, lon[src] + dlon])
        lat = np.concatenate([lat, lat[src] + dlat])
        t = np.concatenate([t, t_dup])
        phrase = np.concatenate([phrase, dup_phrase])
        team = np.concatenate([team, dup_team])

    # place words: the site_no's name, or '<village><direction><distance>' from the true position
    place_code = np.where(site_no >= 0, -1 - site_no, setting.place_codes(lon, lat, village))
    uniq, place = np.unique(place_code, return_inverse=True)
    places = [site_places[-1 - int(c)] if c < 0 else setting.place_text(int(c)) for c in uniq]
    mountain = setting.mountain[town] if len(town) else np.empty(0, dtype=bool)

    order = np.lexsort((np.arange(len(t)), t))
    cat, site_no, phrase = cat[order], site_no[order], phrase[order]
    # 5. reports the patrol could not name (类别待定): some of the ambiguous problems' ordinary reports, drawn by a
    #    generator of their own so that every other report of the season stays as it was
    unsure_phrase = np.full(len(codes) + 1, -1, dtype=np.int64)
    for ci, code in enumerate(codes):
        if code in UNSURE:
            unsure_phrase[ci] = len(phrases)
            phrases.append(UNSURE[code])
    if placeholder is not None and len(cat):
        pick = (unsure_phrase[cat] >= 0) & (site_no < 0)
        pick &= np.random.default_rng([seed, 5]).random(len(cat)) < UNSURE_SHARE
        phrase = np.where(pick, unsure_phrase[cat], phrase)
        codes = [*codes, placeholder]
        cat = np.where(pick, len(codes) - 1, cat)
    return _Season(
        codes=codes, cat=cat, lon=lon[order], lat=lat[order], t=t[order], town=town[order],
        place=place.ravel()[order], places=places, phrase=phrase, phrases=phrases, team=team[order],
        teams=teams, town_names=setting.town_names, mountain=mountain[order],
    )


def _finish(season: _Season, rng: np.random.Generator, start: date) -> dict[str, Any]:
    """Ids, GPS accuracy and error, times, reporters and descriptions; strings as Arrow arrays."""
    n = len(season.t)
    ids = uuid4_strings(rng, n)
    night = NIGHT_HOURS[(season.t // 3600) % 24]
    p_bad = 0.05 + 0.10 * season.mountain + 0.06 * night
    p_vbad = 0.006 + 0.008 * season.mountain
    u = rng.random(n)
    good = np.clip(rng.lognormal(np.log(6.5), 0.4, n), 3.0, 15.0)
    bad = rng.uniform(30.0, 80.0, n)
    vbad = np.exp(rng.uniform(np.log(101.0), np.log(300.0), n))
    accuracy = np.round(np.where(u < p_vbad, vbad, np.where(u < p_vbad + p_bad, bad, good)), 1)
    # the reported fix is off by about its stated accuracy
    err = accuracy * 0.5
    dlon, dlat = m_to_deg(rng.normal(0, 1, n) * err, rng.normal(0, 1, n) * err, season.lat)
    lon = np.round(season.lon + dlon, 6)
    lat = np.round(season.lat + dlat, 6)
    # reporters: the township's patrol team, or the category's district team
    team_names = [f"{name}巡查队" for name in season.town_names] + [f"{t}" for t in season.teams]
    members: list[str] = []
    for tname in team_names:
        picked: list[str] = []
        while len(picked) < _TEAM_SIZE:
            person = _SURNAMES[int(rng.integers(len(_SURNAMES)))] + _GIVEN[int(rng.integers(len(_GIVEN)))]
            if person not in picked:
                picked.append(person)
        members += [f"{tname}-{p}" for p in picked]
    team_row = np.where(season.team >= 0, len(season.town_names) + season.team, season.town)
    who = team_row * _TEAM_SIZE + rng.integers(0, _TEAM_SIZE, size=n)
    reporter = pa.array(members, pa.string()).take(pa.array(who))
    # descriptions: place + phrase (+ a plate for trucks, from a fleet of recurring trucks)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    plates = [
        _PLATE_PREFIX[int(rng.integers(len(_PLATE_PREFIX)))] + letters[int(rng.integers(len(letters)))]
        + f"{int(rng.integers(100000)):05d}" for _ in range(800)
    ]
    tails = pa.array([""] + [f"，车牌{p}" for p in plates], pa.string())
    truck = np.array([c.startswith("TRK-") for c in season.codes] + [False], dtype=bool)[season.cat]
    with_plate = truck & (rng.random(n) < 0.6)
    tail = np.where(with_plate, 1 + rng.integers(0, len(plates), size=n), 0)
    description = pc.binary_join_element_wise(
        pa.array(season.places, pa.string()).take(pa.array(season.place)), "，",
        pa.array(season.phrases, pa.string()).take(pa.array(season.phrase)),
        tails.take(pa.array(tail)), "",
    )
    return {"id": ids, "lon": lon, "lat": lat, "accuracy_m": accuracy,
            "observed_at": iso_times(start, season.t), "reporter": reporter, "description": description,
            "category": pa.array(season.codes, pa.string()).take(pa.array(season.cat))}


def _run(jurisdiction: Any, catalog: Any, count: int, seed: int, start: date, days: int
         ) -> tuple[_Season, dict[str, Any], np.random.Generator]:
    season = _simulate(jurisdiction, catalog, count, seed, start, days)
    rng = np.random.default_rng([seed, 1])  # a second stream: finishing never shifts the positions
    return season, _finish(season, rng, start), rng


def simulate_incident_table(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> pd.DataFrame:
    """The season as the CSV intake table: columns :data:`TABLE_COLUMNS`, every position in WGS84.

    Fully vectorised (a million rows take a couple of seconds); string columns are Arrow-backed. Same
    arguments -> the same table; its ids, categories and times are those of :func:`simulate_season`.
    """
    _, done, _ = _run(jurisdiction, catalog, count, seed, start, days)
    return pa.table({c: done[c] for c in TABLE_COLUMNS}).to_pandas()


def simulate_season(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> list[dict[str, Any]]:
    """``count`` patrol reports over ``days`` days from ``start`` (local time), as intake GeoJSON Features.

    ``jurisdiction`` is a :class:`gis_enforcement.layers.jurisdiction.Jurisdiction` (district, townships,
    villages, zones); ``catalog`` the loaded four lists (only ``catalog.categories`` is read). Features come
    in time order. See the module docstring for the habits simulated. Same arguments -> identical features,
    ids included.
    """
    _, done, rng = _run(jurisdiction, catalog, count, seed, start, days)
    n = len(done["lon"])
    u = rng.random(n)
    crs = np.where(u < BD09_SHARE, "bd09", np.where(u < BD09_SHARE + GCJ02_SHARE, "gcj02", "wgs84"))
    lon, lat = done["lon"].copy(), done["lat"].copy()
    for datum in ("gcj02", "bd09"):
        sel = crs == datum
        if sel.any():
            x, y = from_wgs84(lon[sel], lat[sel], datum)
            lon[sel], lat[sel] = np.round(x, 6), np.round(y, 6)
    ids, cats = done["id"].to_pylist(), done["category"].to_pylist()
    obs, rep, desc = (done[k].to_pylist() for k in ("observed_at", "reporter", "description"))
    acc, lons, lats, crss = done["accuracy_m"].tolist(), lon.tolist(), lat.tolist(), crs.tolist()
    return [
        {
            "type": "Feature",
            "id": ids[i],
            "geometry": {"type": "Point", "coordinates": [lons[i], lats[i]]},
            "properties": {
                "category": cats[i],
                "observed_at": obs[i],
                "accuracy_m": acc[i],
                "reporter": rep[i],
                "description": desc[i],
                "crs": crss[i],
            },
        }
        for i in range(n)
    ]


def season_feature_collection(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> dict[str, Any]:
    """:func:`simulate_season` wrapped in a GeoJSON FeatureCollection (ready for ``json.dump``)."""
    features = simulate_season(jurisdiction, catalog, count=count, seed=seed, start=start, days=days)
    return {"type": "FeatureCollection", "features": features}


def season_window(start: date = date(2026, 3, 1), days: int = 183) -> tuple[datetime, datetime]:
    """The [first, end) instants of a season, timezone-aware (+08:00)."""
    first = datetime(start.year, start.month, start.day, tzinfo=BEIJING)
    return first, first + timedelta(days=days)
