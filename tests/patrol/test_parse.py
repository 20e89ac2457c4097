"""Readers: GeoJSON, CSV in UTF-8 and GBK with English or Chinese headers, GPX waypoints."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_enforcement.errors import InvalidInput
from gis_enforcement.patrol.parse import parse_csv, parse_geojson, parse_gpx

ID = "0b1f6a8e-4c52-4b1e-9a53-6b6f0d3c2a11"


def test_csv_utf8_english_headers() -> None:
    data = (f"id,category,lon,lat,accuracy_m,observed_at,reporter,description\n"
            f"{ID},MIN-02,117.2,40.2,8,2026-05-01T22:00:00,张伟,\"河道采砂, 夜间\"\n").encode()
    raw = parse_csv(data)
    row = raw.frame.iloc[0]
    assert row["row"] == 2 and row["id"] == ID and row["category"] == "MIN-02"
    assert row["description"] == "河道采砂, 夜间" and row["reporter"] == "张伟"


def test_csv_gbk_chinese_headers() -> None:
    text = (f"编号,问题类别,经度,纬度,定位精度,发现时间,上报人,问题描述,坐标系\n"
            f"{ID},ENV-01,117.1,40.1,12,2026-05-01 10:00:00,李强,无证家具厂,gcj02\n")
    raw = parse_csv(text.encode("gbk"))
    row = raw.frame.iloc[0]
    assert row["category"] == "ENV-01" and row["description"] == "无证家具厂" and row["crs"] == "gcj02"
    assert row["lon"] == "117.1" and row["accuracy_m"] == "12"


def test_csv_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_csv(b"id,category,lon\n1,2,3\n")
    assert e.value.field == "header" and "lat" in e.value.message and "observed_at" in e.value.message


def test_csv_rows_keep_their_numbers_across_empty_rows() -> None:
    data = (b"id,category,lon,lat,observed_at,description\n"
            b"a,MIN-02,117.2,40.2,2026-05-01T22:00:00,first\n"
            b"\n"                                             # a blank line: row 3
            b",,,,,\n"                                        # an empty spreadsheet row: row 4
            b"b,MIN-02,117.2,40.2,2026-05-01T22:00:00,\"two\nlines\"\n"   # row 5, one row over two lines
            b"\r\n"                                           # row 6
            b"c,MIN-02,117.2,40.2,not a time,\n"              # row 7
            b",,,,,kept: a row with something in it is a row\n")
    frame = parse_csv(data).frame
    assert frame["row"].tolist() == [2, 5, 7, 8]
    assert frame["id"].tolist()[:3] == ["a", "b", "c"] and pd.isna(frame["id"].iloc[3])
    assert frame["description"].tolist()[1] == "two\nlines"
    assert frame["row"].dtype == "int64"


def test_csv_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_csv(f"id,category,lon,经度,lat,observed_at\n{ID},MIN-02,117.2,117.3,40.2,2026-05-01T22:00:00\n"
                  .encode())
    assert e.value.field == "header" and "lon as lon and 经度" in e.value.message


def test_geojson_structural_errors_are_per_row() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": ID, "geometry": {"type": "Point", "coordinates": [117.1, 40.1]},
         "properties": {"category": "MIN-01", "observed_at": "2026-05-01T10:00:00+08:00"}},
        {"type": "Feature", "id": "x", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}},
        "junk",
    ]}
    raw = parse_geojson(fc)
    assert len(raw.frame) == 1
    assert [(e.row, e.field) for e in raw.errors] == [(2, "geometry"), (3, "type")]


def test_gpx_waypoints_get_stable_ids() -> None:
    gpx = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="40.21" lon="117.25"><time>2026-05-02T14:30:00Z</time><name>p1</name><desc>mine pit</desc>
    <type>MIN-01</type><hdop>2</hdop></wpt>
  <wpt lat="40.12" lon="117.05"><time>2026-05-02T15:00:00Z</time><name>MIN-02</name></wpt>
</gpx>"""
    a, b = parse_gpx(gpx, reporter="巡查队"), parse_gpx(gpx)
    assert list(a.frame["id"]) == list(b.frame["id"])
    assert list(a.frame["category"]) == ["MIN-01", "MIN-02"]
    assert a.frame.iloc[0]["accuracy_m"] == 10.0 and a.frame.iloc[0]["reporter"] == "巡查队"
