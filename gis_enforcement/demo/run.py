"""``make demo``: the shipped layers and lists, a simulated patrol season through the real intake path,
a summary a district analyst can read, and a map."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.admin.platform import Platform
from gis_enforcement.demo.season import season_feature_collection
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.incidents_map import write_incidents_map
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.settings import Settings
from gis_enforcement.storage import incident_repo


def run_demo(settings: Settings, *, seed: int, count: int, console: Console) -> Path:
    """Run the whole demo and return the path of the map it wrote."""
    with console.status("starting the database and bringing the schema up to date…"):
        platform = Platform.open(settings)
    console.print(f"database: [cyan]{platform.url}[/]")
    catalog = platform.catalog

    with console.status("loading and validating the shipped boundary layers…"):
        j = load_jurisdiction(settings.boundaries_dir, grid_size_m=settings.grid_size_m)
        with platform.transaction() as session:
            install_layers(session, j, source={"directory": str(settings.boundaries_dir), "demo": True})
    console.print(
        f"layers: {len(j.townships)} townships (示意边界 — synthetic), {len(j.villages)} villages, "
        f"{len(j.zones)} demo zones, {len(j.grid):,} grid cells"
    )

    season_path = settings.data_dir / "demo" / f"season_seed{seed}_n{count}.geojson"
    with console.status(f"simulating a patrol season of {count:,} incidents (seed {seed})…"):
        fc = season_feature_collection(j, catalog, count=count, seed=seed)
        season_path.parent.mkdir(parents=True, exist_ok=True)
        season_path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    console.print(f"simulated season written to {season_path}")

    with console.status("ingesting through the intake path (validate → datum → locate → rules → duplicates)…"):
        raw = read_intake_file(season_path)
        with platform.transaction() as session:
            report = ingest(session, raw, locator=platform.locators.get(session), catalog=catalog,
                            tz=settings.timezone)
    console.print(
        f"intake: {report.submitted:,} submitted, [green]{report.accepted:,} accepted[/], "
        f"{report.already_stored:,} already stored, [red]{report.rejected:,} rejected[/], "
        f"{report.likely_duplicates:,} likely duplicates"
    )
    if report.accepted == 0 and report.already_stored:
        console.print("  (this season was ingested before: nothing was stored twice)")

    with platform.transaction() as session:
        summary = incident_repo.summary_by_township_category(session)
        incidents = incident_repo.incidents_frame(session)
    _print_summary(console, summary, catalog)

    maps_dir = settings.maps_dir
    maps_dir.mkdir(parents=True, exist_ok=True)
    map_path = write_incidents_map(maps_dir / "incidents.html", incidents, j.townships, catalog=catalog)
    console.print()
    console.print(f"[bold]map[/]: open [cyan]{map_path.resolve()}[/] in a browser (works offline)")
    console.print("[bold]API[/]: run [cyan].venv/bin/gis-enforcement serve[/] and open "
                  f"http://{settings.api_host}:{settings.api_port}/docs "
                  f"(e.g. GET /api/v1/incidents?category=MIN-02)")
    console.print("[bold]locate[/]: [cyan].venv/bin/gis-enforcement locate 117.12 40.14 --json[/]")
    return map_path


FAMILY_LABELS = {"MIN": "盗采", "ENV": "环境", "TRK": "货车", "CON": "建设", "LAND": "土地", "WATER": "河道",
                 "SAFE": "安全", "MKT": "市场", "FOR": "林木"}


def _short(name: str) -> str:
    return name.split("(")[0].split("（")[0]


def _print_summary(console: Console, summary: pd.DataFrame, catalog) -> None:  # type: ignore[no-untyped-def]
    """Two tables an analyst can read in an 80-column terminal: townships × problem families (with flags and
    likely duplicates), then every category with its count and lead department."""
    if summary.empty:
        console.print("no incidents stored")
        return
    summary = summary.assign(family=summary["category"].str.split("-").str[0])
    pivot = summary.pivot_table(index="township", columns="family", values="n", aggfunc="sum", fill_value=0)
    families: list[str] = (
        [f for f in FAMILY_LABELS if f in pivot.columns] + [f for f in pivot.columns if f not in FAMILY_LABELS]
    )
    flags = summary.groupby("township")[["near_border", "outside", "duplicates"]].sum()
    table = Table(title="街乡 × 问题类别 (incidents by township and problem family)", title_justify="left",
                  pad_edge=False, padding=(0, 1))
    table.add_column("街乡")
    for f in families:
        table.add_column(FAMILY_LABELS.get(f, f), justify="right")
    table.add_column("合计", justify="right", style="bold")
    table.add_column("近界", justify="right")
    table.add_column("区外", justify="right")
    table.add_column("疑重", justify="right")
    order = pivot.sum(axis=1).sort_values(ascending=False).index
    for township in order:
        row = pivot.loc[township]
        fl = flags.loc[township]
        table.add_row(_short(str(township)), *[str(int(row[f])) if row[f] else "·" for f in families],
                      str(int(row.sum())), *[str(int(fl[c])) if fl[c] else "·" for c in fl.index])
    table.add_row("合计", *[str(int(pivot[f].sum())) for f in families], str(int(pivot.values.sum())),
                  *[str(int(flags[c].sum())) for c in flags.columns], style="bold")
    console.print(table)
    console.print("[dim]近界 = near a township border · 区外 = outside the district · 疑重 = likely duplicate[/]")

    per_cat = summary.groupby("category")["n"].sum().sort_values(ascending=False)
    cats = Table(title="问题类别 (by category, with the lead department of its general rule)", title_justify="left",
                 pad_edge=False, padding=(0, 1))
    for col, just in (("代码", "left"), ("类别", "left"), ("起数", "right"), ("主责部门", "left")):
        cats.add_column(col, justify=just)  # type: ignore[arg-type]
    for code, n in per_cat.items():
        category = catalog.categories.get(code)
        rule = catalog.general_rule(code)
        lead = catalog.departments[rule.lead].zh if rule is not None else "—"
        cats.add_row(str(code), category.zh if category else "?", f"{int(n):,}", lead)
    console.print(cats)
