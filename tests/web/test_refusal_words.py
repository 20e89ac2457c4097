"""The pages say the server's refusals in Chinese, in the browser's own common.js: every row-error code intake can
give (``ROW_ERROR_CODES``) has its words, filled with the values the refusal names; the chain's common refusals
(geofence, a second report-in, a move the state does not take, a missing reason, nobody new to whistle, 403, 429,
no network) are said from their code, field and detail; anything else, and every refusal on the English page,
keeps the server's message."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gis_enforcement.domain.case_flow import AssignmentAction, AssignmentStatus, CaseAction
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.patrol.report import ROW_ERROR_CODES, RowError
from tests.patrol.test_validate_row import batch_of_one, cases
from tests.web.conftest import ConsoleErrors, Site
from tests.web.test_patrol_page import fill_report, patrol_signed_in, phone

CJK = re.compile(r"[\u4e00-\u9fff]")

#: an ApiError of common.js made from an answer's status and error, described as the page shows it
DESCRIBE = """([status, error]) => new GISE.ApiError(status, { error }).describe()"""


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    errors = ConsoleErrors()
    context = browser.new_context(base_url=site.base_url)
    page = errors.watch(context.new_page())
    page.goto("/app/patrol")   # common.js, Chinese (the default), no sign-in needed
    page.wait_for_function("() => typeof GISE === 'object'")
    yield page
    context.close()
    assert errors == []


def row_errors() -> list[RowError]:
    """One real refusal of each code: reading and validation from the edge cases of tests/patrol, the id's
    refusals of intake as intake makes them."""
    found: dict[str, RowError] = {}
    for f in cases():
        for e in batch_of_one(f)[1]:
            found.setdefault(e.code, e)
    for code, reason in (("id:batch_conflict", "sent twice in this batch with different content"),
                         ("id:conflict", "already stored with different content"),
                         ("id:concurrent", "stored by another request at the same moment; send again")):
        found[code] = RowError(1, "id", reason, "3f2b8c1e-9a4d-4c6e-8b1a-0d2e4f6a8b9c", code=code)
    assert set(found) == set(ROW_ERROR_CODES)
    return [found[c] for c in ROW_ERROR_CODES]


def refused_row(e: RowError) -> list[Any]:
    return [422, {"code": "invalid_input", "message": e.reason, "field": e.field, "detail": {"errors": [e.to_dict()]}}]


def test_every_row_error_code_has_chinese_words(page: Any) -> None:
    assert set(page.evaluate("() => GISE.rowReasonCodes()")) == set(ROW_ERROR_CODES)
    for e in row_errors():
        said = page.evaluate(DESCRIBE, refused_row(e))
        assert CJK.search(said) and "{" not in said and e.reason not in said, (e.code, said)
        for key, value in e.values.items():   # the values it names are in it (the clock skew in minutes)
            for v in value if isinstance(value, list) else [value]:
                shown = f"{v // 60} 分钟" if key == "skew_s" else f"{v:,}" if isinstance(v, int) else str(v)
                assert shown in said, (e.code, said)


def test_a_refused_row_is_said_with_its_values_and_unknown_codes_keep_the_server_words(page: Any) -> None:
    unknown = RowError(2, "category", "unknown category 'MIN-99'", code="category:unknown", values={"value": "MIN-99"})
    assert page.evaluate(DESCRIBE, refused_row(unknown)) == "问题类别“MIN-99”不在问题清单中，请重新选择"
    both = refused_row(unknown)
    both[1]["detail"]["errors"].append({"row": 2, "field": "reporter", "reason": "too odd", "id": None,
                                        "code": "reporter:odd", "values": {}})
    assert page.evaluate(DESCRIBE, both) == "问题类别“MIN-99”不在问题清单中，请重新选择；上报人: too odd (reporter)"
    # a refusal the page has no words for: the server's, the field named in Chinese
    odd = [422, {"code": "invalid_input", "message": "a new refusal", "field": "observed_at"}]
    assert page.evaluate(DESCRIBE, odd) == "发现时间: a new refusal (observed_at)"


def test_the_chains_common_refusals_are_said_in_chinese(page: Any) -> None:
    said = [page.evaluate(DESCRIBE, r) for r in (
        [422, {"code": "invalid_input", "field": "position", "message": "check-in is 2,131 m from the case; …",
               "detail": {"distance_m": 2131.4, "geofence_m": 300.0, "accuracy_allowance_m": 12.0,
                          "allowed_m": 312.0}}],
        [409, {"code": "already_recorded", "field": "status", "message": "WATER already reported in …",
               "detail": {"reported_in_at": "2026-11-27T19:43:00+08:00", "on_time": False, "minutes_late": 12.5,
                          "current": "acting"}}],
        [422, {"code": "invalid_input", "field": "status", "message": "cannot complete an assignment …",
               "detail": {"current": "reported_in", "action": "complete", "allowed": ["start_action"],
                          "by": "department"}}],
        [422, {"code": "invalid_input", "field": "status", "message": "nothing is open to the department …",
               "detail": {"current": "declined", "action": "report_in", "allowed": [], "by": "department"}}],
        [422, {"code": "invalid_input", "field": "reason", "message": "release on an assignment requires a reason",
               "detail": {"action": "release"}}],
        [409, {"code": "already_summoned", "field": "incident_ids", "message": "every department …",
               "detail": {"already_summoned": [{"incident_id": "x", "department": "WATER"},
                                               {"incident_id": "x", "department": "ECO"}]}}],
        [403, {"code": "forbidden", "field": "department", "message": "not your department"}],
        [429, {"code": "too_many_requests", "field": "body", "message": "too many requests: try again in 7 s",
               "detail": {"retry_after": 7}}],
    )]
    assert said == [
        "报到位置距案件 2,131 米，须在 312 米以内（报到范围 300 米，含定位误差 12 米）：请到现场后再报到",
        "本部门已于 11/27 19:43 报到，超时 13 分钟；报到只记录一次（当前状态：处置中）",
        "当前状态为“已报到”，不能本部门处置完毕；可以：开始处置",
        "当前状态为“已退单”，不能报到；此状态下由街乡决定",
        "解除召集需要填写原因",
        "所列部门均已召集到本案件，无需再次吹哨（WATER、ECO）",
        "无权执行此操作：超出本账号的角色或所属单位",
        "操作过于频繁，请 7 秒后再试",
    ]
    assert page.evaluate("() => GISE.failureText(new GISE.NetworkError('Failed to fetch'))") == \
        "网络不可用：请检查网络连接后再试"
    # every state and move of the chain has its Chinese name
    for action in [*AssignmentAction, *CaseAction]:
        for current in [*AssignmentStatus, *CaseStatus]:
            text = page.evaluate(DESCRIBE, [422, {"code": "invalid_input", "field": "status", "message": "m",
                                                  "detail": {"current": current.value, "action": action.value,
                                                             "allowed": [action.value]}}])
            assert not re.search(r"[a-z]", text), text


def test_the_english_page_keeps_the_servers_words(page: Any) -> None:
    page.evaluate("() => localStorage.setItem('gise.lang', 'en')")
    page.reload()
    page.wait_for_function("() => typeof GISE === 'object' && GISE.lang() === 'en'")
    future = next(e for e in row_errors() if e.code == "observed_at:future")
    assert page.evaluate(DESCRIBE, refused_row(future)) == "is in the future (observed_at)"
    fence = [422, {"code": "invalid_input", "field": "position", "message": "check-in is 2,131 m from the case",
                   "detail": {"distance_m": 2131.4, "geofence_m": 300.0, "allowed_m": 300.0}}]
    assert page.evaluate(DESCRIBE, fence) == "check-in is 2,131 m from the case (position)"


def test_a_report_met_by_a_concurrent_store_stays_queued_and_is_sent_again(browser: Any, site: Site) -> None:
    """409 ``concurrent_intake`` (``id:concurrent``: another request stored the id at that moment) is not a
    rejection: the report stays queued and the next pass sends it."""
    errors = ConsoleErrors()
    context = phone(browser, site)
    page = patrol_signed_in(context, site, errors)
    answered: list[int] = []

    def concurrent(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answered.append(409)
        body = {"error": {"code": "concurrent_intake", "field": "id", "message": "an incident with this id was …",
                          "detail": {"errors": [{"row": 1, "field": "id", "reason": "stored by another request",
                                                 "id": None, "code": "id:concurrent", "values": {}}]}}}
        route.fulfill(status=409, json=body)

    page.route("**/api/v1/incidents", concurrent)
    fill_report(page, None, f"同时保存 {uuid.uuid4().hex[:6]}")
    for _ in range(200):   # until the page has sent it and been answered 409
        if answered:
            break
        page.wait_for_timeout(50)
    assert answered
    page.wait_for_selector("#queue li[data-state=queued]")
    page.wait_for_timeout(500)   # long enough for a rejection to be drawn, had it been taken for one
    assert page.query_selector("#queue li[data-state=rejected]") is None
    page.unroute("**/api/v1/incidents")
    page.click("#sync")
    page.wait_for_selector("#queue li[data-state=accepted]", timeout=20_000)
    context.close()
    assert [e for e in errors if "status of 409" not in e] == [], errors


def test_a_refused_input_is_said_from_its_kind_and_limit(page: Any) -> None:
    """The API's request-validation refusals name pydantic's ``kind`` and the ``limit``: the Chinese page says
    them in its own words with the field's Chinese name, not pydantic's English."""
    def refused(field: str, kind: str, limit: float | None, message: str) -> list[Any]:
        detail: dict[str, Any] = {"errors": [], "kind": kind}
        if limit is not None:
            detail["limit"] = limit
        return [422, {"code": "invalid_input", "field": field, "message": message, "detail": detail}]
    said = [page.evaluate(DESCRIBE, r) for r in (
        refused("working_days", "less_than_equal", 365, "Input should be less than or equal to 365"),
        refused("working_days", "greater_than_equal", 1, "Input should be greater than or equal to 1"),
        refused("penalty_amount", "greater_than_equal", 0, "Input should be greater than or equal to 0"),
        refused("penalty_amount", "less_than_equal", 999999999999.99, "Input should be less than or equal to …"),
        refused("task", "string_too_short", 1, "String should have at least 1 character"),
        refused("summary", "missing", None, "Field required"),
        refused("some_field", "less_than_equal", 9, "Input should be less than or equal to 9"),
        refused("task", "a_kind_without_words", None, "odd"),
    )]
    assert said == ["工作日须不大于 365", "工作日须不小于 1", "罚款金额不能为负", "罚款金额须不大于 999,999,999,999.99",
                    "落实事项不能为空", "办结情况必须填写", "须不大于 9（some_field）", "落实事项: odd (task)"]


def test_a_check_in_refused_beside_a_poorly_located_case_says_the_cases_own_accuracy(page: Any) -> None:
    fence = [422, {"code": "invalid_input", "field": "position", "message": "check-in is 996 m from the case; …",
                   "detail": {"distance_m": 996.2, "geofence_m": 300.0, "accuracy_allowance_m": 10.0,
                              "case_accuracy_m": 800.0, "case_allowance_m": 300.0, "allowed_m": 610.0}}]
    assert page.evaluate(DESCRIBE, fence) == (
        "报到位置距案件 996 米，须在 610 米以内（报到范围 300 米，含定位误差 10 米；"
        "案件位置本身精度仅 ±800 米，已放宽 300 米）：请到现场后再报到")


def test_a_refused_sign_in_is_said_in_chinese_without_a_field(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    context = browser.new_context(base_url=site.base_url)
    page = errors.watch(context.new_page())
    page.goto("/app/patrol")
    page.fill("#username", site.users["patrol"])
    page.fill("#password", "not-the-password")
    page.click("#signin button[type=submit]")
    said = page.wait_for_selector("#signin-msg .notice.bad").inner_text()
    assert said == "登录失败：用户名或密码错误", said
    context.close()
    assert [e for e in errors if "status of 401" not in e] == [], errors
