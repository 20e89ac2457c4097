"""The status map: packed columns decode to the cases given, the page is offline and safe with hostile text, and
the store's case-status frame carries the chain's milestones (real PostGIS)."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.mapping.packing import NONE, pack_cases
from gis_enforcement.mapping.status_map import GROUP_NAMES, STATUS_GROUPS, status_map, write_status_map
from gis_enforcement.storage import map_repo
from tests.dispatch.conftest import site  # noqa: F401 — fixture
from tests.dispatch.helpers import METRE, T0, new_case
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog, store_like  # noqa: F401 — fixtures

_NP = {"u8": "<u1", "u16": "<u2", "u32": "<u4"}


def season_cases(jurisdiction, catalog, count: int, seed: int = 11) -> pd.DataFrame:
    """A frame shaped like map_repo.case_status_frame: a simulated season with statuses and chain milestones."""
    g = store_like(jurisdiction, catalog, count, seed=seed)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(g.drop(columns="geometry"))
    frame["lon"], frame["lat"] = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
    statuses = [s for _, group, *_ in STATUS_GROUPS for s in group]
    frame["status"] = rng.choice(statuses, count)
    observed = frame["observed_at"]
    whistled = frame["status"].isin(["whistled", "in_action", "resolved", "verified", "closed", "reopened"])
    frame["whistled_at"] = observed.where(~whistled.eq(False)) + pd.to_timedelta(rng.integers(5, 600, count), "m")
    frame.loc[~whistled, "whistled_at"] = pd.NaT
    frame["n_summoned"] = np.where(whistled, rng.integers(1, 5, count), 0)
    frame["n_reported_in"] = np.minimum(frame["n_summoned"], rng.integers(0, 5, count))
    frame["n_late"] = np.minimum(frame["n_reported_in"], rng.integers(0, 2, count))
    frame["first_report_in_at"] = frame["whistled_at"] + pd.to_timedelta(rng.integers(3, 90, count), "m")
    frame.loc[frame["n_reported_in"] == 0, "first_report_in_at"] = pd.NaT
    closed = frame["status"].isin(["verified", "closed"])
    frame["lead_done_at"] = (observed + pd.to_timedelta(rng.integers(1, 72, count), "h")).where(closed)
    frame["closed_at"] = (frame["lead_done_at"] + pd.to_timedelta(rng.integers(1, 48, count), "h")).where(closed)
    return frame


def decode(data: dict) -> dict[str, np.ndarray]:
    return {k: np.frombuffer(base64.b64decode(v), dtype=_NP[data["types"][k]]) for k, v in data["cols"].items()}


def embedded(page: str) -> dict:
    m = re.search(r"var GISE_CASES = ", page)
    assert m
    obj, _ = json.JSONDecoder().raw_decode(page, m.end())
    return obj


@pytest.fixture(scope="module")
def cases(pinggu, pinggu_catalog):  # noqa: F811
    return season_cases(pinggu, pinggu_catalog, 800)


def test_packed_columns_decode_to_the_cases(cases, pinggu_catalog):  # noqa: F811
    cats = list(pinggu_catalog.categories)
    statuses = sorted(set(cases["status"]))
    data = pack_cases(cases, categories=cats, statuses=statuses)
    cols = decode(data)
    assert data["n"] == len(cases) and all(len(v) == len(cases) for v in cols.values())
    lon = data["x0"] + cols["x"] * data["step"]
    lat = data["y0"] + cols["y"] * data["step"]
    assert np.abs(lon - cases["lon"].to_numpy()).max() <= data["step"] / 2 + 1e-12
    assert np.abs(lat - cases["lat"].to_numpy()).max() <= data["step"] / 2 + 1e-12
    assert [cats[k] for k in cols["cat"]] == cases["category"].tolist()
    assert [statuses[k] for k in cols["st"]] == cases["status"].tolist()
    minutes = (cases["observed_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 60
    assert np.array_equal(data["t0"] + cols["t"], np.floor(minutes.to_numpy()))  # the minute a clock shows
    # the chain's delays: whistle in minutes, closing in hours; missing where the case never got there
    wd = (cases["whistled_at"] - cases["observed_at"]).dt.total_seconds() / 60
    has = wd.notna().to_numpy()
    assert np.array_equal(cols["wd"][has], np.rint(wd[has]).astype(int))
    assert (cols["wd"][~has] == NONE["u16"]).all()
    cd = (cases["closed_at"] - cases["observed_at"]).dt.total_seconds() / 3600
    closed = cd.notna().to_numpy()
    assert np.array_equal(cols["cd"][closed], np.rint(cd[closed]).astype(int)) and closed.any()
    assert np.array_equal(cols["nl"], cases["n_late"].to_numpy())
    towns = data["dict"]["tw"]
    got = [None if k == data["none"]["tw"] else towns[k] for k in cols["tw"]]
    assert got == [None if pd.isna(t) else str(t) for t in cases["township_name"]]
    assert data["ids"] == cases["id"].astype(str).tolist()


def test_big_seasons_carry_short_ids_and_no_descriptions(cases, pinggu_catalog):  # noqa: F811
    data = pack_cases(cases, categories=list(pinggu_catalog.categories), statuses=sorted(set(cases["status"])),
                      full_text_up_to=100)
    assert "ids" not in data and "desc" not in data
    ids = decode(data)["id"]
    assert [f"{v:08x}" for v in ids[:5]] == [s.replace("-", "")[:8] for s in cases["id"].astype(str)[:5]]


def test_page_is_offline_and_counts_the_statuses(cases, pinggu, pinggu_catalog, tmp_path):  # noqa: F811
    page = write_status_map(tmp_path / "status.html", cases, pinggu.townships,
                            catalog=pinggu_catalog).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, re.I)
    assert not re.search(r"url\(\s*[\"']?https?:", page, re.I)
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs", "bootstrapcdn", "tile.openstreetmap"):
        assert cdn not in page
    data = embedded(page)
    assert data["n"] == len(cases)
    legend = re.search(r'<div class="gise-box gise-legend">(.*?)<div class="sec">', page, re.S).group(1)
    dup = cases["likely_duplicate_of"].notna()
    for k, (key, statuses, *_) in enumerate(STATUS_GROUPS):
        if key == "suspect":
            n = int((dup & cases["status"].isin(["reported", "triaged"])).sum())
        elif key == "waiting":
            n = int((~dup & cases["status"].isin(statuses)).sum())
        else:
            n = int(cases["status"].isin(statuses).sum())
        row = re.search(rf'data-group="{k}"[^>]*>.*?<span class="n">([\d,]+)</span>', legend)
        assert (row and int(row.group(1).replace(",", ""))) == n or (n == 0 and row is None)
        if n:
            assert GROUP_NAMES["zh"][key] in legend
    assert "示意边界" in page and 'id="gise-day"' in page and 'max="' in page


def _legend_counts(page: str) -> dict[str, int]:
    legend = re.search(r'<div class="gise-box gise-legend">(.*?)<div class="sec">', page, re.S).group(1)
    rows = re.findall(r'data-group="(\d+)"[^>]*>.*?<span class="n">([\d,]+)</span>', legend)
    return {STATUS_GROUPS[int(k)][0]: int(n.replace(",", "")) for k, n in rows}


def _title_counts(page: str) -> dict[str, int]:
    stats = re.search(r'<div class="stats">(.*?)</div>', page, re.S).group(1)
    return {k: int(n.replace(",", "")) for k, n in re.findall(r"<span>(\S+) <b[^>]*>([\d,]+)</b></span>", stats)}


def test_a_likely_duplicate_is_counted_by_its_real_status(cases, pinggu, pinggu_catalog):  # noqa: F811
    """Intake's 疑似重复 is a suspicion, not a decision: a likely duplicate that was whistled and closed is closed,
    one nobody has looked at yet is 疑似重复 · 待核 — neither is 不予受理."""
    frame = cases.head(40).copy()
    frame["likely_duplicate_of"] = None
    frame["status"] = ["closed"] * 10 + ["reported"] * 10 + ["whistled"] * 10 + ["rejected"] * 10
    dup = frame.index[[0, 1, 2, 10, 11, 20, 30]]  # 3 closed, 2 reported, 1 whistled, 1 rejected
    frame.loc[dup, "likely_duplicate_of"] = frame["id"].iloc[39]
    page = status_map(frame, pinggu.townships, catalog=pinggu_catalog).get_root().render()
    assert _legend_counts(page) == {"waiting": 8, "suspect": 2, "whistled": 10, "closed": 10, "dropped": 10}
    assert _title_counts(page) == {"显示": 40, "未结": 20, "已结": 10, "迟到": int((frame["n_late"] > 0).sum())}
    assert "疑似重复 · 待核" in page
    groups = {g["key"]: k for k, g in enumerate(embedded(page)["groups"])}
    assert groups["suspect"] != groups["dropped"] and embedded(page)["groups"][groups["suspect"]]["hollow"]
    # the page's own grouping (the canvas and its counts in the browser) says the same, status by status
    by_status = {s["code"]: (s["group"], s["dupGroup"]) for s in embedded(page)["statuses"]}
    assert by_status["closed"] == (groups["closed"], groups["closed"])
    assert by_status["whistled"] == (groups["whistled"], groups["whistled"])
    assert by_status["reported"] == (groups["waiting"], groups["suspect"])
    assert by_status["rejected"] == (groups["dropped"], groups["dropped"])
    english = status_map(frame, pinggu.townships, catalog=pinggu_catalog, lang="en").get_root().render()
    assert _legend_counts(english)["closed"] == 10 and "Likely duplicate, not whistled" in english


def test_english_page(cases, pinggu, pinggu_catalog):  # noqa: F811
    page = status_map(cases, pinggu.townships, catalog=pinggu_catalog, lang="en").get_root().render()
    assert "Whistled, awaiting report-in" in page and "illustrative" in page
    assert pinggu_catalog.categories["MIN-02"].en.split(" (")[0] in page
    with pytest.raises(ValueError):
        status_map(cases, pinggu.townships, lang="fr")


def test_hostile_text_stays_text(cases, pinggu, pinggu_catalog):  # noqa: F811
    evil = cases.head(30).copy()
    evil["description"] = "{{ 7*7 }} </script><script>alert(1)</script>"
    page = status_map(evil, pinggu.townships, catalog=pinggu_catalog, title="<b>{{ 6*7 }}").get_root().render()
    assert "<script>alert(1)" not in page
    assert embedded(page)["desc"][0].startswith("{{ 7*7 }}")
    assert "<b>" not in re.findall(r"<h1>(.*?)</h1>", page)[0]


def test_no_cases_still_draws_the_townships(cases, pinggu):  # noqa: F811
    page = status_map(cases.head(0), pinggu.townships).get_root().render()
    assert embedded(page)["n"] == 0 and "暂无事件" in page


def test_case_status_frame_has_the_chain_milestones(db: Session, locator, catalog, site) -> None:  # noqa: F811
    x, y, township = site
    case, quiet = new_case(db, locator, catalog, x, y), new_case(db, locator, catalog, x + 0.01, y)
    w = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township, at=T0)
    first = w.assignments[0]
    due = pd.Timestamp(first.report_in_due)
    on_site.report_in(db, catalog=catalog, incident_id=case.id, department=first.department, lon=x,
                      lat=y + 50 * METRE, accuracy_m=5, server_time=due + timedelta(minutes=7))
    frame = map_repo.case_status_frame(db).set_index("id")
    row = frame.loc[str(case.id)]
    assert row["status"] == "whistled" and row["whistled_at"] == pd.Timestamp(T0)
    assert (row["n_summoned"], row["n_reported_in"], row["n_late"]) == (len(w.assignments), 1, 1)
    assert row["first_report_in_at"] == due + timedelta(minutes=7)
    other = frame.loc[str(quiet.id)]
    assert other["n_summoned"] == 0 and pd.isna(other["whistled_at"]) and other["status"] == "reported"
    assert row["township_name"] and row["lead_department"] == first.department
    # a period and a township narrow it
    assert map_repo.case_status_frame(db, start=T0 + timedelta(days=365)).empty
    assert map_repo.case_status_frame(db, township_code="nowhere").empty


def test_cases_sit_on_gcj02_tiles(cases, pinggu, pinggu_catalog):  # noqa: F811
    from gis_enforcement.domain.datum import from_wgs84
    from gis_enforcement.mapping.basemaps import basemap_from

    page = status_map(cases, pinggu.townships, catalog=pinggu_catalog,
                      basemap=basemap_from("amap")).get_root().render()
    data = embedded(page)
    cols = decode(data)
    lon, lat = data["x0"] + cols["x"] * data["step"], data["y0"] + cols["y"] * data["step"]
    gx, gy = from_wgs84(cases["lon"].to_numpy(), cases["lat"].to_numpy(), "gcj02")
    assert np.abs(lon - gx).max() <= data["step"] and np.abs(lat - gy).max() <= data["step"]
    assert np.abs(lon - cases["lon"].to_numpy()).min() > 1e-3  # moved by hundreds of metres around Beijing
    assert "webrd0" in page  # AMap's tiles
