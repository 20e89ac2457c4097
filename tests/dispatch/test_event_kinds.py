"""The event kinds a webhook subscription may name are the kinds the dispatch services record."""

from __future__ import annotations

import re
from pathlib import Path

import gis_enforcement.dispatch as dispatch
from gis_enforcement.dispatch.outbox import EVENT_KINDS
from gis_enforcement.domain.case_flow import AssignmentAction


def test_every_recorded_kind_is_one_a_subscription_may_name() -> None:
    recorded: set[str] = set()
    for path in Path(dispatch.__file__).parent.glob("*.py"):
        # the recorders' literal ``kind=``; a refusal's ``kind`` detail shares its line with its ``field=``
        recorded |= set(re.findall(r'^(?!.*field=).*\bkind="([a-z_]+)"', path.read_text(encoding="utf-8"),
                                   flags=re.MULTILINE))
    assert len(recorded) >= 12  # the scan finds the recorders' literal kinds
    recorded |= {a.value for a in AssignmentAction}  # ``on_site._move`` records the action itself
    assert recorded == set(EVENT_KINDS)
