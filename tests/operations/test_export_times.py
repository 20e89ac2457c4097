"""Times in exports: ISO 8601 in the district's zone, exactly as ``datetime.isoformat`` writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.operations.exports import iso_local


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kolkata", "America/St_Johns", "UTC"])
def test_times_are_written_as_isoformat_writes_them(zone: str) -> None:
    rng = np.random.default_rng(7)
    us = rng.integers(1_500_000_000_000_000, 1_900_000_000_000_000, 5_000)
    us[::3] -= us[::3] % 1_000_000  # whole seconds: no fraction written
    times = pd.Series(pd.to_datetime(us, unit="us", utc=True), index=np.arange(5_000) + 10)
    times.iloc[[4, 99]] = pd.NaT
    got = iso_local(times, zone)
    want = [None if t is pd.NaT else t.isoformat() for t in times.dt.tz_convert(zone)]
    assert got.tolist() == want and got.index.equals(times.index)
    assert got.iloc[4] is None and got.iloc[0].count(".") == 0 and got.iloc[1].count(".") == 1


def test_the_patrols_hour_in_beijing_time() -> None:
    seen = pd.Series(pd.to_datetime(["2026-05-12T15:40:00Z", "2026-05-12T16:00:00.25Z"], utc=True, format="ISO8601"))
    assert iso_local(seen, "Asia/Shanghai").tolist() == ["2026-05-12T23:40:00+08:00",
                                                         "2026-05-13T00:00:00.250000+08:00"]
