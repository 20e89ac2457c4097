"""FDR by hand, Gi_Bin, scale choice (Moran's I against esda) and whole hot-spot runs on planted patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from esda.moran import Moran
from libpysal.weights import DistanceBand
from pyproj import Transformer
from scipy import stats

from gis_enforcement.analysis.aggregate import CellSpec
from gis_enforcement.analysis.fdr import bh_adjusted, classify_confidence, fdr_significant, fdr_threshold
from gis_enforcement.analysis.hotspot_scale import (
    choose_distance_band,
    incremental_morans_i,
    isolated_features,
    locational_outliers,
    nearest_neighbour_distances,
)
from gis_enforcement.analysis.hotspots import MIN_RELIABLE_INCIDENTS, hotspots_from_counts, run_hotspots
from gis_enforcement.errors import InvalidInput

TO_LONLAT = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
# a 12 km × 12 km study square in the middle of Pinggu, in EPSG:4548 metres
X0, Y0, SIDE = 508_000.0, 4_440_000.0, 12_000.0


def _square_lonlat() -> shapely.Polygon:
    xs = np.array([X0, X0 + SIDE, X0 + SIDE, X0])
    ys = np.array([Y0, Y0, Y0 + SIDE, Y0 + SIDE])
    lon, lat = TO_LONLAT.transform(xs, ys)
    return shapely.Polygon(np.column_stack([lon, lat]))


def _incidents_from_xy(x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    lon, lat = TO_LONLAT.transform(x, y)
    return pd.DataFrame({"lon": lon, "lat": lat, "category": "A01", "status": "reported"})


def _uniform(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # stay 1 m inside the square so no incident falls on the boundary line
    return rng.uniform(X0 + 1, X0 + SIDE - 1, n), rng.uniform(Y0 + 1, Y0 + SIDE - 1, n)


# ------------------------------------------------------------------------------------------------ FDR


def test_benjamini_hochberg_by_hand() -> None:
    p = np.array([0.041, 0.001, 0.216, 0.039, 0.008, 0.042, 0.06, 0.074, 0.205, 0.212])
    # sorted: 0.001 0.008 0.039 0.041 0.042 0.06 0.074 0.205 0.212 0.216; thresholds k·0.05/10 = 0.005·k:
    # 0.001 ≤ 0.005, 0.008 ≤ 0.010, 0.039 > 0.015 … 0.216 > 0.05 → k = 2
    assert fdr_significant(p, 0.05).tolist() == [False, True, False, False, True, False, False, False, False, False]
    assert fdr_threshold(p, 0.05) == 0.008
    # q_(i) = min over j ≥ i of 10·p_(j)/j
    q_sorted = [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.74 / 7, 0.216, 0.216, 0.216]
    np.testing.assert_allclose(np.sort(bh_adjusted(p)), q_sorted, rtol=1e-12)
    np.testing.assert_allclose(bh_adjusted(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12)


def test_benjamini_hochberg_steps_up() -> None:
    # 0.02 fails its own threshold (0.05/3) but is kept because 0.03 passes the next one (0.10/3)
    assert fdr_significant(np.array([0.9, 0.03, 0.02]), 0.05).tolist() == [False, True, True]
    # a NaN (a cell without a test) is not counted in m: 0.02 ≤ 1 · 0.05/2
    assert fdr_significant(np.array([0.02, 0.9, np.nan]), 0.05).tolist() == [True, False, False]
    assert fdr_significant(np.array([0.03, 0.9, 0.5]), 0.05).tolist() == [False, False, False]
    with pytest.raises(InvalidInput):
        fdr_significant(np.array([0.5, 1.5]))
    with pytest.raises(InvalidInput):
        fdr_significant(np.array([0.5]), alpha=0.0)


def test_gi_bin_without_and_with_fdr() -> None:
    z = np.array([3.0, -2.2, 1.7, 0.5, -3.5, 2.6])
    p = 2 * stats.norm.sf(np.abs(z))  # 0.0027, 0.0278, 0.0891, 0.617, 0.00047, 0.0093
    assert classify_confidence(z, p, fdr=False).tolist() == [3, -2, 1, 0, -3, 3]
    # BH at 0.01: sorted 0.00047 ≤ 0.00167, 0.0027 ≤ 0.0033, 0.0093 ≤ 0.005? no → ±3 for the first two only;
    # at 0.05: 0.0093 ≤ 0.025, 0.0278 ≤ 0.0333 → ±2; at 0.10: 0.0891 ≤ 0.0833? no, 0.617 no → 0
    assert classify_confidence(z, p, fdr=True).tolist() == [3, -2, 0, 0, -3, 2]
    assert classify_confidence(np.array([np.nan, 1.0]), np.array([np.nan, 0.5])).tolist() == [0, 0]


# ------------------------------------------------------------------------------------------------ scale


def test_incremental_morans_i_equals_esda() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.uniform(0, 6000, 300), rng.uniform(0, 6000, 300)
    values = rng.poisson(2, 300) + 4 * (np.hypot(x - 3000, y - 3000) < 1000)
    distances = np.array([400.0, 800.0, 1200.0])
    profile = incremental_morans_i(x, y, values, distances)
    for k, d in enumerate(distances):
        w = DistanceBand(np.column_stack([x, y]), threshold=d, binary=True, silence_warnings=True)
        moran = Moran(values, w, transformation="B", permutations=0)
        assert profile.moran_i[k] == pytest.approx(moran.I, abs=1e-12)
        assert profile.variance[k] == pytest.approx(moran.VI_rand, rel=1e-9)
        assert profile.z[k] == pytest.approx(moran.z_rand, abs=1e-9)


def test_scale_choice_finds_the_planted_cluster_scale() -> None:
    # a 500 m lattice of counts with two blobs of about 1.5 km radius over a Poisson background
    col, row = np.meshgrid(np.arange(40), np.arange(40))
    x, y = (col.ravel() + 0.5) * 500, (row.ravel() + 0.5) * 500
    rng = np.random.default_rng(1)
    blob = np.exp(-(np.hypot(x - 5000, y - 5000) / 1500) ** 2) + np.exp(-(np.hypot(x - 14000, y - 13000) / 1500) ** 2)
    values = rng.poisson(2 + 30 * blob)
    choice = choose_distance_band(x, y, values)
    assert choice.method == "moran_peak"
    assert 1000 <= choice.distance_m <= 3500
    assert "peak" in choice.detail and len(choice.profile) == 10


def test_scale_choice_without_structure_falls_back_and_every_ordinary_cell_has_a_neighbour() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 10_000, 400), rng.uniform(0, 10_000, 400)
    x[0], y[0] = 30_000, 30_000  # a far-away feature
    choice = choose_distance_band(x, y, rng.poisson(5, 400))
    assert choice.method in ("k_nearest", "standard_distance")
    nn = nearest_neighbour_distances(x, y)
    assert choice.distance_m >= nn[1:].max()  # every feature but the far one has a neighbour
    # the far feature does not stretch the band to its ~28 km: it stays alone, and the detail says so
    assert choice.distance_m < nn[0] / 2
    assert "1 isolated feature(s) have no neighbour" in choice.detail


def test_one_point_at_the_other_end_of_the_earth_does_not_widen_the_band() -> None:
    # a 500 m lattice of the district's size and one cell at lon/lat 0,0 in EPSG:4548 (~12,000 km away)
    col, row = np.meshgrid(np.arange(40), np.arange(40))
    x = np.append((col.ravel() + 0.5) * 500, -9.0e6)
    y = np.append((row.ravel() + 0.5) * 500, 1.0e5)
    values = np.append(np.random.default_rng(3).poisson(3, col.size), 1)
    choice = choose_distance_band(x, y, values)
    assert choice.distance_m < 20_000 and "widened" not in choice.detail
    assert "1 isolated feature(s)" in choice.detail


def test_a_lattice_with_slightly_uneven_spacing_has_no_isolated_feature() -> None:
    # H3 cells are not all equally far apart: a few wider spacings are outliers of a tight distribution,
    # not isolated features, and the band still gives them a neighbour
    col, row = np.meshgrid(np.arange(30), np.arange(30))
    x, y = (col.ravel() + 0.5) * 500.0, (row.ravel() + 0.5) * 500.0
    x[0] -= 60.0  # one corner cell a little farther from its neighbours
    nn = nearest_neighbour_distances(x, y)
    assert locational_outliers(nn)[0] and not isolated_features(nn).any()
    choice = choose_distance_band(x, y, np.random.default_rng(4).poisson(3, x.size))
    assert choice.distance_m >= nn.max()
    assert "isolated" not in choice.detail
    x[0] -= 20_000.0  # now far away: isolated
    assert list(np.flatnonzero(isolated_features(nearest_neighbour_distances(x, y)))) == [0]


def test_a_cell_without_neighbour_is_left_out_of_the_bins() -> None:
    col, row = np.meshgrid(np.arange(20), np.arange(20))
    x = np.append((col.ravel() + 0.5) * 500, 200_000.0)
    y = np.append((row.ravel() + 0.5) * 500, 200_000.0)
    values = np.append(np.random.default_rng(5).poisson(1, col.size), 40)  # a lone cell with a huge count
    counts = pd.DataFrame({"cell_id": [f"c{i}" for i in range(x.size)], "count": values, "x": x, "y": y})
    result = hotspots_from_counts(counts, CellSpec("area", code_column="code"), int(values.sum()), parameters={},
                                  distance_m=None, fdr=False, permutations=0, seed=0, areas=None)
    lone = result.cells.set_index("cell_id").loc[f"c{x.size - 1}"]
    assert lone["neighbours"] == 1 and lone["z"] > 3  # its own count alone would read as a 99 % hot spot
    assert lone["gi_bin"] == 0
    assert any("1 cell(s) have no neighbour" in w for w in result.summary["warnings"])


# ------------------------------------------------------------------------------------------------ runs


def _planted(seed: int) -> tuple[pd.DataFrame, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    bx, by = _uniform(rng, 6000)
    hot = (X0 + 3500.0, Y0 + 8000.0)
    cx, cy = rng.normal(hot[0], 400.0, 1500), rng.normal(hot[1], 400.0, 1500)
    return _incidents_from_xy(np.concatenate([bx, cx]), np.concatenate([by, cy])), hot


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cell", ["grid", "h3"])
def test_planted_hot_spot_is_found_at_99_percent(seed: int, cell: str) -> None:
    incidents, (hx, hy) = _planted(seed)
    result = run_hotspots(incidents, cell=cell, size_m=500.0, resolution=8, boundary=_square_lonlat())
    cells = result.cells
    at_centre = cells.iloc[int(np.argmin(np.hypot(cells["x"] - hx, cells["y"] - hy)))]
    assert at_centre["gi_bin"] == 3
    hot = cells[cells["gi_bin"] == 3]
    # the 99 % hot cells are the planted cluster, not scattered background
    assert np.hypot(hot["x"] - hx, hot["y"] - hy).max() < result.scale.distance_m + 1500
    assert result.summary["hot_99"] == len(hot) and result.summary["counted_incidents"] == 7500
    assert result.summary["cells"] == len(cells)


@pytest.mark.parametrize("seed", [10, 11, 12, 13, 14])
def test_complete_spatial_randomness_gives_no_significant_cell_after_fdr(seed: int) -> None:
    # FDR 0.05: with every cell null, BH keeps the chance of any false hot or cold cell at 95 % to ≤ 5 %
    rng = np.random.default_rng(seed)
    incidents = _incidents_from_xy(*_uniform(rng, 20_000))
    result = run_hotspots(incidents, cell="grid", size_m=1000.0, boundary=_square_lonlat())
    assert result.summary["cells"] == 144
    assert (np.abs(result.cells["gi_bin"]) < 2).all()
    assert result.summary["hot_95"] + result.summary["hot_99"] + result.summary["cold_95"] + \
        result.summary["cold_99"] == 0


def test_runs_are_deterministic_and_report_their_parameters() -> None:
    incidents, _ = _planted(5)
    kwargs = {"cell": "grid", "size_m": 500.0, "permutations": 99, "seed": 7, "boundary": _square_lonlat()}
    first, again = run_hotspots(incidents, **kwargs), run_hotspots(incidents, **kwargs)
    pd.testing.assert_frame_equal(first.cells.drop(columns="geometry"), again.cells.drop(columns="geometry"))
    assert first.scale == again.scale
    assert first.parameters["permutations"] == 99 and first.parameters["seed"] == 7
    assert first.cells["pseudo_p"].between(1 / 100, 1).all()
    assert first.cells.crs.equals("EPSG:4326")
    assert {"cell_id", "count", "x", "y", "z", "p", "pseudo_p", "gi_bin", "geometry"} <= set(first.cells.columns)


def test_given_distance_filters_and_errors() -> None:
    incidents, _ = _planted(3)
    incidents.loc[::2, "category"] = "B02"
    result = run_hotspots(incidents, cell="grid", size_m=500.0, distance_m=1200.0, categories="A01")
    assert result.scale.method == "given" and result.scale.distance_m == 1200.0
    assert result.summary["incidents"] == (incidents["category"] == "A01").sum()
    assert result.cells["count"].sum() == result.summary["incidents"]
    with pytest.raises(InvalidInput) as err:
        run_hotspots(incidents, cell="hexagon")  # type: ignore[arg-type]
    assert err.value.field == "cell"
    with pytest.raises(InvalidInput):
        run_hotspots(incidents, categories="Z99")
    with pytest.raises(InvalidInput):
        run_hotspots(incidents, distance_m=-5.0)


@pytest.mark.parametrize("n", [MIN_RELIABLE_INCIDENTS - 1, MIN_RELIABLE_INCIDENTS])
def test_a_run_on_too_few_incidents_says_so(n: int) -> None:
    x, y = _uniform(np.random.default_rng(11), n)
    result = run_hotspots(_incidents_from_xy(x, y), cell="grid", size_m=2000.0, boundary=_square_lonlat())
    few = n < MIN_RELIABLE_INCIDENTS
    assert result.summary["incidents"] == n and result.summary["few_incidents"] is few
    caution = [w for w in result.summary["warnings"] if "样本过少" in w]
    assert (caution == [f"样本过少 only {n} incident(s): with fewer than {MIN_RELIABLE_INCIDENTS} the hot and cold "
                        "spots say little"]) if few else not caution
