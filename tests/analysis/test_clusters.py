"""Incident sites by DBSCAN in metres, and the register of recurring sites built on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from gis_enforcement.analysis.clusters import cluster_incidents, dbscan_labels, project_to_metres, to_lonlat
from gis_enforcement.analysis.recurring_sites import (
    REASON_AFTER_CLOSURE,
    REASON_OPEN,
    REASON_RECURRED,
    IncidentColumns,
    mark_recurrences,
    recurring_sites,
)
from gis_enforcement.errors import InvalidInput

TZ = "Asia/Shanghai"
# a point in Pinggu, and its EPSG:4548 position
ORIGIN_LON, ORIGIN_LAT = 117.12, 40.14
OX, OY = (float(v[0]) for v in project_to_metres(np.array([ORIGIN_LON]), np.array([ORIGIN_LAT])))


def _planted(offsets_m: list[tuple[float, float]], per_site: int, spread_m: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [
        np.column_stack(
            [OX + dx + rng.uniform(-spread_m, spread_m, per_site), OY + dy + rng.uniform(-spread_m, spread_m, per_site)]
        )
        for dx, dy in offsets_m
    ]
    return np.vstack(parts)


def test_two_sites_300_m_apart_are_separate_at_eps_100_m_and_noise_is_minus_one() -> None:
    xy = _planted([(0, 0), (300, 0)], per_site=25, spread_m=20)
    lonely = np.array([[OX + 2_000, OY + 1_500], [OX - 1_800, OY - 900]])
    xy = np.vstack([xy, lonely])
    lon, lat = to_lonlat(xy[:, 0], xy[:, 1])
    categories = ["MIN-01"] * 20 + ["ENV-02"] * 5 + ["SAND-01"] * 25 + ["X"] * 2
    times = pd.date_range("2026-03-01", periods=len(lon), freq="D", tz=TZ)
    res = cluster_incidents(lon, lat, eps_m=100, min_samples=4, categories=categories, times=times)
    assert res.n_clusters == 2
    assert set(res.labels[:25]) == {0} and set(res.labels[25:50]) == {1}
    assert res.labels[50:].tolist() == [-1, -1]
    table = res.table.set_index("cluster_id")
    assert table["n"].tolist() == [25, 25]
    # centroids within a few metres of the planted centres (uniform spread ±20 m)
    cx, cy = project_to_metres(table["lon"].to_numpy(), table["lat"].to_numpy())
    np.testing.assert_allclose(cx - OX, [0, 300], atol=8)
    np.testing.assert_allclose(cy - OY, [0, 0], atol=8)
    assert (table["radius_m"] <= 20 * np.sqrt(2) + 1).all() and (table["radius_m"] > 5).all()
    assert table.loc[0, "dominant_category"] == "MIN-01"
    assert table.loc[0, "categories"] == {"MIN-01": 20, "ENV-02": 5}
    assert table.loc[1, "first_at"] == times[25] and table.loc[1, "last_at"] == times[49]
    assert res.table.crs.to_epsg() == 4326
    hull = shapely.buffer(table.geometry.iloc[0], 1e-7)  # ~1 cm, for the members on the hull itself
    assert shapely.contains_xy(hull, lon[:25], lat[:25]).all()
    assert not shapely.contains_xy(hull, lon[25:], lat[25:]).any()


def test_eps_is_in_metres() -> None:
    xy = _planted([(0, 0), (300, 0)], per_site=25, spread_m=20)
    lon, lat = to_lonlat(xy[:, 0], xy[:, 1])
    assert cluster_incidents(lon, lat, eps_m=100, min_samples=4).n_clusters == 2
    # the gap between the sites is about 260 m: an eps of 300 m joins them
    assert cluster_incidents(lon, lat, eps_m=300, min_samples=4).n_clusters == 1


def test_min_samples_makes_small_groups_noise() -> None:
    xy = np.array([[OX, OY], [OX + 10, OY], [OX + 20, OY]])
    assert dbscan_labels(xy[:, 0], xy[:, 1], eps_m=15, min_samples=3).tolist() == [0, 0, 0]
    assert dbscan_labels(xy[:, 0], xy[:, 1], eps_m=15, min_samples=4).tolist() == [-1, -1, -1]
    with pytest.raises(InvalidInput):
        dbscan_labels(xy[:, 0], xy[:, 1], eps_m=0, min_samples=3)
    with pytest.raises(InvalidInput):
        cluster_incidents([117.1, 200.0], [40.1, 40.1])


# --- recurring sites ------------------------------------------------------------------------------------------


def _t(value: str | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value, tz=TZ)


def _history() -> pd.DataFrame:
    """Three sites and a stray report, all by hand:

    * site 0 (a sand yard): a1 closed on 3-05, a2 reported on 4-01 → a recurrence, still open;
    * site 1 (a workshop): b1 and b2 reported, never closed → not recurring;
    * site 2 (a mine pit): c2 reported on 3-10 while c1 was still open (closed 3-20) → a repeat, not a recurrence;
    * n1 is noise (cluster −1)."""
    rows = [
        ("a1", 0, "2026-03-01 09:00", "2026-03-05 17:00", "SAND-01", 117.1000, 40.1400),
        ("a2", 0, "2026-04-01 10:00", None, "SAND-01", 117.1003, 40.1401),
        ("b1", 1, "2026-03-01 09:00", None, "WORK-02", 117.2000, 40.2000),
        ("b2", 1, "2026-03-10 09:00", None, "WORK-02", 117.2002, 40.2000),
        ("c1", 2, "2026-03-01 09:00", "2026-03-20 12:00", "MIN-01", 117.3000, 40.1000),
        ("c2", 2, "2026-03-10 09:00", "2026-03-21 12:00", "MIN-01", 117.3002, 40.1000),
        ("n1", -1, "2026-03-10 09:00", None, "MIN-01", 117.5000, 40.1000),
    ]
    return pd.DataFrame(
        [(i, c, _t(r), _t(k), cat, lon, lat) for i, c, r, k, cat, lon, lat in rows],
        columns=["id", "cluster", "observed_at", "closed_at", "category", "lon", "lat"],
    )


def test_closed_then_reported_again_is_recurring_and_the_others_are_not() -> None:
    register = recurring_sites(_history()).set_index("cluster")
    assert register["recurring"].to_dict() == {0: True, 1: False, 2: False}
    assert register["n_recurrences"].to_dict() == {0: 1, 1: 0, 2: 0}
    assert register.index.tolist() == [0, 1, 2]  # recurring first, then by site id
    assert register.loc[0, "kind"] == "SAND-01" and register.loc[0, "n_incidents"] == 2
    assert register.loc[0, "history"] == ["a1", "a2"] and register.loc[0, "n_open"] == 1
    assert register.loc[0, "last_closure"] == _t("2026-03-05 17:00")
    assert register.loc[0, "last_report"] == _t("2026-04-01 10:00")
    assert -1 not in register.index
    marks = mark_recurrences(_history())
    assert marks[marks].index.tolist() == ["a2"]


def test_follow_up_dates() -> None:
    register = recurring_sites(_history(), follow_up_days=30).set_index("cluster")
    # site 0 came back after its last closure: inspect at once (the day it came back)
    assert register.loc[0, "follow_up_on"] == _t("2026-04-01")
    assert register.loc[0, "follow_up_reason"] == REASON_RECURRED
    assert bool(register.loc[0, "recurred_after_last_closure"])
    # site 1 was never closed: nothing to look back on yet
    assert pd.isna(register.loc[1, "follow_up_on"]) and register.loc[1, "follow_up_reason"] == REASON_OPEN
    # site 2: last closure 3-21 + 30 days
    assert register.loc[2, "follow_up_on"] == _t("2026-04-20")
    assert register.loc[2, "follow_up_reason"] == REASON_AFTER_CLOSURE
    assert recurring_sites(_history(), follow_up_days=7).set_index("cluster").loc[2, "follow_up_on"] == _t("2026-03-28")


def test_a_recurrence_that_was_closed_again_waits_for_the_next_look_back() -> None:
    history = _history()
    history.loc[history["id"] == "a2", "closed_at"] = _t("2026-04-03 12:00")
    site = recurring_sites(history).set_index("cluster").loc[0]
    assert site["n_recurrences"] == 1 and bool(site["recurring"])
    assert site["follow_up_on"] == _t("2026-05-03") and site["follow_up_reason"] == REASON_AFTER_CLOSURE


def test_register_is_deterministic_and_ids_come_from_the_place() -> None:
    history = _history()
    first = recurring_sites(history)
    shuffled = history.sample(frac=1.0, random_state=5).reset_index(drop=True)
    # renumber the clusters: the site ids must not depend on the numbering
    shuffled["cluster"] = shuffled["cluster"].map({0: 7, 1: 5, 2: 6, -1: -1})
    second = recurring_sites(shuffled)
    assert first["site_id"].tolist() == second["site_id"].tolist()
    assert first["history"].tolist() == second["history"].tolist()
    assert first["site_id"].str.match(r"^RS-\d+-\d+$").all() and first["site_id"].is_unique
    assert recurring_sites(history, only_recurring=True)["cluster"].tolist() == [0]


def test_other_column_names_and_bad_input() -> None:
    renamed = _history().rename(columns={"observed_at": "reported_at", "cluster": "site"})
    columns = IncidentColumns(observed_at="reported_at", cluster="site")
    assert recurring_sites(renamed, columns=columns)["recurring"].sum() == 1
    bad = _history()
    bad.loc[0, "closed_at"] = _t("2026-02-01")  # closed before it was reported
    with pytest.raises(InvalidInput) as err:
        recurring_sites(bad)
    assert err.value.field == "closed_at"
    with pytest.raises(InvalidInput):
        recurring_sites(_history().drop(columns="category"))
    with pytest.raises(InvalidInput):
        recurring_sites(pd.concat([_history(), _history().iloc[:1]]))  # duplicate id
    with pytest.raises(InvalidInput):
        recurring_sites(_history(), follow_up_days=-1)
