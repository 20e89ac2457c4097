"""The district's zone comes from settings: periods, plans and map times follow ``settings.timezone`` when the
caller passes it, and Asia/Shanghai when nothing is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.analysis.planning import check_period, window_occurrences
from gis_enforcement.domain.zone import district_zone
from gis_enforcement.errors import InvalidInput
from gis_enforcement.mapping.features import compact_collections, local_times

URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6, two hours behind Beijing


def test_a_month_starts_at_the_configured_zones_midnight() -> None:
    may = parse_period("2026-05", tz="Asia/Urumqi")
    assert may.start == datetime(2026, 5, 1, tzinfo=URUMQI) and may.end == datetime(2026, 6, 1, tzinfo=URUMQI)
    assert may.start.astimezone(UTC) == datetime(2026, 4, 30, 18, tzinfo=UTC)
    assert parse_period("2026-05", tz="UTC").start == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_period("2026-05").start.astimezone(UTC) == datetime(2026, 4, 30, 16, tzinfo=UTC)  # default
    months = parse_period("2026-04-15..2026-05-10", tz="Asia/Urumqi").months()
    assert [m.label for m in months] == ["2026-04", "2026-05"]
    assert months[1].start == datetime(2026, 5, 1, tzinfo=URUMQI)
    naive = parse_period("2026-05-01T00:00..2026-05-02", tz="Asia/Urumqi")
    assert naive.start == datetime(2026, 5, 1, tzinfo=URUMQI)


def test_a_plans_naive_start_is_read_in_the_configured_zone() -> None:
    begin, end = check_period(datetime(2026, 5, 12, 20), None, tz="Asia/Urumqi")
    assert begin == datetime(2026, 5, 12, 20, tzinfo=URUMQI) and end - begin == timedelta(days=1)
    assert begin.utcoffset() == timedelta(hours=6)
    # a daily window 21:00-22:00 of the zone: one hour after the start, not three (as Beijing time would be)
    assert window_occurrences([(21 * 60, 22 * 60)], datetime(2026, 5, 12, 20), datetime(2026, 5, 13, 20),
                              tz="Asia/Urumqi") == [(3600, 7200)]


def test_map_times_are_shown_in_the_configured_zone() -> None:
    t = pd.Series(pd.to_datetime(["2026-05-12T15:40:00Z"], utc=True))
    assert local_times(t).tolist() == ["2026-05-12 23:40"]
    assert local_times(t, "Asia/Urumqi").tolist() == ["2026-05-12 21:40"]
    assert local_times(t, "UTC").tolist() == ["2026-05-12 15:40"]


def test_compact_map_columns_carry_the_zones_wall_clock() -> None:
    import geopandas as gpd
    import shapely

    inc = gpd.GeoDataFrame({"category": ["MIN-02"], "observed_at": pd.to_datetime(["2026-05-12T15:40:00Z"])},
                           geometry=[shapely.Point(117.1, 40.1)], crs=4326)
    for tz, wall in (("Asia/Urumqi", "2026-05-12 21:40"), ("UTC", "2026-05-12 15:40")):
        cols, meta = compact_collections(inc, ["MIN-02"], tz=tz)
        minutes = meta["t0"] + cols["MIN-02"]["t"][0]
        assert (pd.Timestamp(0) + pd.Timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M") == wall


def test_an_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as exc:
        district_zone("Mars/Olympus")
    assert exc.value.field == "timezone"
