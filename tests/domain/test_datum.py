"""Datum conversion against published vectors, the Pinggu village pairs, and round trips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from gis_enforcement.domain import datum
from gis_enforcement.domain.enums import Datum
from gis_enforcement.errors import InvalidInput

REFERENCE = Path("/work/shared/reference/boundaries")
PROJECT_BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries"

# Published by wandergis/coordtransform (README and test/app.js) for the input (116.404, 39.915), the
# reference output most converters in other languages test against. Its gcj02->wgs84 and bd09->wgs84 are
# the one-step approximate inverses, so ours (exact) is compared to those within the approximation error.
BEIJING = (116.404, 39.915)
PUB_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
PUB_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
PUB_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
PUB_GCJ02_TO_WGS84_ONE_STEP = (116.39775550083061, 39.91359571849836)
PUB_WGS84_TO_BD09 = (116.41662724378733, 39.922699552216216)  # coordtransform Python port README


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


def random_china(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(73.7, 135.0, n), rng.uniform(3.9, 53.5, n)


# --- published vectors ---------------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_published_vector():
    assert datum.wgs84_to_gcj02(*BEIJING) == pytest.approx(PUB_WGS84_TO_GCJ02, abs=1e-12)


def test_gcj02_to_bd09_matches_published_vector():
    assert datum.gcj02_to_bd09(*BEIJING) == pytest.approx(PUB_GCJ02_TO_BD09, abs=1e-12)


def test_wgs84_to_bd09_matches_published_vector():
    assert datum.wgs84_to_bd09(*BEIJING) == pytest.approx(PUB_WGS84_TO_BD09, abs=1e-12)


def test_exact_inverses_agree_with_published_one_step_inverses_within_their_error():
    # The published one-step inverses are approximate (a few cm here); ours must land within that and
    # map back exactly onto the input.
    lon, lat = datum.gcj02_to_wgs84(*BEIJING)
    assert haversine_m(lon, lat, *PUB_GCJ02_TO_WGS84_ONE_STEP) < 0.2
    assert datum.wgs84_to_gcj02(lon, lat) == pytest.approx(BEIJING, abs=1e-10)

    lon, lat = datum.bd09_to_gcj02(*BEIJING)
    assert haversine_m(lon, lat, *PUB_BD09_TO_GCJ02) < 0.2
    assert datum.gcj02_to_bd09(lon, lat) == pytest.approx(BEIJING, abs=1e-10)


# --- Pinggu reference data -----------------------------------------------------------------------------


def _reference_file(name: str) -> Path:
    """The shipped copy in data/boundaries when present, else the shared research copy."""
    shipped = PROJECT_BOUNDARIES / name
    return shipped if shipped.exists() else REFERENCE / name


def _village_pairs() -> np.ndarray:
    path = _reference_file("pinggu_villages_points_wgs84.geojson")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    keys = ("lon_gcj02", "lat_gcj02", "lon_wgs84", "lat_wgs84")
    return np.array([[f["properties"][k] for k in keys] for f in features], dtype=float)


def test_pinggu_village_pairs_agree_below_half_a_metre():
    pairs = _village_pairs()
    assert len(pairs) == 119
    lon, lat = datum.gcj02_to_wgs84(pairs[:, 0], pairs[:, 1])
    assert haversine_m(lon, lat, pairs[:, 2], pairs[:, 3]).max() < 0.5
    # and forward again reproduces the AMap (GCJ-02) coordinates
    g_lon, g_lat = datum.wgs84_to_gcj02(pairs[:, 2], pairs[:, 3])
    assert haversine_m(g_lon, g_lat, pairs[:, 0], pairs[:, 1]).max() < 0.5


def test_adcode_points_convert_into_the_pinggu_area():
    path = _reference_file("adcode_110117_gcj02.csv")
    rows = [r for r in csv.reader(path.open(encoding="utf-8")) if r[12] and r[13]]
    lon = np.array([float(r[12]) for r in rows])
    lat = np.array([float(r[13]) for r in rows])
    w_lon, w_lat = datum.to_wgs84(lon, lat, "gcj02")
    shift = haversine_m(lon, lat, w_lon, w_lat)
    # the GCJ-02 offset around Pinggu is a few hundred metres, never zero, never kilometres
    assert shift.min() > 100 and shift.max() < 1000
    assert ((w_lon > 116.7) & (w_lon < 117.5) & (w_lat > 39.9) & (w_lat < 40.5)).all()


# --- round trips, outside China, parity ----------------------------------------------------------------


def test_gcj02_round_trip_below_half_a_metre_on_10k_points():
    lon, lat = random_china(10_000)
    g_lon, g_lat = datum.wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = datum.gcj02_to_wgs84(g_lon, g_lat)
    assert haversine_m(lon, lat, w_lon, w_lat).max() < 0.001  # aim: mm; requirement: 0.5 m
    # and the other way round: GCJ-02 -> WGS84 -> GCJ-02
    b_lon, b_lat = datum.wgs84_to_gcj02(*datum.gcj02_to_wgs84(lon, lat))
    assert haversine_m(lon, lat, b_lon, b_lat).max() < 0.001


def test_bd09_round_trips():
    lon, lat = random_china(10_000, seed=1)
    b_lon, b_lat = datum.gcj02_to_bd09(lon, lat)
    g_lon, g_lat = datum.bd09_to_gcj02(b_lon, b_lat)
    assert haversine_m(lon, lat, g_lon, g_lat).max() < 0.001
    w_lon, w_lat = datum.bd09_to_wgs84(*datum.wgs84_to_bd09(lon, lat))
    assert haversine_m(lon, lat, w_lon, w_lat).max() < 0.001


def test_points_outside_china_are_unchanged():
    lon = np.array([-0.1246, 139.6917, 151.2093, 2.3522, 60.0])  # London, Tokyo, Sydney, Paris, west of box
    lat = np.array([51.5007, 35.6895, -33.8688, 48.8566, 40.0])
    assert datum.out_of_china(lon, lat).all()
    for fn in (
        datum.wgs84_to_gcj02,
        datum.gcj02_to_wgs84,
        datum.gcj02_to_bd09,
        datum.bd09_to_gcj02,
        datum.wgs84_to_bd09,
        datum.bd09_to_wgs84,
    ):
        out_lon, out_lat = fn(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_out_of_china_is_the_documented_bbox():
    assert datum.out_of_china(117.1, 40.1) is False
    assert datum.out_of_china(73.65, 40.0) is True
    assert datum.out_of_china(135.06, 40.0) is True
    assert datum.out_of_china(100.0, 3.85) is True
    assert datum.out_of_china(100.0, 53.56) is True
    assert datum.out_of_china(73.66, 3.86) is False  # edges are inside


def test_mixed_inside_and_outside_array():
    lon = np.array([117.1, -0.1246])
    lat = np.array([40.1, 51.5007])
    g_lon, g_lat = datum.wgs84_to_gcj02(lon, lat)
    assert g_lon[0] != lon[0] and g_lat[0] != lat[0]
    assert (g_lon[1], g_lat[1]) == (lon[1], lat[1])


@pytest.mark.parametrize(
    "fn",
    [
        datum.wgs84_to_gcj02,
        datum.gcj02_to_wgs84,
        datum.gcj02_to_bd09,
        datum.bd09_to_gcj02,
        datum.wgs84_to_bd09,
        datum.bd09_to_wgs84,
    ],
)
def test_scalar_and_array_parity(fn):
    lon, lat = random_china(50, seed=2)
    a_lon, a_lat = fn(lon, lat)
    assert isinstance(a_lon, np.ndarray) and a_lon.shape == (50,) and a_lon.dtype == np.float64
    for i in range(50):
        s_lon, s_lat = fn(float(lon[i]), float(lat[i]))
        assert type(s_lon) is float and type(s_lat) is float
        assert s_lon == pytest.approx(a_lon[i], abs=1e-12)
        assert s_lat == pytest.approx(a_lat[i], abs=1e-12)


def test_lists_and_2d_arrays_keep_their_shape():
    lon, lat = datum.wgs84_to_gcj02([117.1, 117.2], [40.1, 40.2])
    assert isinstance(lon, np.ndarray) and lon.shape == (2,)
    grid_lon, grid_lat = np.meshgrid(np.linspace(117.0, 117.3, 4), np.linspace(40.0, 40.3, 3))
    out_lon, out_lat = datum.gcj02_to_wgs84(grid_lon, grid_lat)
    assert out_lon.shape == (3, 4) and out_lat.shape == (3, 4)


def test_nan_passes_through_without_breaking_the_batch():
    lon, lat = datum.gcj02_to_wgs84(np.array([np.nan, 117.1]), np.array([np.nan, 40.1]))
    assert np.isnan(lon[0]) and np.isnan(lat[0])
    assert np.isfinite(lon[1]) and np.isfinite(lat[1])


# --- to_wgs84 / from_wgs84 -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["wgs84", "WGS84", "cgcs2000", "EPSG:4326", "epsg:4490", Datum.CGCS2000])
def test_wgs84_and_cgcs2000_pass_through(name):
    assert datum.to_wgs84(117.1, 40.1, name) == (117.1, 40.1)
    assert datum.from_wgs84(117.1, 40.1, name) == (117.1, 40.1)


@pytest.mark.parametrize("name", ["gcj02", Datum.GCJ02, "bd09", "bd09ll", Datum.BD09])
def test_to_and_from_wgs84_round_trip(name):
    lon, lat = random_china(1000, seed=3)
    back = datum.to_wgs84(*datum.from_wgs84(lon, lat, name), name)
    assert haversine_m(lon, lat, *back).max() < 0.001


def test_to_wgs84_dispatches_to_the_right_conversion():
    assert datum.to_wgs84(*BEIJING, "gcj02") == datum.gcj02_to_wgs84(*BEIJING)
    assert datum.to_wgs84(*BEIJING, "bd09") == datum.bd09_to_wgs84(*BEIJING)
    assert datum.from_wgs84(*BEIJING, "gcj02") == pytest.approx(PUB_WGS84_TO_GCJ02, abs=1e-12)


@pytest.mark.parametrize("fn", [datum.to_wgs84, datum.from_wgs84])
@pytest.mark.parametrize("name", ["mercator", "epsg:3857", "", "bd09mc"])
def test_unknown_datum_is_refused_naming_crs(fn, name):
    with pytest.raises(InvalidInput) as info:
        fn(117.1, 40.1, name)
    assert info.value.field == "crs"
    assert repr(name) in info.value.message
