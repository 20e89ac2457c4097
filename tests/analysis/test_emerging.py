"""Emerging hot spots: every Esri category on constructed z-series, the same end to end from counts, and the
space-time cube the counts come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.analysis.emerging import (
    CATEGORIES,
    bin_status,
    classify_emerging,
    emerging_from_z,
    emerging_hot_spots,
    space_time_gi_star,
    time_window_sums,
)
from gis_enforcement.analysis.gi_star import distance_band_weights, gi_star_z
from gis_enforcement.analysis.space_time import build_cube
from gis_enforcement.errors import InvalidInput

T = 12
HOT, COLD = 3.0, -3.0  # far beyond ±1.645 (90 %)
t = np.arange(T, dtype=float)


def _at(bins: list[int], value: float) -> list[float]:
    row = [0.0] * T
    for b in bins:
        row[b] = value
    return row


# One z-series per category, each unambiguous under Esri's definitions (12 bins: "90 %" means ≥ 11 bins).
HOT_SERIES: dict[str, list[float]] = {
    "new hot spot": _at([11], HOT),
    "consecutive hot spot": _at([8, 9, 10, 11], HOT),
    "intensifying hot spot": list(2.0 + 0.5 * t),  # hot in all bins, rising
    "persistent hot spot": [3.0, 2.5] * 6,  # hot in all bins, no trend
    "diminishing hot spot": list(8.0 - 0.5 * t),  # hot in all bins (8 … 2.5), falling
    "sporadic hot spot": _at([1, 5, 11], HOT),  # on and off, never cold, hot at the end
    "oscillating hot spot": _at([3], COLD)[:7] + _at([11], HOT)[7:],  # cold once, hot at the end
    "historical hot spot": [3.0] * 11 + [0.0],  # 11 of 12 bins hot, the last not
    "no pattern": [0.0, 0.5, -0.5, 1.0, -1.0, 0.2] * 2,
}
COLD_SERIES: dict[str, list[float]] = {
    name.replace("hot", "cold"): [-v for v in series] for name, series in HOT_SERIES.items() if name != "no pattern"
}


def test_the_sample_series_are_what_they_claim() -> None:
    """The fixtures themselves: bins beyond ±1.645 only where meant, and trends where meant (guards the test)."""
    z = np.array(list(HOT_SERIES.values()))
    res = emerging_from_z(z)
    trend = dict(zip(HOT_SERIES, res.table["trend_p"], strict=True))
    assert trend["intensifying hot spot"] < 0.01 and trend["diminishing hot spot"] < 0.01
    assert trend["persistent hot spot"] > 0.10
    n_hot = dict(zip(HOT_SERIES, res.table["n_hot_bins"], strict=True))
    assert n_hot["historical hot spot"] == 11 and n_hot["sporadic hot spot"] == 3


@pytest.mark.parametrize("series", [HOT_SERIES, COLD_SERIES], ids=["hot", "cold"])
def test_every_category_from_z_series(series: dict[str, list[float]]) -> None:
    res = emerging_from_z(np.array(list(series.values())), cell_ids=list(series))
    got = dict(zip(res.table["cell_id"], res.table["category"].astype(str), strict=True))
    assert got == {name: name for name in series}


def test_all_seventeen_categories_at_once() -> None:
    series = {**HOT_SERIES, **COLD_SERIES}
    res = emerging_from_z(np.array(list(series.values())))
    assert sorted(res.table["category"].astype(str)) == sorted(CATEGORIES)
    assert res.table["category"].cat.categories.tolist() == list(CATEGORIES)


def test_ninety_percent_boundary() -> None:
    # 10 of 12 bins hot (83 %) with a gap and the final bin hot: sporadic, not persistent
    ten = [HOT] * 5 + [0.0, 0.0] + [HOT] * 5
    # 11 of 12 hot, final hot, no trend: persistent
    eleven = [HOT, 2.5] * 3 + [0.0] + [2.5, HOT, 2.5, HOT, 2.5]
    res = emerging_from_z(np.array([ten, eleven]))
    assert res.table["category"].astype(str).tolist() == ["sporadic hot spot", "persistent hot spot"]


def test_overlaps_are_resolved_as_documented() -> None:
    z = np.array(
        [
            [HOT] * 11 + [COLD],  # ≥ 90 % hot but cold now: the final bin picks the cold family
            _at([2], COLD)[:10] + [HOT, HOT],  # a cold past beats "consecutive"
            _at([2], COLD)[:11] + [HOT],  # a cold past beats "new"
        ]
    )
    got = emerging_from_z(z).table["category"].astype(str).tolist()
    assert got == ["oscillating cold spot", "oscillating hot spot", "oscillating hot spot"]


def test_significance_level_and_fdr() -> None:
    z = np.zeros((200, T))
    z[0, -1] = 1.7  # p ≈ 0.089: significant at 90 %, not at 95 %, not after FDR over 200 cells
    assert emerging_from_z(z, alpha=0.10).table["category"].iloc[0] == "new hot spot"
    assert emerging_from_z(z, alpha=0.05).table["category"].iloc[0] == "no pattern"
    _, status = bin_status(z, 0.10, fdr=True)
    assert status[0, -1] == 0
    z[:20, -1] = 5.0  # strong signals survive the correction
    _, status = bin_status(z, 0.10, fdr=True)
    assert (status[:20, -1] == 1).all()


def test_classify_is_per_cell_and_refuses_bad_shapes() -> None:
    status = np.array([[0] * 11 + [1], [0] * 11 + [-1]])
    assert classify_emerging(status, np.zeros(2)).tolist() == ["new hot spot", "new cold spot"]
    with pytest.raises(InvalidInput):
        classify_emerging(status, np.zeros(3))
    with pytest.raises(InvalidInput):
        emerging_from_z(np.array([[1.0, np.nan]]))


# --- end to end, from counts -------------------------------------------------------------------------------

SIDE = 15


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij"))
    x = 500_000 + 500.0 * ix
    y = 4_440_000 + 500.0 * iy
    return ix, iy, x, y


def _background(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    # a fixed texture of 2–4 incidents a month, so no cell stands out by chance
    return (2 + (ix[:, None] + 2 * iy[:, None] + np.arange(T)[None, :]) % 3).astype(float)


def _block(ix: np.ndarray, iy: np.ndarray, cx: int, cy: int) -> np.ndarray:
    return (np.abs(ix - cx) <= 1) & (np.abs(iy - cy) <= 1)


def test_new_and_consecutive_hot_spots_from_counts() -> None:
    ix, iy, x, y = _grid()
    counts = _background(ix, iy)
    new, consecutive = _block(ix, iy, 3, 3), _block(ix, iy, 3, 11)
    counts[new, -1] += 10
    counts[consecutive, -3:] += 10
    res = emerging_hot_spots(counts, x, y, distance_m=750)  # 8 neighbours + self on a 500 m grid
    category = res.table["category"].astype(str).to_numpy()
    assert (category[new] == "new hot spot").all()
    assert (category[consecutive] == "consecutive hot spot").all()
    far = (np.abs(ix - 11) <= 2) & (np.abs(iy - 3) <= 2)
    assert (category[far] == "no pattern").all()
    assert res.z.shape == (SIDE * SIDE, T) and res.table["n_hot_bins"][new].eq(1).all()


def test_persistent_hot_spot_from_counts() -> None:
    ix, iy, x, y = _grid()
    counts = _background(ix, iy)
    site = _block(ix, iy, 7, 7)
    counts[site, :] += 10
    res = emerging_hot_spots(counts, x, y, distance_m=750)
    centre = np.flatnonzero((ix == 7) & (iy == 7))[0]
    assert res.table["category"].iloc[centre] == "persistent hot spot"
    assert res.table["n_hot_bins"].iloc[centre] == T


def test_time_step_sums_the_trailing_bins() -> None:
    counts = np.array([[1.0, 2, 3, 4, 5], [0, 0, 1, 0, 0], [5, 5, 5, 5, 5]])
    np.testing.assert_array_equal(time_window_sums(counts, 0), counts)
    np.testing.assert_array_equal(time_window_sums(counts, 1)[0], [1, 3, 5, 7, 9])
    np.testing.assert_array_equal(time_window_sums(counts, 2)[1], [0, 0, 1, 1, 1])
    ix, iy, x, y = _grid()
    weights = distance_band_weights(x, y, 750)
    values = _background(ix, iy)
    window = values.copy()
    window[:, 1:] += values[:, :-1]
    np.testing.assert_allclose(space_time_gi_star(values, weights, time_step=1), gi_star_z(window, weights))
    with pytest.raises(InvalidInput):
        time_window_sums(counts, -1)


def test_a_new_hot_spot_lingers_with_a_time_step() -> None:
    ix, iy, x, y = _grid()
    counts = _background(ix, iy)
    site = _block(ix, iy, 7, 7)
    counts[site, -2] += 10  # a burst in the last-but-one month only
    centre = np.flatnonzero((ix == 7) & (iy == 7))[0]
    alone = emerging_hot_spots(counts, x, y, distance_m=750)
    carried = emerging_hot_spots(counts, x, y, distance_m=750, time_step=1)
    assert alone.table["category"].iloc[centre] == "no pattern"  # last bin quiet
    assert carried.table["category"].iloc[centre] == "consecutive hot spot"  # bins t−1..t carry it


def test_emerging_from_a_cube_keeps_its_cell_ids() -> None:
    ix, iy, x, y = _grid()
    names = np.array([f"c{i:03d}" for i in range(SIDE * SIDE)], dtype=object)
    counts = _background(ix, iy).astype(np.int64)
    rows = np.repeat(np.arange(SIDE * SIDE), T)
    bins = np.tile(np.arange(T), SIDE * SIDE)
    times = pd.Timestamp("2026-01-01", tz="Asia/Shanghai") + pd.to_timedelta(bins * 31, unit="D")
    cube = build_cube(np.repeat(names[rows], counts.ravel()), np.repeat(times, counts.ravel()), cells=names)
    np.testing.assert_array_equal(cube.counts, counts)
    res = emerging_hot_spots(cube, x, y, distance_m=750)
    assert res.table["cell_id"].tolist() == names.tolist()
    assert res.bin_starts is not None and len(res.bin_starts) == T
    with pytest.raises(InvalidInput):
        emerging_hot_spots(cube, x[:-1], y[:-1], distance_m=750)


# --- the space-time cube --------------------------------------------------------------------------------------

TZ = "Asia/Shanghai"


def _ts(*values: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(v, tz=TZ) for v in values])


def test_cube_counts_sum_to_incidents_and_empty_months_are_zero() -> None:
    cells = ["h1", "h2", "h1", "h3", "h1", "h2"]
    times = _ts("2026-01-03", "2026-01-31 23:59", "2026-02-01 00:00", "2026-04-15", "2026-04-30", "2026-06-01")
    cube = build_cube(cells, times)
    assert cube.counts.sum() == len(cells)
    assert cube.cell_ids.tolist() == ["h1", "h2", "h3"]
    assert cube.bin_starts[0] == pd.Timestamp("2026-01-01", tz=TZ) and cube.n_bins == 6
    # Jan, Feb, Mar (empty), Apr, May (empty), Jun
    np.testing.assert_array_equal(cube.counts, [[1, 1, 0, 1, 0, 0], [1, 0, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0]])
    assert (cube.counts[:, [2, 4]] == 0).all()


def test_cube_day_bins_given_cells_and_window() -> None:
    cells = ["a", "b", "a", "a"]
    times = _ts("2026-03-01 08:00", "2026-03-07 23:00", "2026-03-08 00:00", "2026-03-30")
    cube = build_cube(
        cells,
        times,
        unit="day",
        width=7,
        start=pd.Timestamp("2026-03-01", tz=TZ),
        end=pd.Timestamp("2026-03-22", tz=TZ),
        cells=["z", "b", "a"],
    )
    assert cube.n_bins == 3 and cube.bin_edges[-1] == pd.Timestamp("2026-03-22", tz=TZ)
    assert cube.cell_ids.tolist() == ["z", "b", "a"]
    np.testing.assert_array_equal(cube.counts, [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    assert cube.n_outside == 1 and cube.counts.sum() + cube.n_outside == len(cells)


def test_cube_week_bins_start_on_a_monday_in_district_time() -> None:
    # 2026-03-01 is a Sunday: its week began on Monday 2026-02-23; Sunday 23:59 and Monday 00:00 fall apart
    cells = ["a", "a", "b", "a", "b"]
    times = _ts("2026-03-01 08:00", "2026-03-01 23:59", "2026-03-02 00:00", "2026-03-08 12:00", "2026-03-16 07:00")
    cube = build_cube(cells, times, unit="week")
    assert cube.bin_starts[0] == pd.Timestamp("2026-02-23", tz=TZ)
    assert [s.day_of_week for s in cube.bin_starts] == [0, 0, 0, 0]
    np.testing.assert_array_equal(cube.counts, [[2, 1, 0, 0], [0, 1, 0, 1]])
    two = build_cube(cells, times, unit="week", width=2)
    assert two.bin_edges.tolist() == [pd.Timestamp(d, tz=TZ) for d in ("2026-02-23", "2026-03-09", "2026-03-23")]
    np.testing.assert_array_equal(two.counts, [[3, 0], [1, 1]])
    with pytest.raises(InvalidInput, match="Monday") as caught:
        build_cube(cells, times, unit="week", start=pd.Timestamp("2026-03-01", tz=TZ))
    assert caught.value.field == "start"
    with pytest.raises(InvalidInput, match="'week'") as caught:
        build_cube(cells, times, unit="fortnight")  # type: ignore[arg-type]
    assert caught.value.field == "unit"


def test_cube_refuses_bad_input() -> None:
    times = _ts("2026-03-01", "2026-03-02")
    with pytest.raises(InvalidInput):
        build_cube(["a", None], times)
    with pytest.raises(InvalidInput):
        build_cube(["a", "b"], times, cells=["a"])  # b is not in the list
    with pytest.raises(InvalidInput):
        build_cube(["a", "b"], times, start=pd.Timestamp("2026-03-02", tz=TZ))  # month bins start on the 1st
    with pytest.raises(InvalidInput):
        build_cube(["a", "b"], times, width=0)
    with pytest.raises(InvalidInput):
        build_cube(["a"], times)


def test_every_category_has_the_chinese_name_the_map_gives_it() -> None:
    from gis_enforcement.analysis.emerging import CATEGORY_ZH
    from gis_enforcement.mapping.hotspot_layers import pattern_name

    assert set(CATEGORY_ZH) == set(CATEGORIES)
    assert {c: pattern_name(c, "zh") for c in CATEGORIES} == dict(CATEGORY_ZH)
    assert len(set(CATEGORY_ZH.values())) == len(CATEGORIES)


@pytest.mark.parametrize("unit, width, freq, n, expected", [
    ("month", 1, "MS", 6, "2026-03..2026-08 · 6 个月"),
    ("month", 2, "2MS", 3, "2026-03..2026-08 · 3 个时段 × 2 个月"),
    ("month", 1, "MS", 12, "2026-03..2027-02 · 12 个月"),
    ("day", 1, "D", 14, "2026-03-01..2026-03-14 · 14 天"),
    ("day", 7, "7D", 4, "2026-03-01..2026-03-28 · 4 个时段 × 7 天"),
    ("week", 1, "7D", 13, "2026-03-01..2026-05-30 · 13 周"),
    ("week", 2, "14D", 3, "2026-03-01..2026-04-11 · 3 个时段 × 2 周"),
])
def test_the_period_and_bins_analysed_are_named(unit: str, width: int, freq: str, n: int, expected: str) -> None:
    from gis_enforcement.analysis.emerging import bins_label

    starts = pd.date_range("2026-03-01", periods=n, freq=freq, tz="Asia/Shanghai")
    assert bins_label([str(s) for s in starts], unit=unit, width=width) == expected
    assert bins_label([], unit=unit, width=width) == ""
