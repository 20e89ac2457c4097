"""A period as people write it: a one-digit month or day (``2026-8``, ``2026-8-5``) is the same period as the
two-digit form, on either side of ``START..END`` too; a range that ends before it starts says so in the words
typed, not with the exclusive end the parser computed."""

from __future__ import annotations

import pytest

from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.errors import InvalidInput


@pytest.mark.parametrize(("short", "full"), [
    ("2026-8", "2026-08"), ("2026-8-5", "2026-08-05"), ("2026-1..2026-3", "2026-01..2026-03"),
    ("2026-8-1..2026-8-31", "2026-08-01..2026-08-31"), (" 2026-8 ", "2026-08"),
])
def test_a_one_digit_month_or_day_is_the_same_period(short: str, full: str) -> None:
    a, b = parse_period(short), parse_period(full)
    assert (a.start, a.end) == (b.start, b.end)


@pytest.mark.parametrize("bad", ["2026-13", "2026-0", "2026-8-32", "2026-2-30", "2026-123", "2026-8-"])
def test_a_month_or_day_that_does_not_exist_is_still_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_period(bad)
    assert err.value.field == "period" and "not a period" in str(err.value)


def test_a_range_ending_before_it_starts_is_said_in_the_words_typed() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_period("2026-08..2026-03")
    said = str(err.value)
    assert err.value.field == "period" and "ends before it starts" in said
    assert "'2026-03'" in said and "'2026-08'" in said
    assert "04-01" not in said and "T00:00" not in said  # no exclusive end the user never typed
    with pytest.raises(InvalidInput) as named:
        parse_period("2026-08..2026-03", field="before")
    assert named.value.field == "before" and "ends before it starts" in str(named.value)
    assert parse_period("2026-08..2026-08").label == "2026-08..2026-08"  # one month: not empty
