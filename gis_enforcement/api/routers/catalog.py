"""/api/v1/catalog/... — the four lists as the pages offer them: problem categories (with the kinds of enforcement
action a record may be of) and departments.

Read-only and for every signed-in role: a patrol page fills its category picker and accuracy hint from here,
a console its department filter and its choice of kinds for an enforcement record. The lead department and
report-in minutes of a category are those of its general responsibility rule (no zone kind): a zone rule may
name another lead for a point inside the zone.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gis_enforcement.api.auth import ReadsLists
from gis_enforcement.api.deps import PlatformDep
from gis_enforcement.api.routers.dispatch import ERRORS
from gis_enforcement.dispatch.on_site import cited_legal_basis, listed_measures
from gis_enforcement.dispatch.whistle import departments_allowed
from gis_enforcement.domain.catalog import Catalog

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


class CategoryPublic(BaseModel):
    """A problem category of the 问题清单 with what a page needs to file and dispatch it."""

    code: str = Field(examples=["MIN-02"])
    zh: str = Field(examples=["河道盗采砂石"])
    en: str
    severity: str = Field(examples=["critical"])
    max_accuracy_m: float = Field(description="a fix less accurate than this is flagged on intake")
    geofence_m: float = Field(description="how close a department must be to report in")
    lead_department: str | None = Field(description="lead (主责) of the general rule; null when none")
    lead_department_zh: str | None
    report_in_minutes: int | None = Field(description="report-in deadline of the general rule; null when none")
    measures: list[str] = Field(default_factory=list, examples=[["责令停止违法行为", "没收违法所得", "罚款"]],
                                description="the measures (执法措施) the lists name for the category, in any of "
                                            "its rules: what an enforcement record may cite in `measures`")
    legal_basis: list[LegalBasisPublic] = Field(
        default_factory=list, description="the legal basis (法律依据) the lists cite for the category, in any of its "
                                          "rules, each law and article once: what an enforcement record on it stores")
    departments: list[str] = Field(
        default_factory=list, examples=[["WATER", "PSB", "PNR", "TRANS", "TOWN"]],
        description="every department the lists name for the category, in any of its rules (in the lists' order): "
                    "whom a whistle may add")
    classify_first: bool = Field(
        default=False, description="the lists' placeholder for a problem the patrol cannot name (类别待定): its "
                                   "township names the category (POST …/reclassify) before any whistle")


class LegalBasisPublic(BaseModel):
    """A law and article the lists cite for a category (法律依据)."""

    law: str = Field(examples=["中华人民共和国水法"])
    article: str = Field(examples=["第三十九条"])


class ActionKindPublic(BaseModel):
    """A kind of enforcement action (执法行为种类) an enforcement record may be of."""

    code: str = Field(examples=["INSPECT"], description="what a record's `action_type` stores")
    zh: str = Field(examples=["现场检查"], description="accepted in `action_type` as well")
    en: str


class CategoriesPublic(BaseModel):
    """The categories, and what an enforcement record on any of them names besides its measures: its kind."""

    data: list[CategoryPublic]
    count: int
    action_kinds: list[ActionKindPublic] = Field(
        default_factory=list, description="the kinds of enforcement action (执法行为种类) of the lists, in their "
        "order: a record's `action_type` is one of their codes or Chinese names")


class DepartmentPublic(BaseModel):
    code: str = Field(examples=["WATER"])
    zh: str = Field(examples=["区水务局"])
    en: str
    role: str | None = Field(default=None, description="``whistler`` for the township teams, else null")


class DepartmentsPublic(BaseModel):
    data: list[DepartmentPublic]
    count: int


def _categories(catalog: Catalog) -> list[CategoryPublic]:
    out = []
    for c in catalog.categories.values():
        rule = catalog.general_rule(c.code)
        lead = catalog.departments.get(rule.lead) if rule else None
        out.append(CategoryPublic(code=c.code, zh=c.zh, en=c.en, severity=c.severity, max_accuracy_m=c.max_accuracy_m,
                                  geofence_m=c.geofence_m, lead_department=rule.lead if rule else None,
                                  lead_department_zh=lead.zh if lead else None,
                                  report_in_minutes=rule.report_in_minutes if rule else None,
                                  measures=list(listed_measures(catalog, c.code)),
                                  legal_basis=[LegalBasisPublic(**b) for b in cited_legal_basis(catalog, c.code)],
                                  departments=[d for d in catalog.departments
                                               if d in departments_allowed(catalog, c.code)],
                                  classify_first=c.classify_first))
    return out


@router.get("/categories", operation_id="list_categories", response_model=CategoriesPublic, responses=ERRORS,
            summary="Problem categories (问题清单) with their lead department and report-in minutes, and the kinds "
                    "of enforcement action")
def list_categories(platform: PlatformDep, caller: ReadsLists) -> CategoriesPublic:
    """Every category in the lists' order, and the kinds of enforcement action a record may be of."""
    data = _categories(platform.catalog)
    kinds = [ActionKindPublic(code=k.code, zh=k.zh, en=k.en) for k in platform.catalog.action_kinds.values()]
    return CategoriesPublic(data=data, count=len(data), action_kinds=kinds)


@router.get("/departments", operation_id="list_departments", response_model=DepartmentsPublic, responses=ERRORS,
            summary="Departments (委办局) and the township teams that may be whistled")
def list_departments(platform: PlatformDep, caller: ReadsLists) -> DepartmentsPublic:
    """Every department in the lists' order."""
    data = [DepartmentPublic(code=d.code, zh=d.zh, en=d.en, role=d.role) for d in platform.catalog.departments.values()]
    return DepartmentsPublic(data=data, count=len(data))

