"""The whistle chain in bulk: many cases whistled, many check-ins, many resolutions — one transaction each,
a few statements whatever the count.

For replaying a season or a year (simulation, benchmarks, migrating a legacy system's history) and for big
joint operations. The rules are those of the single-case services — the same transition tables, plans from
the lists, deadlines, geofence and hash-chained record — applied to whole tables; what breaks a rule is
refused row by row with the field and the reason (``refused``), and everything else is written. The records
are indistinguishable from those the single-case services write: ``audit verify`` checks them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from gis_enforcement.dispatch.on_site import already_reported_in
from gis_enforcement.dispatch.whistle import unclassified_message
from gis_enforcement.domain.audit import ChainedEvent, chain_many
from gis_enforcement.domain.case_flow import (
    ASSIGNMENT_TRANSITIONS,
    AssignmentAction,
    AssignmentStatus,
    CaseAction,
    CaseStatus,
    case_accepts_whistle,
    next_assignment_status,
)
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.geofence import accuracy_allowance_m, case_allowance_m, outside_fence_message
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, bulk_repo, incident_repo

TOWNSHIP = "township"
_REFUSED_COLUMNS = ["key", "field", "reason", "code"]


@dataclass
class BulkResult:
    """What a bulk step did: how many rows it carried out, the rows it refused (key, field, reason) and, for a
    whistle, the assignments it created."""

    done: int
    refused: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_REFUSED_COLUMNS))
    assignments: pd.DataFrame | None = None


def _refusals(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """The refused rows: key, field, reason and the error code the single-case service answers with
    (``invalid_input`` unless the row says otherwise, e.g. ``already_recorded`` for a second report-in)."""
    return pd.DataFrame([(*r, "invalid_input") if len(r) == 3 else r for r in rows], columns=_REFUSED_COLUMNS)


def _utc(values: Any, name: str) -> pd.Series:
    s = pd.Series(values)
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        try:
            s = pd.to_datetime(s)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"not a time: {exc}", field=name) from None
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            raise InvalidInput("times must carry their time zone", field=name)
    return s.dt.tz_convert(UTC).dt.floor("us")  # the database keeps microseconds; so does the record


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: row loops over Arrow-backed strings cost a conversion per value."""
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) and frame[c].dtype != object]
    return frame.astype(dict.fromkeys(text, object)) if text else frame


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"missing column(s) {', '.join(missing)}", field=name)


def _write_events(session: Session, events: list[tuple[str, datetime, str | None, str, dict[str, Any]]],
                  cases: pd.DataFrame, *, status: dict[str, str] | None = None,
                  whistled_at: dict[str, datetime] | None = None) -> None:
    """Chain ``events`` onto the cases' records (``cases``: the locked frame), store them, and move each case's
    head — and its status / whistle time when given — in one statement."""
    heads = {cid: (int(n), h if isinstance(h, str) else None)
             for cid, n, h in zip(cases["id"], cases["event_count"], cases["event_head"], strict=True)}
    chained, new_heads = chain_many(events, heads)
    bulk_repo.append_events(session, events=_event_frame(chained))
    touched = sorted({e.incident_id for e in chained} | set(status or {}))
    update = pd.DataFrame({"id": touched, "event_count": [new_heads[c][0] for c in touched],
                           "event_head": [new_heads[c][1] for c in touched]})
    casts = {"id": "uuid", "event_count": "integer", "event_head": "text"}
    if status is not None:
        current = dict(zip(cases["id"], cases["status"], strict=True))
        update["status"] = [status.get(c, current[c]) for c in touched]
        casts["status"] = "text"
    if whistled_at is not None:
        before = dict(zip(cases["id"], cases["whistled_at"], strict=True))
        update["whistled_at"] = pd.Series([before[c] if pd.notna(before[c]) else whistled_at.get(c)
                                           for c in touched], dtype="datetime64[us, UTC]")
        casts["whistled_at"] = "timestamptz"
    bulk_repo.update_from(session, table="incident", key="id", frame=update, casts=casts)


def _event_frame(events: list[ChainedEvent]) -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": [e.incident_id for e in events], "seq": [e.seq for e in events],
        "at": pd.Series([e.at for e in events], dtype="datetime64[us, UTC]"),
        "actor": [e.actor for e in events], "kind": [e.kind for e in events],
        "payload": [e.payload_json for e in events],
        "prev_hash": [e.prev_hash for e in events], "hash": [e.hash for e in events],
    })


def whistle_many(session: Session, *, catalog: Catalog, cases: pd.DataFrame, actor: str | None = None) -> BulkResult:
    """Township whistles (街乡吹哨) for many cases with the plans from the lists.

    ``cases``: ``incident_id``, ``whistler`` (the township), ``at`` (aware times) and optionally ``group``:
    cases of one group with the same whistler and time form one joint whistle (default: each whistler and
    time is one whistle). A case that is not in the whistler's township, not open to a whistle, has no plan, or
    has every department of its plan already summoned is refused; departments already on a case are skipped, as
    in :func:`gis_enforcement.dispatch.whistle.whistle`.
    """
    _require(cases, ("incident_id", "whistler", "at"), "cases")
    req = _plain(cases.reset_index(drop=True))
    req["incident_id"] = req["incident_id"].astype(str).astype(object)
    req["at"] = _utc(req["at"], "at")
    if "group" not in req.columns:
        req["group"] = 0
    dup = req["incident_id"].duplicated()
    refused: list[tuple[Any, str, str]] = [(k, "incident_id", "the case is twice in this whistle")
                                           for k in req.loc[dup, "incident_id"]]
    req = req[~dup]
    locked = _plain(bulk_repo.lock_cases_frame(session, incident_ids=list(req["incident_id"])))
    known = {c.id: c for c in locked.itertuples(index=False)}
    rows, events, new_status, whistled = [], [], {}, {}
    accepted: list[tuple[str, Any]] = []
    for r in req.itertuples(index=False):
        cid = r.incident_id
        case = known.get(cid)
        if case is None:
            refused.append((cid, "incident_id", f"no case {cid}"))
            continue
        status = CaseStatus(case.status)
        triage = status is CaseStatus.REPORTED
        if triage:
            status = CaseStatus.TRIAGED
        if not case_accepts_whistle(status):
            refused.append((cid, "status", f"case {cid} is {case.status}: no whistle is possible"))
            continue
        listed = catalog.categories.get(case.category)
        if listed is not None and listed.classify_first:
            refused.append((cid, "category", unclassified_message(cid, case.category)))
            continue
        if case.township_code != r.whistler:
            where = case.township_code if isinstance(case.township_code, str) else "outside the district"
            refused.append((cid, "whistler", f"case {cid} lies in {where}, not in township {r.whistler}"))
            continue
        plan = json.loads(case.plan) if isinstance(case.plan, str) else []
        if not plan:
            refused.append((cid, "plan", f"case {cid} has no plan from the lists"))
            continue
        on_case = set(case.departments.split("|")) if isinstance(case.departments, str) else set()
        fresh = [p for p in plan if p["department"] not in on_case]
        if not fresh:  # nobody new: no empty whistle on the case's record
            refused.append((cid, "plan", f"every department of the plan is already summoned to case {cid}"))
            continue
        accepted.append((cid, (r.group, r.whistler, r.at)))
        for p in fresh:
            rows.append((cid, p["department"], p["role"], p["report_in_minutes"], p.get("resolution_hours"),
                         (r.group, r.whistler, r.at)))
        if triage:
            events.append((cid, r.at.to_pydatetime(), actor, CaseAction.TRIAGE.value, {"by": r.whistler}))
        new_status[cid] = CaseStatus.WHISTLED.value if status in (CaseStatus.TRIAGED, CaseStatus.REOPENED) \
            else status.value
        whistled[cid] = r.at.to_pydatetime()
    if not accepted:
        return BulkResult(0, _refusals(refused))

    groups = list(dict.fromkeys(g for _, g in accepted))
    whistle_ids = dict(zip(groups, bulk_repo.reserve_ids(session, sequence="whistle_id_seq", n=len(groups)),
                           strict=True))
    members: dict[Any, list[str]] = {}
    for cid, g in accepted:
        members.setdefault(g, []).append(cid)
    bulk_repo.copy_in(session, table="whistle", frame=pd.DataFrame({
        "id": [whistle_ids[g] for g in groups], "mode": TOWNSHIP,
        "whistled_at": pd.Series([g[2] for g in groups], dtype="datetime64[us, UTC]"),
        "whistler_unit": [g[1] for g in groups], "actor": actor,
        "incident_ids": ["{" + ",".join(members[g]) + "}" for g in groups],
    }))
    a = pd.DataFrame(rows, columns=["incident_id", "department", "role", "report_in_minutes", "resolution_hours",
                                    "group"])
    a["id"] = bulk_repo.reserve_ids(session, sequence="assignment_id_seq", n=len(a))
    a["whistle_id"] = [whistle_ids[g] for g in a["group"]]
    a["summoned_at"] = pd.Series([g[2] for g in a["group"]], dtype="datetime64[us, UTC]")
    a["report_in_due"] = a["summoned_at"] + pd.to_timedelta(a["report_in_minutes"].astype(float), unit="m")
    hours = pd.to_numeric(a["resolution_hours"], errors="coerce")
    a["resolution_due"] = a["summoned_at"] + pd.to_timedelta(hours, unit="h")
    a["status"] = AssignmentStatus.SUMMONED.value
    a["township_code"] = [g[1] for g in a["group"]]  # the case lies in the whistling township (checked above)
    bulk_repo.copy_in(session, table="assignment", frame=a[["id", "incident_id", "whistle_id", "department", "role",
                                                             "status", "summoned_at", "report_in_due",
                                                             "resolution_due", "township_code"]])
    summoned: dict[str, list[dict[str, Any]]] = {}
    for r in a.itertuples(index=False):
        summoned.setdefault(r.incident_id, []).append({
            "department": r.department, "role": r.role, "report_in_due": r.report_in_due.to_pydatetime(),
            "resolution_due": None if pd.isna(r.resolution_due) else r.resolution_due.to_pydatetime()})
    for cid, g in accepted:
        events.append((cid, g[2].to_pydatetime(), actor, CaseAction.WHISTLE.value, {
            "whistle_id": whistle_ids[g], "mode": TOWNSHIP, "whistler": g[1], "joint": len(members[g]) > 1,
            "summoned": summoned.get(cid, [])}))
    events.sort(key=lambda e: (e[0], e[1], e[3] != CaseAction.TRIAGE.value))
    _write_events(session, events, locked, status=new_status, whistled_at=whistled)
    out = a.rename(columns={"id": "assignment_id"})[["assignment_id", "incident_id", "whistle_id", "department",
                                                      "role", "summoned_at", "report_in_due", "resolution_due"]]
    return BulkResult(len(accepted), _refusals(refused), out)


def _case_accuracy(session: Session, incident_ids: pd.Series) -> pd.Series:
    """The stated GPS accuracy of each row's case (NaN where none was stated or the case is unknown)."""
    keys = incident_ids.dropna().astype(str).unique()
    stored = incident_repo.stored_content(session, ids=list(keys))
    if stored.empty:
        return pd.Series(float("nan"), index=incident_ids.index)
    by_id = pd.Series(stored["accuracy_m"].astype(float).to_numpy(), index=keys[stored["pos"].to_numpy()])
    return incident_ids.astype(object).map(by_id).astype(float)


_REPORT_IN_FROM = {s.value for s, moves in ASSIGNMENT_TRANSITIONS.items() if AssignmentAction.REPORT_IN in moves}


def report_in_many(session: Session, *, catalog: Catalog, checkins: pd.DataFrame,
                   actor: str | None = None, tz: str = DEFAULT_TIMEZONE) -> BulkResult:
    """GPS check-ins (报到) for many assignments: ``assignment_id``, ``lon``, ``lat`` (WGS84), ``accuracy_m``
    and ``server_time`` (aware). The geofence, the transition table and the on-time rule of
    :func:`gis_enforcement.dispatch.on_site.report_in` apply row by row (the case's own accuracy allowed for
    alike); refused rows change nothing. A row of an assignment that reported in already is refused as the
    single path answers it (code ``already_recorded``, the first report-in's time in the district's zone ``tz``
    and whether it was on time)."""
    _require(checkins, ("assignment_id", "lon", "lat", "accuracy_m", "server_time"), "checkins")
    c = checkins.reset_index(drop=True).copy()
    c["server_time"] = _utc(c["server_time"], "server_time")
    dup = c["assignment_id"].duplicated()
    refused: list[tuple[Any, ...]] = [(k, "assignment_id", "checked in twice in this batch")
                                           for k in c.loc[dup, "assignment_id"]]
    c = c[~dup]
    found = _plain(bulk_repo.lock_assignments_frame(session, positions=c))
    m = c.merge(found, on="assignment_id", how="left", indicator=True)
    fences = pd.Series({k: v.geofence_m for k, v in catalog.categories.items()}, dtype=float)
    caps = pd.Series({k: v.max_accuracy_m for k, v in catalog.categories.items()}, dtype=float)
    m["fence"] = m["category"].map(fences)
    m["slack"] = accuracy_allowance_m(m["accuracy_m"].astype(float).to_numpy(), m["category"].map(caps).to_numpy())
    m["case_accuracy_m"] = _case_accuracy(session, m["incident_id"])
    m["case_slack"] = case_allowance_m(m["case_accuracy_m"].to_numpy(), m["category"].map(caps).to_numpy(),
                                       m["fence"].to_numpy())
    missing = m["_merge"] != "both"
    again = ~missing & m["reported_in_at"].notna()
    wrong_state = ~missing & ~again & ~m["status"].isin(_REPORT_IN_FROM)
    outside = ~missing & ~again & ~wrong_state & (m["distance_m"] > m["fence"] + m["slack"] + m["case_slack"])
    early = ~missing & ~again & ~wrong_state & ~outside & (m["server_time"] < m["summoned_at"])
    for r in m[missing].itertuples():
        refused.append((r.assignment_id, "assignment_id", f"no assignment {r.assignment_id}"))
    for r in m[again].itertuples():
        answer = already_reported_in(r.department, reported_in_at=r.reported_in_at.to_pydatetime(),
                                     minutes_late=None if pd.isna(r.minutes_late) else float(r.minutes_late),
                                     status=r.status, tz=tz)
        refused.append((r.assignment_id, answer.field or "status", answer.message, answer.code))
    for r in m[wrong_state].itertuples():
        try:
            next_assignment_status(r.status, AssignmentAction.REPORT_IN, by="department")
        except InvalidInput as exc:  # the single path's words: what the department may do in this state
            refused.append((r.assignment_id, "status", exc.message))
    for r in m[outside].itertuples():
        refused.append((r.assignment_id, "position", outside_fence_message(
            r.distance_m, r.fence, r.slack, None if pd.isna(r.case_accuracy_m) else float(r.case_accuracy_m),
            r.case_slack)))
    for r in m[early].itertuples():
        refused.append((r.assignment_id, "server_time", "check-in before the whistle"))
    ok = m[~(missing | again | wrong_state | outside | early)].copy()
    if ok.empty:
        return BulkResult(0, _refusals(refused))
    ok["minutes_late"] = (ok["server_time"] - ok["report_in_due"]).dt.total_seconds() / 60.0
    bulk_repo.update_from(session, table="assignment", key="id", frame=pd.DataFrame({
        "id": ok["assignment_id"], "status": AssignmentStatus.REPORTED_IN.value,
        "reported_in_at": ok["server_time"], "report_in_lon": ok["lon"], "report_in_lat": ok["lat"],
        "report_in_accuracy_m": ok["accuracy_m"], "report_in_distance_m": ok["distance_m"],
        "minutes_late": ok["minutes_late"]}), casts={
        "id": "bigint", "status": "text", "reported_in_at": "timestamptz", "report_in_lon": "float8",
        "report_in_lat": "float8", "report_in_accuracy_m": "float8", "report_in_distance_m": "float8",
        "minutes_late": "float8"})
    ok = ok.sort_values(["incident_id", "server_time", "assignment_id"])
    events = [(r.incident_id, r.server_time.to_pydatetime(), actor, AssignmentAction.REPORT_IN.value, {
        "department": r.department, "lon": float(r.lon), "lat": float(r.lat),
        "accuracy_m": None if pd.isna(r.accuracy_m) else float(r.accuracy_m), "distance_m": round(r.distance_m, 1),
        "minutes_late": round(r.minutes_late, 2), "on_time": bool(r.minutes_late <= 0), "device_skew_s": None})
        for r in ok.itertuples(index=False)]
    cases = _plain(bulk_repo.lock_cases_frame(session, incident_ids=list(ok["incident_id"].unique())))
    _write_events(session, events, cases)
    return BulkResult(len(ok), _refusals(refused))


def resolve_many(session: Session, *, resolutions: pd.DataFrame, actor: str | None = None) -> BulkResult:
    """Leads that reported in act, finish and resolve their cases: ``incident_id``, ``started_at``,
    ``done_at``, ``resolved_at`` (aware, in that order) and ``summary``. The lead's assignment goes
    reported_in → acting → done, the case whistled → in_action → resolved, each step recorded as the
    single-case services record it (start_action, case_in_action, complete, resolve)."""
    _require(resolutions, ("incident_id", "started_at", "done_at", "resolved_at", "summary"), "resolutions")
    r = _plain(resolutions.reset_index(drop=True))
    r["incident_id"] = r["incident_id"].astype(str).astype(object)
    for col in ("started_at", "done_at", "resolved_at"):
        r[col] = _utc(r[col], col)
    bad_order = (r["started_at"] > r["done_at"]) | (r["done_at"] > r["resolved_at"])
    refused: list[tuple[Any, str, str]] = [(k, "started_at", "times must run started ≤ done ≤ resolved")
                                           for k in r.loc[bad_order, "incident_id"]]
    r = r[~bad_order]
    leads = _plain(bulk_repo.lead_assignments_frame(session, incident_ids=list(r["incident_id"])))
    cases = _plain(bulk_repo.lock_cases_frame(session, incident_ids=list(r["incident_id"])))
    m = r.merge(leads, on="incident_id", how="left").merge(
        cases[["id", "status"]].rename(columns={"id": "incident_id", "status": "case_status"}), on="incident_id",
        how="left")
    no_lead = m["assignment_id"].isna()
    lead_state = ~no_lead & ~m["status"].isin([AssignmentStatus.REPORTED_IN.value, AssignmentStatus.ACTING.value])
    case_state = ~no_lead & ~lead_state & ~m["case_status"].isin([CaseStatus.WHISTLED.value,
                                                                  CaseStatus.IN_ACTION.value])
    for x in m[no_lead].itertuples():
        refused.append((x.incident_id, "incident_id", "no lead department was whistled to this case"))
    for x in m[lead_state].itertuples():
        refused.append((x.incident_id, "status", f"the lead's part is {x.status}; it must have reported in"))
    for x in m[case_state].itertuples():
        refused.append((x.incident_id, "status", f"cannot resolve a case in state {x.case_status}"))
    ok = m[~(no_lead | lead_state | case_state)]
    if ok.empty:
        return BulkResult(0, _refusals(refused))
    bulk_repo.update_from(session, table="assignment", key="id", frame=pd.DataFrame({
        "id": ok["assignment_id"].astype("int64"), "status": AssignmentStatus.DONE.value, "done_at": ok["done_at"]}),
        casts={"id": "bigint", "status": "text", "done_at": "timestamptz"})
    events: list[tuple[str, datetime, str | None, str, dict[str, Any]]] = []
    for x in ok.itertuples(index=False):
        dep = x.department
        if x.status == AssignmentStatus.REPORTED_IN.value:
            events.append((x.incident_id, x.started_at.to_pydatetime(), actor, AssignmentAction.START_ACTION.value,
                           {"department": dep, "reason": None}))
        if x.case_status == CaseStatus.WHISTLED.value:
            events.append((x.incident_id, x.started_at.to_pydatetime(), actor, "case_in_action", {"by": dep}))
        events.append((x.incident_id, x.done_at.to_pydatetime(), actor, AssignmentAction.COMPLETE.value,
                       {"department": dep, "reason": None}))
        events.append((x.incident_id, x.resolved_at.to_pydatetime(), actor, CaseAction.RESOLVE.value,
                       {"by": dep, "summary": x.summary}))
    _write_events(session, events, cases,
                  status=dict.fromkeys(ok["incident_id"], CaseStatus.RESOLVED.value))
    return BulkResult(len(ok), _refusals(refused))
