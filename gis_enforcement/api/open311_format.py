"""Open311 GeoReport v2 shapes: the problem list as services, incidents as service requests, rendered as JSON
or XML. Pure: records and the catalog in, dicts and bytes out.

GeoReport knows two statuses. A case counts as ``closed`` once the township has verified it, closed it, or
found it was no violation or a duplicate; every other state — reported, triaged, whistled, in action,
resolved but not yet verified, reopened — is ``open``. ``status_notes`` says where in the chain the case is; for a
declined case (不予受理) the township's reason, for a duplicate the ``service_request_id`` of the first case (and
the reason, when the township gave one).
Texts are Chinese; ``locale=en`` gives the English of the lists.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gis_enforcement.domain.catalog import Catalog, Category
from gis_enforcement.domain.enums import CaseStatus, Datum, LocationFlag
from gis_enforcement.domain.names import short_village
from gis_enforcement.domain.records import Incident
from gis_enforcement.storage.open311_repo import ServiceRequestRecord

Locale = Literal["zh", "en"]

#: response format (the path's extension) → content type
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

#: case statuses GeoReport reports as ``closed``
CLOSED_STATUSES = frozenset({CaseStatus.VERIFIED, CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.DUPLICATE})
OPEN311_STATUSES = ("open", "closed")

#: problem families (the category code's prefix) → service group, Chinese and English
FAMILIES: Mapping[str, tuple[str, str]] = {
    "MIN": ("盗采", "Illegal mining"),
    "ENV": ("环境", "Environment"),
    "TRK": ("货车", "Heavy trucks"),
    "CON": ("违建", "Construction"),
    "LAND": ("土地", "Land"),
    "WATER": ("河道", "Rivers"),
    "SAFE": ("安全", "Work safety"),
    "MKT": ("市场", "Markets"),
    "FOR": ("林木", "Forestry"),
}

STATUS_NOTES: Mapping[CaseStatus, tuple[str, str]] = {
    CaseStatus.REPORTED: ("已上报，等待街乡核实分拣", "reported; the township is checking it"),
    CaseStatus.TRIAGED: ("已核实，等待街乡吹哨", "checked; waiting for the township to whistle"),
    CaseStatus.WHISTLED: ("已吹哨，等待部门报到", "whistled; waiting for the departments to report in"),
    CaseStatus.IN_ACTION: ("部门已报到，执法处置中", "departments on site; enforcement in progress"),
    CaseStatus.RESOLVED: ("已处置，等待街乡核查", "resolved; waiting for the township to verify"),
    CaseStatus.VERIFIED: ("街乡已核查，问题已解决", "verified on site by the township"),
    CaseStatus.CLOSED: ("已办结", "closed"),
    CaseStatus.REJECTED: ("经核实不属于违法问题，不予处置", "not a violation; no action"),
    CaseStatus.DUPLICATE: ("与已有案件为同一问题，已合并", "the same problem as another case; merged"),
    CaseStatus.REOPENED: ("问题未解决，已重新处置", "not fixed; reopened"),
}

_FLAG_NOTES: Mapping[str, tuple[str, str]] = {
    LocationFlag.OUTSIDE_DISTRICT.value: ("位置在区界外，请核对定位",
                                          "outside the district; please check the position"),
    LocationFlag.NEAR_BORDER.value: ("位置靠近街乡边界", "near a township border"),
    LocationFlag.LOW_ACCURACY.value: ("定位精度低，现场需核实位置",
                                      "low GPS accuracy; the position is checked on site"),
}

#: attributes a client may send as ``attribute[code]``; the others of a definition are for information only
VARIABLE_ATTRIBUTES = ("observed_at", "accuracy_m", "crs", "reporter", "client_id")


def locale_of(value: str | None) -> Locale:
    """``en``, ``en-US``, ``en_GB`` … → English; anything else (or nothing) → Chinese."""
    return "en" if value and value.strip().lower()[:2] == "en" else "zh"


def _pick(pair: tuple[str, str], locale: Locale) -> str:
    return pair[1] if locale == "en" else pair[0]


def group_of(code: str, locale: Locale = "zh") -> str:
    """The service group of a category code: its problem family (MIN-02 → 盗采)."""
    prefix = code.split("-", 1)[0]
    return _pick(FAMILIES[prefix], locale) if prefix in FAMILIES else prefix


def open311_status(status: CaseStatus) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def case_statuses(wanted: Iterable[str]) -> list[str]:
    """The case statuses behind GeoReport statuses (``open``/``closed``)."""
    want = set(wanted)
    return [s.value for s in CaseStatus if open311_status(s) in want]


def w3c(moment: datetime, tz: str) -> str:
    """A time as GeoReport writes it (W3C / ISO 8601 with offset), in the district's zone."""
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def _department(catalog: Catalog, code: str | None, locale: Locale) -> str | None:
    if code is None:
        return None
    d = catalog.departments.get(code)
    return code if d is None else (d.en if locale == "en" else d.zh)


def _severity(catalog: Catalog, category: Category, locale: Locale) -> str:
    level = catalog.severity_levels.get(category.severity)
    return category.severity if level is None or locale == "en" else level.zh


def service(catalog: Catalog, category: Category, locale: Locale = "zh") -> dict[str, Any]:
    """One problem category as a GeoReport service."""
    rule = catalog.general_rule(category.code)
    lead = _department(catalog, rule.lead if rule else None, locale)
    severity = _severity(catalog, category, locale)
    if locale == "en":
        name = category.en
        description = f"{category.en}. Severity: {severity}; lead department: {lead}."
    else:
        name = category.zh
        description = f"{category.zh}。严重程度：{severity}；主责部门：{lead}。"
    return {
        "service_code": category.code,
        "service_name": name,
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join([group_of(category.code, locale), severity, category.code]),
        "group": group_of(category.code, locale),
    }


def services(catalog: Catalog, locale: Locale = "zh") -> list[dict[str, Any]]:
    return [service(catalog, c, locale) for c in catalog.categories.values()]


def _attribute(order: int, code: str, datatype: str, description: str, *, variable: bool = True,
               datatype_description: str | None = None,
               values: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "variable": variable, "code": code, "datatype": datatype, "required": False,
        "datatype_description": datatype_description, "order": order, "description": description,
    }
    if values is not None:
        out["values"] = [{"key": k, "name": n} for k, n in values]
    return out


def service_definition(catalog: Catalog, category: Category, locale: Locale = "zh") -> dict[str, Any]:
    """The attributes a request of this category may carry, then the category's facts (``variable`` false)."""
    en = locale == "en"
    datums = {Datum.WGS84: ("WGS84（GPS）", "WGS84 (GPS)"),
              Datum.GCJ02: ("GCJ-02（高德、腾讯地图）", "GCJ-02 (AMap, Tencent)"),
              Datum.BD09: ("BD-09（百度地图）", "BD-09 (Baidu)"),
              Datum.CGCS2000: ("CGCS2000", "CGCS2000")}
    attrs = [
        _attribute(1, "observed_at", "datetime",
                   "Time the problem was seen (default: when the request is received)" if en
                   else "发现时间（缺省为提交时间）",
                   datatype_description="ISO 8601, e.g. 2026-05-12T23:40:00+08:00"),
        _attribute(2, "accuracy_m", "number",
                   f"GPS accuracy in metres (worse than {category.max_accuracy_m:g} m is flagged)" if en
                   else f"定位精度（米；超过 {category.max_accuracy_m:g} 米标记为低精度）",
                   datatype_description="metres, 0–10000"),
        _attribute(3, "crs", "singlevaluelist", "Datum of lat/long (default WGS84)" if en
                   else "经纬度坐标系（缺省 WGS84）",
                   values=[(d.value, _pick(label, locale)) for d, label in datums.items()]),
        _attribute(4, "reporter", "string", "Who saw it (patrol officer, resident)" if en else "上报人（巡查员、群众）",
                   datatype_description="at most 200 characters"),
        _attribute(5, "client_id", "string",
                   "Your own id of this report; sending it again never creates a second request" if en
                   else "客户端事件编号；重复提交不会重复立案",
                   datatype_description="UUID"),
    ]
    facts = [("severity", ("严重程度：" if not en else "Severity: ") + _severity(catalog, category, locale))]
    if category.inspection_window is not None:
        w = category.inspection_window
        label = f" ({w.label})" if w.label else ""
        facts.append(("inspection_window", ("建议巡查时段：" if not en else "Best inspected: ") + f"{w}{label}"))
    rule = catalog.general_rule(category.code)
    if rule is not None:
        assists = "、".join(filter(None, (_department(catalog, a, locale) for a in rule.assists)))
        lead = _department(catalog, rule.lead, locale)
        text = (f"Lead: {lead}; assisting: {assists or 'none'}" if en
                else f"主责：{lead}；配合：{assists or '无'}")
        facts.append(("responsibility", text))
    if category.note:
        facts.append(("note", category.note))
    attrs += [_attribute(len(attrs) + i, code, "string", text, variable=False)
              for i, (code, text) in enumerate(facts, start=1)]
    return {"service_code": category.code, "attributes": attrs}


def status_notes(rec: ServiceRequestRecord, locale: Locale = "zh") -> str:
    """Where the case is in the chain; a declined case's reason, a duplicate's first case, as the township
    recorded them."""
    en = locale == "en"
    reason = rec.triage_reason
    if rec.status == CaseStatus.REJECTED and reason:
        return f"declined: {reason}" if en else f"经核实不予受理，理由：{reason}"
    if rec.status == CaseStatus.DUPLICATE and rec.merged_into is not None:
        note = (f"the same problem as request {rec.merged_into}; merged into it" if en
                else f"与已有案件 {rec.merged_into} 为同一问题，已合并")
        if reason:
            note += f" ({reason})" if en else f"（{reason}）"
        return note
    return _pick(STATUS_NOTES[rec.status], locale)


def _address(township: str | None, village: str | None) -> str | None:
    parts = [p for p in (township, short_village(village) if village else None) if p]
    return " ".join(parts) or None


def _notices(flags: Iterable[str], duplicate_of: object, recurrence_of: object, locale: Locale) -> list[str]:
    en = locale == "en"
    out = []
    if duplicate_of is not None:
        out.append(f"likely the same problem as {duplicate_of}" if en else f"疑似与 {duplicate_of} 为同一问题")
    if recurrence_of is not None:
        out.append(f"came back after {recurrence_of} was closed" if en else f"原案件 {recurrence_of} 办结后复发")
    out += [_pick(_FLAG_NOTES[f], locale) for f in flags if f in _FLAG_NOTES]
    return out


def service_request(rec: ServiceRequestRecord, catalog: Catalog, *, tz: str,
                    locale: Locale = "zh", base_url: str = "") -> dict[str, Any]:
    """One incident as a GeoReport service request; ``expected_datetime`` is its current deadline while open;
    ``media_url`` the first http(s) reference submitted with it, else its first uploaded photo
    (``{base_url}/api/v1/photos/{sha256}``, read with the same key)."""
    category = catalog.categories.get(rec.category)
    status = open311_status(rec.status)
    notices = _notices(rec.flags, rec.duplicate_of, rec.recurrence_of, locale)
    media = next((p for p in rec.photos if p.startswith(("https://", "http://"))), None)
    if media is None and rec.first_photo:
        media = f"{base_url.rstrip('/')}/api/v1/photos/{rec.first_photo}"
    return {
        "service_request_id": str(rec.id),
        "status": status,
        "status_notes": status_notes(rec, locale),
        "service_name": (category.en if locale == "en" else category.zh) if category else rec.category,
        "service_code": rec.category,
        "description": rec.description,
        "agency_responsible": _department(catalog, rec.lead_department, locale),
        "service_notice": ("; " if locale == "en" else "；").join(notices) or None,
        "requested_datetime": w3c(rec.observed_at, tz),
        "updated_datetime": w3c(rec.updated_at, tz),
        "expected_datetime": w3c(rec.expected_at, tz) if rec.expected_at and status == "open" else None,
        "address": _address(rec.township_name, rec.village_name),
        "address_id": rec.village_code or rec.township_code,
        "zipcode": None,
        "lat": rec.lat,
        "long": rec.lon,
        "media_url": media,
    }


def submission_notice(incident: Incident, catalog: Catalog, *, created: bool, locale: Locale = "zh") -> str:
    """What a client is told after submitting: who checks it, who leads, and anything to watch."""
    en = locale == "en"
    lead = _department(catalog, incident.lead_department, locale) or ("—" if not en else "none")
    where = _address(incident.township_name, incident.village_name)
    if en:
        head = "received" if created else "already received (the same request sent again)"
        checker = incident.township_name or "the district"  # no township holds a point outside; the district does
        text = f"{head}{f' at {where}' if where else ''}; {checker} checks it, lead department: {lead}"
    else:
        head = "已受理" if created else "已受理（重复提交，未重复立案）"
        checker = incident.township_name or "区级"
        text = f"{head}{f'（{where}）' if where else ''}，由{checker}核实；主责部门：{lead}"
    notices = _notices(incident.flags, incident.duplicate_of, incident.recurrence_of, locale)
    return ("; " if en else "；").join([text, *notices])


def errors(status: int, description: str) -> list[dict[str, Any]]:
    return [{"code": status, "description": description}]


# --- rendering --------------------------------------------------------------------------------------------------

#: list element → the name of its items in XML
_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
          "values": "value"}
# characters XML 1.0 cannot carry at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    el = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        for item in value:
            _fill(el, _ITEMS.get(name, "item"), item)
    elif value is not None:
        el.text = _xml_text(value)


def render(payload: Any, fmt: str, root: str) -> bytes:
    """``payload`` as JSON, or as XML under ``root`` (a list's items named as GeoReport names them)."""
    if fmt == "xml":
        top = ET.Element(root)
        items = payload if isinstance(payload, list) else None
        if items is None:
            for k, v in payload.items():
                _fill(top, k, v)
        else:
            for item in items:
                _fill(top, _ITEMS.get(root, "item"), item)
        return ET.tostring(top, encoding="utf-8", xml_declaration=True)  # type: ignore[no-any-return]
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
