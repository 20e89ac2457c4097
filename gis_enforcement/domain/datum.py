"""Datum conversion between WGS84, GCJ-02 and BD-09 (and CGCS2000, which passes through).

GCJ-02 is the obfuscated datum that Chinese web maps and most phone map SDKs (AMap, Tencent) report; BD-09 is
Baidu's further offset of it. The forward GCJ-02 transform used here is the public, widely documented
algorithm (Krasovsky 1940 ellipsoid, ``a = 6378245.0``, ``ee = 0.00669342162296594323``) that open-source
converters such as ``wandergis/coordtransform`` implement; its inverse has no closed form, so
:func:`gcj02_to_wgs84` iterates the forward transform to below ``1e-9`` degrees (sub-millimetre) instead of
the usual one-step approximation, which is off by up to several metres (median ~0.6 m over China).

CGCS2000 (EPSG:4490) and WGS84 agree at the metre level (differences of a few centimetres to decimetres from
the reference-frame epoch), which is far below phone GPS accuracy; the platform therefore treats CGCS2000
longitudes and latitudes as WGS84 without change.

Every function is vectorised with numpy and accepts scalars or arrays: scalars in give Python floats out,
arrays in give float64 arrays of the broadcast shape out. Points outside China (a bounding box, see
:func:`out_of_china`) are returned unchanged by every conversion, as the map providers serve WGS84 there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gis_enforcement.domain.enums import Datum
from gis_enforcement.errors import InvalidInput

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "parse_datum",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, as the GCJ-02 algorithm defines it.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's BD-09 constants.
_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

# The China bounding box every common converter uses. It is a box, not the border: points in neighbouring
# countries inside it (parts of Mongolia, Korea, Vietnam...) are shifted too, as the providers do.
CHINA_BBOX = (73.66, 3.86, 135.05, 53.55)  # lon_min, lat_min, lon_max, lat_max

_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30

# Accepted spellings for the ``crs`` of an incoming point.
_DATUM_ALIASES: dict[str, Datum] = {
    "wgs84": Datum.WGS84,
    "wgs-84": Datum.WGS84,
    "epsg:4326": Datum.WGS84,
    "gps": Datum.WGS84,
    "gcj02": Datum.GCJ02,
    "gcj-02": Datum.GCJ02,
    "bd09": Datum.BD09,
    "bd-09": Datum.BD09,
    "bd09ll": Datum.BD09,
    "cgcs2000": Datum.CGCS2000,
    "epsg:4490": Datum.CGCS2000,
}


def _as_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return lon_a, lat_a, scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    return ~((lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max))


def out_of_china(lon: Any, lat: Any) -> Any:
    """Whether each point lies outside the China bounding box (lon 73.66-135.05, lat 3.86-53.55).

    This is the box every common GCJ-02 converter uses, not the national border: it is what decides whether
    the obfuscation applies, so conversions here agree with the map providers. Returns a bool for scalar
    input and a bool array otherwise; NaN coordinates count as outside.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    result = _out_of_china(lon_a, lat_a)
    return bool(result) if scalar else result


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at a WGS84 point, in degrees (the published forward algorithm)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def _wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d_lon, d_lat = _gcj_offset(lon, lat)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def _gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Fixed-point iteration w <- w - (f(w) - g): the offset varies slowly (its derivative is ~1e-4), so every
    # step gains about four digits; three or four steps reach the tolerance anywhere in China. A point stops
    # moving once it has converged, so its result does not depend on the other points in the batch.
    d_lon, d_lat = _gcj_offset(lon, lat)
    w_lon, w_lat = lon - d_lon, lat - d_lat
    active = np.ones(lon.shape, dtype=bool)
    for _ in range(_INVERSE_MAX_ITER):
        d_lon, d_lat = _gcj_offset(w_lon, w_lat)
        err_lon = w_lon + d_lon - lon
        err_lat = w_lat + d_lat - lat
        w_lon = np.where(active, w_lon - err_lon, w_lon)
        w_lat = np.where(active, w_lat - err_lat, w_lat)
        active &= np.maximum(np.abs(err_lon), np.abs(err_lat)) > _INVERSE_TOL_DEG  # NaN compares False
        if not active.any():
            break
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


def _gcj02_to_bd09_raw(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b_lon, b_lat = _gcj02_to_bd09_raw(lon, lat)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, b_lon), np.where(outside, lat, b_lat)


def _bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Baidu's documented one-step inverse is good to ~1e-6 degrees (~5 cm); two refinement steps against the
    # forward transform bring the round trip below 0.1 mm.
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(2):
        f_lon, f_lat = _gcj02_to_bd09_raw(g_lon, g_lat)
        g_lon = g_lon - (f_lon - lon)
        g_lat = g_lat - (f_lat - lat)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, g_lon), np.where(outside, lat, g_lat)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert WGS84 longitude/latitude to GCJ-02 with the published forward algorithm.

    Use it to draw GPS points on AMap or Tencent tiles. Points outside the China bounding box are returned
    unchanged. Scalars in give floats out; arrays give float64 arrays.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(*_wgs84_to_gcj02(lon_a, lat_a), scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude to WGS84 by iterating the forward transform to < 1e-9 degrees.

    The result maps back onto the input through :func:`wgs84_to_gcj02` to well under a millimetre inside
    China (the one-step inverse common in other libraries is off by up to several metres). Points outside
    the China bounding box are returned unchanged. Scalars in give floats out; arrays give float64 arrays.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(*_gcj02_to_wgs84(lon_a, lat_a), scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09 (bd09ll) with Baidu's published formula.

    Points outside the China bounding box are returned unchanged (Baidu serves WGS84 abroad). Scalars in
    give floats out; arrays give float64 arrays.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(*_gcj02_to_bd09(lon_a, lat_a), scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert Baidu BD-09 (bd09ll) longitude/latitude to GCJ-02, exact inverse of :func:`gcj02_to_bd09`.

    Starts from Baidu's one-step inverse and refines it against the forward formula, so a round trip agrees to
    well under a millimetre. Points outside the China bounding box are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(*_bd09_to_gcj02(lon_a, lat_a), scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert WGS84 to Baidu BD-09 (bd09ll): WGS84 -> GCJ-02 -> BD-09.

    Points outside the China bounding box are returned unchanged. Scalars in give floats out; arrays give
    float64 arrays.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    g_lon, g_lat = _wgs84_to_gcj02(lon_a, lat_a)
    return _out(*_gcj02_to_bd09(g_lon, g_lat), scalar)


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert Baidu BD-09 (bd09ll) to WGS84: BD-09 -> GCJ-02 -> WGS84, both steps exact inverses.

    Points outside the China bounding box are returned unchanged. Scalars in give floats out; arrays give
    float64 arrays.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    g_lon, g_lat = _bd09_to_gcj02(lon_a, lat_a)
    return _out(*_gcj02_to_wgs84(g_lon, g_lat), scalar)


def parse_datum(datum: str | Datum) -> Datum:
    """Resolve a datum name (``wgs84``, ``gcj02``, ``bd09``/``bd09ll``, ``cgcs2000``, ``EPSG:4326/4490``).

    Case and surrounding spaces are ignored. Anything else raises :class:`InvalidInput` naming the ``crs``
    field, so an intake request with an unsupported coordinate system is refused rather than misplaced.
    """
    if isinstance(datum, Datum):
        return datum
    key = str(datum).strip().lower()
    try:
        return _DATUM_ALIASES[key]
    except KeyError:
        accepted = ", ".join(sorted(_DATUM_ALIASES))
        raise InvalidInput(f"unknown datum {datum!r}; accepted: {accepted}", field="crs") from None


def to_wgs84(lon: Any, lat: Any, datum: str | Datum) -> tuple[Any, Any]:
    """Convert coordinates given in ``datum`` to WGS84, the platform's stored datum.

    WGS84 and CGCS2000 (EPSG:4490, equal to WGS84 at the metre level) pass through unchanged; GCJ-02 and
    BD-09 are converted with the exact inverses above. An unknown datum raises :class:`InvalidInput` with
    ``field="crs"``. Scalars in give floats out; arrays give float64 arrays.
    """
    kind = parse_datum(datum)
    if kind is Datum.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if kind is Datum.BD09:
        return bd09_to_wgs84(lon, lat)
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(lon_a.copy(), lat_a.copy(), scalar)


def from_wgs84(lon: Any, lat: Any, datum: str | Datum) -> tuple[Any, Any]:
    """Convert WGS84 coordinates to ``datum`` (for display on GCJ-02 or BD-09 basemaps).

    WGS84 and CGCS2000 pass through unchanged; an unknown datum raises :class:`InvalidInput` with
    ``field="crs"``. Scalars in give floats out; arrays give float64 arrays.
    """
    kind = parse_datum(datum)
    if kind is Datum.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if kind is Datum.BD09:
        return wgs84_to_bd09(lon, lat)
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return _out(lon_a.copy(), lat_a.copy(), scalar)
