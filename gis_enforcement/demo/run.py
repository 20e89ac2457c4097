"""``make demo``: the shipped layers and lists, a simulated patrol season through the real intake path,
a summary a district analyst can read, the season's whistle chain played through the real dispatch services
(the first whistle, departments' report-in and enforcement, townships, warnings), and a map."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.admin.platform import Platform
from gis_enforcement.demo.accounts import DEMO_PASSWORD, ensure_demo_accounts
from gis_enforcement.demo.chain import ChainSummary, play_season
from gis_enforcement.demo.operation_story import tell_operation
from gis_enforcement.demo.patrol_tracks import record_season_tracks
from gis_enforcement.demo.season import season_feature_collection, season_window
from gis_enforcement.demo.season_maps import write_season_maps
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.assets import ensure_assets
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.settings import Settings
from gis_enforcement.storage import incident_repo

#: Share of the eligible incidents the townships whistle with their whole plan in the demo (see
#: :func:`play_season`); every other report goes to its township's desk (分拣).
CHAIN_SHARE = 0.15


def run_demo(settings: Settings, *, seed: int, count: int, console: Console, chain_share: float = CHAIN_SHARE
             ) -> Path:
    """Run the whole demo and return the path of the map it wrote; ``chain_share`` of the eligible incidents are
    whistled for when the chain is played. The map assets are checked first: a missing Leaflet is said in the
    first second, not after the season has been played."""
    ensure_assets()
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

    with console.status("playing the whistle chain: townships whistle, departments report in and act, "
                        "townships verify; the escalation pass runs every simulated night…"):
        with platform.transaction() as session:
            chain = play_season(session, catalog=catalog, calendar=platform.calendar, incidents=incidents,
                                seed=seed, share=chain_share, locator=platform.locators.get(session),
                                tz=settings.timezone, photos_dir=settings.photos_dir)
    _print_chain(console, chain, catalog)
    with console.status("recording the season's last two weeks of patrol tracks through the tracks path…"):
        with platform.transaction() as session:
            tracks = record_season_tracks(session, townships=j.townships, zones=j.zones, incidents=incidents,
                                          seed=seed, tz=settings.timezone, end=season_window()[1])
    console.print(f"patrol tracks: {tracks.tracks:,} shifts ({tracks.new:,} new), {tracks.positions:,} positions, "
                  f"passing {tracks.incidents_passed:,} of the reports they made")
    plan_id = tell_operation(platform, console, townships=j.townships, season_end=season_window()[1],
                             tz=settings.timezone)

    written = write_season_maps(platform, console, plan_id=plan_id)
    map_path = written["status"]
    console.print()
    console.print(f"[bold]maps[/]: open [cyan]{map_path.resolve()}[/] in a browser (they work offline), or run "
                  "`gis-enforcement serve` and browse /maps")
    busiest = incidents["township_code"].dropna()
    if len(busiest):
        township = str(busiest.value_counts().idxmax())
        leads = incidents.loc[incidents["township_code"] == township, "lead_department"].dropna()
        department = str(leads.value_counts().idxmax()) if len(leads) else next(iter(catalog.departments))
        with platform.transaction() as session:
            accounts = ensure_demo_accounts(session, catalog=catalog, township=township, department=department)
        base = f"http://{settings.api_host}:{settings.api_port}"
        table = Table(title=f"pages: run `gis-enforcement serve`, then sign in (demo password {DEMO_PASSWORD})",
                      title_justify="left")
        for column in ("user", "role", "unit", "page"):
            table.add_column(column)
        for a in accounts:
            table.add_row(a.username, a.role, a.unit if a.township is None else f"{a.unit} · {a.township}",
                          f"{base}{a.page}")
        console.print(table)
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


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:.1f} %" if d else "—"


def _num(x: float | None, fmt: str = "{:.0f}") -> str:
    return "—" if x is None else fmt.format(x)


def _print_chain(console: Console, chain: ChainSummary, catalog) -> None:  # type: ignore[no-untyped-def]
    """The chain as an analyst reads it: headline figures, the first whistle, departments, townships, warnings."""
    console.print()
    if chain.whistled == 0:
        console.print("[bold]吹哨报到[/]: no case was whistled")
        return
    console.print(
        f"[bold]吹哨报到 (the whistle chain)[/]: {chain.whistled:,} cases whistled in {chain.whistles:,} whistles "
        f"({chain.joint_whistles:,} joint), {chain.summoned:,} departments summoned")
    console.print(
        f"  报到 report-in: [green]{chain.on_time:,} on time ({_pct(chain.on_time, chain.summoned)})[/], "
        f"[yellow]{chain.late:,} late[/], [red]{chain.absent:,} absent[/] (no check-in within the hour), "
        f"{chain.declined:,} declined with a reason the township accepted")
    console.print(
        f"  处置 outcome: {chain.resolved:,} resolved by the lead, {chain.closed:,} closed after the township's check "
        f"on site, {chain.reopened:,} reopened (not fixed on site)")
    console.print(
        f"  执法 enforcement: {chain.penalties:,} fines, ¥{chain.penalty_yuan / 10_000:,.1f} 万; {chain.released:,} "
        "departments released by the township (never came, or declined)")
    console.print(
        f"  部门要求、街乡落实: {chain.follow_ups:,} follow-up tasks handed to townships, "
        f"{chain.follow_ups_late:,} done late or still open")
    for line in chain.desk_lines():
        console.print(line)
    if chain.played:
        skipped = f"; {chain.skipped:,} cases whistled before were skipped" if chain.skipped else ""
        console.print(
            f"  [dim]played {chain.played:,} cases now through the dispatch services in {chain.seconds:.1f} s "
            f"(seed {chain.seed}){skipped};[/]")
        console.print(
            f"  [dim]{chain.reclassified} reports of unknown category (类别待定) were named by their township (改类) "
            f"before any whistle or decision; {chain.revisits} problems came back after closure and were reported "
            f"again; {chain.refused_check_ins} check-ins were refused outside the geofence and retried on site[/]")
    else:
        console.print(
            f"  [dim]this season's chain was played before: the {chain.skipped:,} incidents chosen for it were already "
            "whistled and are skipped (nothing played twice)[/]")
    if chain.anomalies:
        console.print(f"  [red]{len(chain.anomalies)} steps were refused unexpectedly[/], e.g. {chain.anomalies[0]}")

    if chain.story:
        console.print()
        console.print("[bold]第一哨 (the first whistle)[/]: a mine safety check that summons every department the "
                      "lists name")
        console.print("  [dim](Pinggu's first whistle, lunar new year 2017, brought 16 departments and caught 4 "
                      "offenders)[/]")
        for line in chain.story:
            console.print("  " + line, highlight=False)

    deps = Table(title="部门报到与执法 (departments: report-in within the deadline and enforcement)",
                 title_justify="left", pad_edge=False, padding=(0, 1))
    for col, just in (("部门", "left"), ("召集", "right"), ("主责", "right"), ("及时", "right"), ("迟到", "right"),
                      ("未到", "right"), ("退单", "right"), ("报到及时率", "right"), ("中位(分)", "right"),
                      ("P90(分)", "right"), ("罚款(起)", "right"), ("罚款(万元)", "right"), ("预警", "right")):
        deps.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in chain.departments:
        rate = r.on_time_rate
        style = "red" if rate is not None and rate < 0.75 else None
        deps.add_row(r.name, f"{r.summoned:,}", f"{r.led:,}" if r.led else "·", f"{r.on_time:,}",
                     f"{r.late:,}" if r.late else "·", f"{r.absent:,}" if r.absent else "·",
                     f"{r.declined}" if r.declined else "·",
                     _num(None if rate is None else 100 * rate, "{:.1f} %"), _num(r.median_minutes),
                     _num(r.p90_minutes), f"{r.penalties:,}" if r.penalties else "·",
                     f"{r.penalty_yuan / 10_000:,.1f}" if r.penalty_yuan else "·", f"{r.warnings:,}", style=style)
    console.print()
    console.print(deps)
    console.print("[dim]及时 = checked in on site within the deadline (30 min; 20 on truck routes) · 迟到 = within the "
                  "hour (W01) · 未到 = not within the hour (W02) · 退单 = declined with a reason the township "
                  "accepted, no check-in · 及时 + 迟到 + 未到 + 退单 = 召集[/]")
    console.print("[dim]报到及时率 = 及时 / 召集 (red below 75 %) · 中位/P90 = minutes from the whistle to the "
                  "check-in · 预警 = warnings on the department[/]")

    towns = Table(title="街乡吹哨 (townships: whistles, cases and follow-up)", title_justify="left", pad_edge=False,
                  padding=(0, 1))
    for col, just in (("街乡", "left"), ("吹哨", "right"), ("联合", "right"), ("案件", "right"), ("办结", "right"),
                      ("重开", "right"), ("办结中位(时)", "right"), ("部门要求", "right"), ("逾期", "right"),
                      ("反弹(W08)", "right"), ("自身警示", "right")):
        towns.add_column(col, justify=just)  # type: ignore[arg-type]
    for t in chain.townships:
        towns.add_row(t.name, f"{t.whistles:,}", f"{t.joint_whistles}" if t.joint_whistles else "·", f"{t.cases:,}",
                      f"{t.closed:,}", f"{t.reopened}" if t.reopened else "·", _num(t.median_hours_to_close),
                      f"{t.follow_ups}" if t.follow_ups else "·", f"{t.follow_ups_late}" if t.follow_ups_late else "·",
                      f"{t.recurrences}" if t.recurrences else "·", f"{t.own_warnings}" if t.own_warnings else "·")
    console.print(towns)
    console.print("[dim]办结中位 = median hours from whistle to closure · 部门要求 = follow-up tasks departments "
                  "handed to the township[/]")
    console.print("[dim]逾期 = done late or still open (W09) · 反弹(W08) = a problem came back at a place in the "
                  "township · 自身警示 = warnings about the township itself (W09, W12, W13), as in `evaluate --by "
                  "township`[/]")

    warns = Table(title="警示清单 (warnings raised by the escalation pass)", title_justify="left", pad_edge=False,
                  padding=(0, 1))
    for col, just in (("代码", "left"), ("预警", "left"), ("对象", "left"), ("黄", "right"), ("红", "right"),
                      ("合计", "right"), ("后果", "left")):
        warns.add_column(col, justify=just)  # type: ignore[arg-type]
    subjects = {"department": "部门", "township": "街乡", "location": "点位", "officer": "执法人员"}
    for code in sorted(chain.warnings):
        rule = catalog.warning_rules.get(code)
        levels = chain.warning_levels.get(code, {})
        other = sum(n for lv, n in levels.items() if lv not in ("yellow", "red"))
        warns.add_row(code, rule.trigger.split("：")[0] if rule else "?",
                      subjects.get(rule.subject, rule.subject) if rule else "",
                      f"{levels.get('yellow', 0):,}" if levels.get("yellow") else "·",
                      f"{levels.get('red', 0):,}" if levels.get("red") else "·",
                      f"{chain.warnings[code]:,}" + (f" ({other} other)" if other else ""),
                      rule.consequence.split("；")[0] if rule else "")
    console.print(warns)
