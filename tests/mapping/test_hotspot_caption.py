"""The line a hot-spot run's map and table print about what it read: without a period, the default window of
the stored reports (not "every date"); a dataset's run reads every date."""

from __future__ import annotations

from gis_enforcement.mapping.hotspot_layers import filters_caption

NAMES: dict[str, str] = {}


def test_a_run_without_a_period_says_it_read_the_default_window() -> None:
    stored = filters_caption({"filters": {}}, "zh", towns=NAMES, categories=NAMES)
    assert "时段 未指定（默认：最新上报前 12 个月内）" in stored and "全部日期" not in stored
    assert "the 12 months up to the latest report" in filters_caption({"filters": {}}, "en", towns=NAMES,
                                                                      categories=NAMES)
    dataset = filters_caption({"filters": {}, "source": "season.parquet"}, "zh", towns=NAMES, categories=NAMES)
    assert "时段 全部日期" in dataset
    asked = filters_caption({"filters": {"start": "2026-05-01T00:00:00+08:00", "end": "2026-06-01T00:00:00+08:00"}},
                            "zh", towns=NAMES, categories=NAMES)
    assert "时段 2026-05-01 — 2026-05-31" in asked
