"""Case and assignment state machines: every legal move, every illegal one refused by name, close and decline."""

from __future__ import annotations

import itertools

import pytest

from gis_enforcement.domain.case_flow import (
    ASSIGNMENT_REASON_REQUIRED,
    ASSIGNMENT_TRANSITIONS,
    CASE_REASON_REQUIRED,
    CASE_TRANSITIONS,
    AssignmentAction,
    AssignmentStatus,
    CaseAction,
    DeclineGround,
    allowed_assignment_actions,
    allowed_case_actions,
    case_accepts_whistle,
    case_can_close,
    lead_may_decline,
    next_assignment_status,
    next_case_status,
)
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.errors import InvalidInput

C, A = CaseStatus, CaseAction
AS, AA = AssignmentStatus, AssignmentAction


def test_tables_cover_every_state_and_only_known_values() -> None:
    assert set(CASE_TRANSITIONS) == set(CaseStatus)
    assert set(ASSIGNMENT_TRANSITIONS) == set(AssignmentStatus)
    assert [s.value for s in AssignmentStatus] == ["summoned", "reported_in", "acting", "done", "declined", "released"]
    for moves in CASE_TRANSITIONS.values():
        assert all(isinstance(a, CaseAction) and isinstance(s, CaseStatus) for a, s in moves.items())


def test_every_case_state_is_reachable_from_reported() -> None:
    seen, frontier = {C.REPORTED}, [C.REPORTED]
    while frontier:
        for nxt in CASE_TRANSITIONS[frontier.pop()].values():
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(CaseStatus)


def test_the_main_case_path() -> None:
    path = [(A.TRIAGE, C.TRIAGED), (A.WHISTLE, C.WHISTLED), (A.START_ACTION, C.IN_ACTION),
            (A.RESOLVE, C.RESOLVED), (A.VERIFY, C.VERIFIED), (A.CLOSE, C.CLOSED)]
    state = C.REPORTED
    for action, expected in path:
        state = next_case_status(state, action)
        assert state is expected


@pytest.mark.parametrize(("state", "action"), [(s, a) for s, moves in CASE_TRANSITIONS.items() for a in moves])
def test_every_legal_case_transition(state: CaseStatus, action: CaseAction) -> None:
    assert next_case_status(state.value, action.value, reason="on site") is CASE_TRANSITIONS[state][action]


def test_every_illegal_case_transition_is_refused_naming_the_allowed_actions() -> None:
    refused = 0
    for state, action in itertools.product(CaseStatus, CaseAction):
        if action in CASE_TRANSITIONS[state]:
            continue
        with pytest.raises(InvalidInput) as exc:
            next_case_status(state, action, reason="x")
        err = exc.value
        assert err.field == "status"
        assert state.value in err.message and action.value in err.message
        allowed = [a.value for a in CASE_TRANSITIONS[state]]
        assert err.detail["allowed"] == allowed
        assert all(a in err.message for a in allowed)
        refused += 1
    assert refused == len(CaseStatus) * len(CaseAction) - sum(len(m) for m in CASE_TRANSITIONS.values())


def test_every_illegal_assignment_transition_is_refused_naming_the_allowed_actions() -> None:
    for state, action in itertools.product(AssignmentStatus, AssignmentAction):
        if action in ASSIGNMENT_TRANSITIONS[state]:
            assert next_assignment_status(state, action, reason="x") is ASSIGNMENT_TRANSITIONS[state][action]
            continue
        with pytest.raises(InvalidInput) as exc:
            next_assignment_status(state, action, reason="x")
        assert exc.value.field == "status"
        assert state.value in exc.value.message and action.value in exc.value.message
        assert f"cannot {action.value} an assignment in state" in exc.value.message  # "an", not "a assignment"
        assert exc.value.detail["allowed"] == [a.value for a in ASSIGNMENT_TRANSITIONS[state]]


def test_terminal_assignment_state_says_so() -> None:
    with pytest.raises(InvalidInput, match="none \\(terminal state\\)"):
        next_assignment_status(AS.RELEASED, AA.REPORT_IN)
    assert allowed_assignment_actions("released") == ()


def test_unknown_states_and_actions_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        next_case_status("open", "triage")
    assert exc.value.field == "status"
    with pytest.raises(InvalidInput) as exc:
        next_case_status("reported", "approve")
    assert exc.value.field == "action" and "triage" in exc.value.message


def test_reasons_are_required_where_the_record_changes_meaning() -> None:
    assert {A.REJECT, A.REOPEN, A.REINSTATE} == CASE_REASON_REQUIRED
    for blank in (None, "", "   "):
        with pytest.raises(InvalidInput) as exc:
            next_case_status(C.RESOLVED, A.REOPEN, reason=blank)
        assert exc.value.field == "reason"
        with pytest.raises(InvalidInput) as exc:
            next_assignment_status(AS.SUMMONED, AA.DECLINE, reason=blank)
        assert exc.value.field == "reason"
    assert AA.DECLINE in ASSIGNMENT_REASON_REQUIRED
    # A legal move without a reason requirement needs none.
    assert next_case_status(C.REPORTED, A.TRIAGE) is C.TRIAGED


def test_reopen_goes_through_reopened_then_resumes_or_rewhistles() -> None:
    for origin in (C.RESOLVED, C.VERIFIED, C.CLOSED):
        assert next_case_status(origin, A.REOPEN, reason="垃圾未清运") is C.REOPENED
    assert next_case_status(C.REOPENED, A.RESUME) is C.IN_ACTION
    assert next_case_status(C.REOPENED, A.WHISTLE) is C.WHISTLED
    assert next_assignment_status(AS.DONE, AA.REOPEN) is AS.ACTING
    with pytest.raises(InvalidInput):
        next_case_status(C.IN_ACTION, A.REOPEN, reason="x")


def test_decline_is_overruled_or_released() -> None:
    declined = next_assignment_status(AS.SUMMONED, AA.DECLINE, reason="非本部门职责")
    assert next_assignment_status(declined, AA.OVERRULE, reason="权责清单列为主责") is AS.SUMMONED
    assert next_assignment_status(declined, AA.RELEASE, reason="改派") is AS.RELEASED
    with pytest.raises(InvalidInput):  # once on site, a department is released, it does not decline
        next_assignment_status(AS.REPORTED_IN, AA.DECLINE, reason="x")


def test_whistle_open_states() -> None:
    assert {s for s in CaseStatus if case_accepts_whistle(s)} == {C.TRIAGED, C.WHISTLED, C.IN_ACTION, C.REOPENED}
    assert allowed_case_actions("closed") == (A.REOPEN,)


# -- closing -------------------------------------------------------------------------------------------------


def test_case_closes_when_lead_done_and_assists_done_or_released() -> None:
    assert case_can_close(AS.DONE, {"ECO": AS.DONE, "POLICE": AS.RELEASED}) == (True, "")
    assert case_can_close("done", []) == (True, "")


def test_case_does_not_close_without_the_lead_closure() -> None:
    ok, why = case_can_close(AS.ACTING, {"ECO": AS.DONE})
    assert not ok and "lead" in why and "acting" in why


@pytest.mark.parametrize("blocking", [AS.SUMMONED, AS.REPORTED_IN, AS.ACTING, AS.DECLINED])
def test_case_does_not_close_while_an_assist_is_open(blocking: AssignmentStatus) -> None:
    ok, why = case_can_close(AS.DONE, {"ECO": AS.DONE, "URBAN": blocking})
    assert not ok and f"URBAN ({blocking.value})" in why and "ECO" not in why
    ok, why = case_can_close(AS.DONE, [AS.DONE, blocking])
    assert not ok and "assist #2" in why


def test_released_lead_blocks_closure() -> None:
    ok, why = case_can_close(AS.RELEASED, {})
    assert not ok and "released" in why


# -- declining -----------------------------------------------------------------------------------------------


def test_listed_lead_declining_without_grounds_is_w06() -> None:
    for reason in (None, "", "人手不足"):
        verdict = lead_may_decline(role=Role.LEAD, listed_as_lead=True, ground=None, reason=reason)
        assert not verdict.allowed and verdict.warning_rule == "W06" and "维持主责" in verdict.message


def test_listed_lead_with_a_ground_and_reason_goes_to_review() -> None:
    verdict = lead_may_decline(role="lead", listed_as_lead=True, ground=DeclineGround.WRONG_CATEGORY,
                               reason="现场为合法采石场, 属安全生产问题")
    assert verdict.allowed and verdict.needs_review and verdict.warning_rule is None
    verdict = lead_may_decline(role="lead", listed_as_lead=True, ground="outside_jurisdiction", reason="   ")
    assert not verdict.allowed and verdict.warning_rule == "W06"


def test_unlisted_lead_and_assists_may_decline_with_a_reason() -> None:
    verdict = lead_may_decline(role=Role.LEAD, listed_as_lead=False, ground=None, reason="权责清单无此事项")
    assert verdict.allowed and verdict.warning_rule is None
    verdict = lead_may_decline(role=Role.ASSIST, listed_as_lead=False, ground=None, reason="另有任务")
    assert verdict.allowed and verdict.needs_review
    verdict = lead_may_decline(role=Role.ASSIST, listed_as_lead=False, ground=None, reason=None)
    assert not verdict.allowed and verdict.warning_rule is None


def test_unknown_ground_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        lead_may_decline(role="lead", listed_as_lead=True, ground="too_busy", reason="x")
    assert exc.value.field == "ground"


def test_messages_take_the_right_article() -> None:
    from gis_enforcement.domain.wording import with_article

    assert [with_article(w) for w in ("admin", "assignment", "case", "patrol", "Open311 client")] == [
        "an admin", "an assignment", "a case", "a patrol", "an Open311 client"]


def test_a_refusal_lists_the_moves_of_the_role_that_tried() -> None:
    """A department refused in reported_in is told what it may do, not the township's release; without the
    role, the allowed actions are grouped by who takes them."""
    with pytest.raises(InvalidInput) as dept:
        next_assignment_status(AS.REPORTED_IN, AA.COMPLETE, by="department")
    assert "the department may: start_action" in dept.value.message and "release" not in dept.value.message
    assert dept.value.detail["allowed"] == ["start_action"] and dept.value.detail["by"] == "department"
    with pytest.raises(InvalidInput) as declined:
        next_assignment_status(AS.DECLINED, AA.REPORT_IN, by="department")
    assert "nothing is open to the department" in declined.value.message
    assert "the township may overrule" in declined.value.message and declined.value.detail["allowed"] == []
    with pytest.raises(InvalidInput) as unknown:
        next_assignment_status(AS.REPORTED_IN, AA.COMPLETE)
    assert "the department may: start_action" in unknown.value.message
    assert "the township may: release" in unknown.value.message
