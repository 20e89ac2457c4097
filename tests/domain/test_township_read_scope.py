"""The township-scoped reads: a township dispatcher reads the analyses and the evaluation of its own township
only; the district reads what it asks for."""

from __future__ import annotations

import pytest

from gis_enforcement.domain.access import Caller, Role, may, township_read_scope
from gis_enforcement.errors import Forbidden

DESK = Caller("desk", Role.TOWNSHIP_DISPATCHER, "township", "110117003")
SUPERVISOR = Caller("sup", Role.SUPERVISOR, "district", "district")
OFFICER = Caller("o", Role.DEPARTMENT_OFFICER, "department", "WATER")


@pytest.mark.parametrize(("whole", "own"), [("analysis.read", "analysis.read_own"),
                                            ("evaluation.read", "evaluation.read_own")])
def test_a_township_reads_its_own_township_only(whole: str, own: str) -> None:
    assert may(DESK, own) and not may(DESK, whole)
    assert township_read_scope(DESK, None, whole=whole, own=own) == ["110117003"]
    assert township_read_scope(DESK, ["110117003"], whole=whole, own=own) == ["110117003"]
    for asked in (["110117004"], ["110117003", "110117004"]):
        with pytest.raises(Forbidden) as refused:
            township_read_scope(DESK, asked, whole=whole, own=own)
        assert refused.value.field == "township" and "110117004" in refused.value.message
    assert township_read_scope(SUPERVISOR, None, whole=whole, own=own) is None
    assert township_read_scope(SUPERVISOR, ["110117004"], whole=whole, own=own) == ["110117004"]
    with pytest.raises(Forbidden) as refused:
        township_read_scope(OFFICER, ["110117003"], whole=whole, own=own)
    assert refused.value.field == "role" and whole in refused.value.message
