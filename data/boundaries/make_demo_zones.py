"""Regenerate ``zones_DEMO_wgs84.geojson``: hand-drawn DEMO special zones for Pinggu (not official data).

River lines, mining areas, truck roads and red-line areas are sketched from the township seats and village
points only (no survey, no map tracing); lines are buffered in EPSG:4548 and every zone is clipped to the
district outline. Run from the repository root: ``python data/boundaries/make_demo_zones.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
METRIC = "EPSG:4548"
NOTE = "示意数据 DEMO: hand-drawn for the demo from township/village points, not an official zone"

# (kind, code, name, geometry in lon/lat, buffer half-width in metres or None for polygons, note)
RIVERS = [
    ("110117-RC-01", "泃河河道管理范围（示意）", 250, [
        (117.395, 40.186), (117.35, 40.19), (117.32, 40.185), (117.29, 40.17), (117.25, 40.155),
        (117.21, 40.14), (117.17, 40.13), (117.14, 40.125), (117.115, 40.122), (117.09, 40.115),
        (117.065, 40.10), (117.045, 40.085), (117.025, 40.07), (117.005, 40.055), (116.99, 40.04),
        (116.985, 40.02),
    ]),
    ("110117-RC-02", "洳河河道管理范围（示意）", 200, [
        (117.06, 40.335), (117.055, 40.30), (117.045, 40.27), (117.03, 40.24), (117.02, 40.21),
        (117.02, 40.18), (117.035, 40.155), (117.055, 40.13), (117.065, 40.10),
    ]),
]
TRUCK_ROUTES = [
    ("110117-TR-01", "马坊—三河重型货车通道（示意）", [(117.00, 40.075), (116.995, 40.05), (116.99, 40.02)]),
    ("110117-TR-02", "东高村南向出境货车通道（示意）",
     [(117.085, 40.095), (117.10, 40.08), (117.125, 40.055)]),
    ("110117-TR-03", "金海湖—蓟州重型货车通道（示意）",
     [(117.29, 40.18), (117.33, 40.175), (117.36, 40.178), (117.40, 40.186)]),
    ("110117-TR-04", "马昌营西南出境货车通道（示意）",
     [(117.015, 40.133), (116.99, 40.125), (116.95, 40.118)]),
]
MINING = [
    ("110117-MA-01", "金海湖镇北山矿区（示意）", (117.33, 40.215), 900, 550, 30),
    ("110117-MA-02", "黄松峪乡矿区（示意）", (117.27, 40.262), 800, 500, -20),
    ("110117-MA-03", "镇罗营镇矿区（示意）", (117.19, 40.345), 700, 450, 60),
    ("110117-MA-04", "熊儿寨乡矿区（示意）", (117.145, 40.30), 650, 400, 10),
]
REDLINES = [
    ("110117-ER-01", "北部山区生态保护红线（示意）", [
        (117.04, 40.345), (117.10, 40.335), (117.16, 40.342), (117.22, 40.336), (117.26, 40.345),
        (117.26, 40.39), (117.04, 40.39),
    ]),
    ("110117-ER-02", "黄松峪—金海湖北部生态保护红线（示意）", [
        (117.25, 40.272), (117.30, 40.262), (117.345, 40.25), (117.345, 40.295), (117.25, 40.305),
    ]),
]


def _metric(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(METRIC).iloc[0]


def main() -> None:
    district = gpd.read_file(HERE / "pinggu_district_wgs84.geojson").to_crs(METRIC).geometry.iloc[0]
    rows = []
    for code, name, half_width, coords in RIVERS:
        rows.append(("river_corridor", code, name, _metric(shapely.LineString(coords)).buffer(half_width),
                     f"{NOTE}; corridor {half_width} m each side of a sketched river line"))
    for code, name, coords in TRUCK_ROUTES:
        rows.append(("truck_route", code, name, _metric(shapely.LineString(coords)).buffer(50),
                     f"{NOTE}; 50 m each side of a sketched road line"))
    for code, name, centre, a, b, angle in MINING:
        c = _metric(shapely.Point(centre))
        ellipse = shapely.affinity.scale(c.buffer(1.0, quad_segs=16), a, b)
        # a lobed outline reads as a quarry area rather than a perfect ellipse
        lobe = shapely.affinity.translate(c.buffer(b * 0.7), a * 0.55, b * 0.45)
        shape = shapely.affinity.rotate(shapely.union(ellipse, lobe), angle, origin=c)
        rows.append(("mining_area", code, name, shape, f"{NOTE}; mining/quarry area sketch"))
    for code, name, coords in REDLINES:
        rows.append(("ecological_redline", code, name, _metric(shapely.Polygon(coords)),
                     f"{NOTE}; protection red-line sketch in the northern mountains"))
    frame = gpd.GeoDataFrame(
        {"kind": [r[0] for r in rows], "code": [r[1] for r in rows], "name": [r[2] for r in rows],
         "demo": True, "note": [r[4] for r in rows]},
        geometry=[shapely.intersection(r[3], district) for r in rows], crs=METRIC,
    )
    frame["geometry"] = shapely.set_precision(frame.geometry.to_crs("EPSG:4326").to_numpy(), 1e-7)
    frame = frame.set_crs("EPSG:4326", allow_override=True)
    frame.to_file(HERE / "zones_DEMO_wgs84.geojson", driver="GeoJSON", engine="pyogrio",
                  layer_options={"COORDINATE_PRECISION": 7, "RFC7946": "YES"})


if __name__ == "__main__":
    main()
