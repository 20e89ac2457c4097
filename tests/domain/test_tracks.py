"""parse_track: times a device cannot have had (in the future, before 2000) and jumps no patrol can make are
refused on the first bad vertex, named as the page sent it; the bounds are those of a report's observed_at."""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from gis_enforcement.domain.datum import wgs84_to_gcj02
from gis_enforcement.domain.deadlines import CLOCK_SKEW
from gis_enforcement.domain.tracks import EARLIEST, JUMP_SLACK_M, MAX_SPEED_M_S, parse_track
from gis_enforcement.errors import InvalidInput

NOW = datetime(2026, 5, 12, 23, 0, tzinfo=UTC)
START = NOW - timedelta(hours=1)
PINGGU = (117.12, 40.14)
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180  # the haversine's metres per degree of latitude


def times(n: int, *, start: datetime = START, step_s: float = 10) -> list[str]:
    return [(start + timedelta(seconds=i * step_s)).isoformat() for i in range(n)]


def line(n: int, *, step_m: float = 50.0) -> list[list[float]]:
    """``n`` positions going north from Pinggu, ``step_m`` apart."""
    return [[PINGGU[0], PINGGU[1] + i * step_m / M_PER_DEG_LAT] for i in range(n)]


def parse(coords: list[Any], when: list[str], *, now: datetime = NOW, **kw: Any) -> Any:
    return parse_track(geometry_type="LineString", coordinates=coords, times=when, now=now, **kw)


def refusal(coords: list[Any], when: list[str], **kw: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        parse(coords, when, **kw)
    return exc.value


def test_a_plausible_track_passes() -> None:
    got = parse(line(6), times(6), accuracy_m=[5, 6, None, 8, 9, 10])
    assert got.point_count == 6
    assert got.times[-1] == START + timedelta(seconds=50)
    assert got.accuracy_m == (5.0, 6.0, None, 8.0, 9.0, 10.0)


# -- times ----------------------------------------------------------------------------------------------------


def test_a_time_up_to_the_clock_skew_ahead_passes_and_later_is_in_the_future() -> None:
    edge = times(3, start=NOW + CLOCK_SKEW - timedelta(seconds=20))
    assert parse(line(3, step_m=0), edge).times[-1] == NOW + CLOCK_SKEW
    late = [*times(3), (NOW + CLOCK_SKEW + timedelta(seconds=1)).isoformat(), "2099-01-01T00:00:00+08:00"]
    exc = refusal(line(5, step_m=0), late)
    assert exc.field == "properties.times[3]"  # the first bad one
    assert exc.message.startswith("is in the future"), exc.message
    assert exc.detail == {"skew_s": int(CLOCK_SKEW.total_seconds())}


def test_the_future_is_judged_against_now_not_the_wall_clock() -> None:
    when = times(2, start=datetime(2031, 3, 1, 8, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="in the future"):
        parse(line(2), when)
    assert parse(line(2), when, now=datetime(2031, 3, 1, 9, 0, tzinfo=UTC)).point_count == 2


@pytest.mark.parametrize("early", ["1970-01-01T00:00:00Z", "1999-12-31T23:59:59+00:00",
                                   "2000-01-01T07:59:59+08:00", "0001-01-01T00:00:00+08:00"])
def test_a_time_before_2000_is_refused(early: str) -> None:
    exc = refusal([list(PINGGU), list(PINGGU)], [early, times(1)[0]])
    assert (exc.field, exc.message) == ("properties.times[0]", "is before 2000")
    assert exc.detail == {"earliest": "2000-01-01"}
    # the first moment of 2000 itself is a time a device may give
    assert parse([list(PINGGU)], [EARLIEST.isoformat()]).times == (EARLIEST,)


def test_a_point_is_judged_too() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_track(geometry_type="Point", coordinates=list(PINGGU), times=["2099-05-12T22:00:00+08:00"], now=NOW)
    assert exc.value.field == "properties.times[0]"


def test_now_must_be_aware() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse(line(2), times(2), now=NOW.replace(tzinfo=None))
    assert exc.value.field == "now"


# -- jumps ----------------------------------------------------------------------------------------------------


def test_a_jump_across_the_world_in_a_second_is_refused_on_the_later_vertex() -> None:
    coords = [*line(5), [-0.2, 5.6], [-0.2, 5.6001]]  # Pinggu, then Accra one second later
    when = [*times(5), *times(2, start=START + timedelta(seconds=41), step_s=1)]
    exc = refusal(coords, when, accuracy_m=[5] * 7)
    assert exc.field == "geometry.coordinates[5]"
    assert "m/s" in exc.message and exc.detail["distance_m"] > 10_000_000 and exc.detail["seconds"] == 1
    assert exc.detail["max_speed_m_s"] == MAX_SPEED_M_S


@pytest.mark.parametrize("elapsed_s", [0, 1, 10, 600])
def test_the_bound_is_max_speed_times_the_seconds_plus_the_slack(elapsed_s: int) -> None:
    limit = MAX_SPEED_M_S * elapsed_s + JUMP_SLACK_M
    when = [START.isoformat(), (START + timedelta(seconds=elapsed_s)).isoformat()]
    assert parse(line(2, step_m=limit - 1), when).point_count == 2
    exc = refusal(line(2, step_m=limit + 1), when)
    assert exc.field == "geometry.coordinates[1]"


def test_both_fixes_accuracy_is_allowed_for() -> None:
    elapsed_s = 5
    limit = MAX_SPEED_M_S * elapsed_s + JUMP_SLACK_M
    coords, when = line(2, step_m=limit + 300), times(2, step_s=elapsed_s)
    assert refusal(coords, when).field == "geometry.coordinates[1]"  # no accuracy: none allowed
    assert refusal(coords, when, accuracy_m=[100, 150]).field == "geometry.coordinates[1]"  # 250 m < 300 m
    assert refusal(coords, when, accuracy_m=[None, 299]).field == "geometry.coordinates[1]"
    assert parse(coords, when, accuracy_m=[150, 151]).point_count == 2
    assert parse(coords, when, accuracy_m=[None, 301]).point_count == 2
    assert parse(coords, when, accuracy_m=[301, None]).point_count == 2


def test_the_first_of_several_jumps_is_named_and_a_return_leg_counts_too() -> None:
    coords = line(8)
    coords[3] = [PINGGU[0] + 1.0, PINGGU[1]]  # about 85 km east for one fix, then back
    exc = refusal(coords, times(8))
    assert exc.field == "geometry.coordinates[3]"
    # time enough to get there (1000 s at 100 m/s), not to come back in 10 s: the way back is named
    when = [*times(3), *times(5, start=START + timedelta(seconds=1020))]
    assert refusal(coords, when).field == "geometry.coordinates[4]"
    coords[4] = coords[5] = coords[6] = list(coords[3])
    assert refusal(coords, when).field == "geometry.coordinates[7]"


def test_distances_are_measured_in_wgs84_after_the_datum_conversion() -> None:
    # GCJ-02 shifts Pinggu by a few hundred metres: a standing patrol whose first fix is in WGS84 numbers
    # and the rest in GCJ-02 would jump; the same positions all sent in GCJ-02 do not
    lon, lat = (np.asarray(v) for v in wgs84_to_gcj02(np.array([PINGGU[0]] * 3), np.array([PINGGU[1]] * 3)))
    gcj = [[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]
    got = parse(gcj, times(3, step_s=1), crs="gcj02")
    assert np.allclose(got.lon, PINGGU[0], atol=1e-7) and np.allclose(got.lat, PINGGU[1], atol=1e-7)
    assert refusal([list(PINGGU), *gcj[1:]], times(3, step_s=1)).field == "geometry.coordinates[1]"


def test_offsets_are_read_as_instants_for_the_elapsed_time() -> None:
    # 22:00:10+08:00 is 10 s after 14:00:00Z: 1 km in 10 s is fast, but it is not 8 hours and 10 s
    coords = line(2, step_m=1000 + JUMP_SLACK_M + 1)
    when = ["2026-05-12T14:00:00Z", "2026-05-12T22:00:10+08:00"]
    assert refusal(coords, when).field == "geometry.coordinates[1]"
    assert parse(coords, ["2026-05-12T14:00:00Z", "2026-05-12T22:00:11+08:00"]).point_count == 2


def test_refusal_order_bad_values_before_jumps() -> None:
    # a bad accuracy is named before a jump that comes earlier in the track
    coords = [*line(2), [-0.2, 5.6], *line(2)]
    exc = refusal(coords, times(5), accuracy_m=[5, 5, 5, 5, -1])
    assert exc.field == "properties.accuracy_m[4]"


def test_a_huge_accuracy_allows_any_step_without_overflowing() -> None:
    coords, when = [list(PINGGU), [-0.2, 5.6]], times(2, step_s=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning would be a refusal of its own kind
        assert parse(coords, when, accuracy_m=[1e308, 1e308]).point_count == 2


def test_a_repeated_position_counts_from_its_first_time() -> None:
    """The page repeats its last position every 15 s while no new fix comes (a tunnel): the first fresh fix after
    two minutes, 3 km on, is a step over the whole two minutes, not over the last 15 s."""
    stuck = [PINGGU[0], PINGGU[1]]
    out = [PINGGU[0], PINGGU[1] + 3000 / M_PER_DEG_LAT]
    when = times(10, step_s=15)
    assert parse([stuck] * 9 + [out], when).point_count == 10
    # the same 3 km in 15 s without the wait is refused
    exc = refusal([stuck, out], times(2, step_s=15))
    assert exc.field == "geometry.coordinates[1]"
    # and a glitch of 85 km after a repeat still is: the position before it was first had 30 s earlier
    far = [PINGGU[0] + 1.0, PINGGU[1]]
    assert refusal([stuck, stuck, far], times(3, step_s=15)).field == "geometry.coordinates[2]"
