"""The demo's last act: where problems keep coming back, and the joint operation planned from it.

After the season has been played, the analyst's view: Getis-Ord Gi* hot spots of the whole season (H3 cells),
the register of sites the problem came back to after a closure (回头看), and a night operation (联合执法) in the
story's township against illegal mining and sand extraction — planned, stored, ready to execute.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from rich.console import Console
from rich.table import Table

from gis_enforcement.analysis.change_service import hotspot_map_layers
from gis_enforcement.analysis.hotspot_service import run_and_store
from gis_enforcement.analysis.hotspots import top_hot_cells
from gis_enforcement.analysis.planning import staff_label
from gis_enforcement.analysis.trend_service import emerging_run, refresh_sites
from gis_enforcement.demo.chain_habits import STORY_TOWNSHIP
from gis_enforcement.demo.chain_summary import short_name
from gis_enforcement.errors import EnforcementError
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.mapping.hotspots_map import run_caption, write_hotspots_map
from gis_enforcement.operations.plans import PlanRequest, create_plan, planned_before, stored_plan

OPERATION_CATEGORIES = ("MIN-01", "MIN-02")


def tell_operation(platform: Any, console: Console, *, townships: Any, season_end: datetime, tz: str) -> int | None:
    """Hot spots, recurring sites and a planned night operation, printed for the demo (``townships``: the layer,
    for the story township's code); returns the plan's id (None when nothing could be planned). The operation is
    planned at ``season_end`` (the simulated season's clock) for the night after it, however long ago the season
    lies."""
    town = next((str(c) for c, n in zip(townships["code"], townships["name"], strict=True)
                 if str(n).startswith(STORY_TOWNSHIP)), None)
    with platform.transaction() as session:
        locator = platform.locators.get(session)
        run_id, hot = run_and_store(session, cell="h3", resolution=8)
        sites = refresh_sites(session, locator=locator, eps_m=100, min_samples=3)
        try:  # month by month: where hot spots are new, intensifying or fading (for the map)
            emerging_run(session, cell="h3", resolution=8)
        except EnforcementError as exc:
            console.print(f"[dim]no emerging hot-spot patterns on the map: {exc}[/]")
        extras = hotspot_map_layers(session, tz=tz, townships=townships)
        night = (season_end.astimezone(ZoneInfo(tz)) + timedelta(days=1)).replace(hour=20, minute=0, second=0,
                                                                                  microsecond=0)
        plan, plan_id, again = None, None, False
        if town is not None:
            request = PlanRequest(period_start=night, period_end=night + timedelta(hours=12), townships=[town],
                                  categories=list(OPERATION_CATEGORIES), hotspot_run_id=None)
            try:
                # the demo run again plans the same night from the same season: the plan stored then is shown
                plan_id = planned_before(session, request=request, tz=tz)
                again = plan_id is not None
                if plan_id is None:
                    plan_id, _ = create_plan(
                        session, catalog=platform.catalog, locator=locator,
                        seats=load_seats(platform.settings.boundaries_dir), request=request, tz=tz,
                        now=season_end)  # planned on the season's clock: the night after it, not today's
                plan = stored_plan(session, plan_id=plan_id, tz=tz)
            except EnforcementError as exc:  # nothing open there this season: say so, the demo goes on
                console.print(f"[dim]no joint operation planned: {exc}[/]")
    s = hot.summary
    hot_map = write_hotspots_map(platform.settings.maps_dir / "hotspots.html", hot.cells, townships,
                                 subtitle=run_caption(run_id, dataclasses.asdict(hot.scale), s["scale"], lang="zh"),
                                 catalog=platform.catalog, tz=tz, **extras)
    console.print()
    console.print(f"[bold]hot spots[/] (run {run_id}, Getis-Ord Gi*, H3 res 8, FDR): {s['hot']} hot cells "
                  f"(99 %: {s['hot_99']}), {s['cold']} cold, of {s['cells']:,} — {s['scale']}")
    top, empty = top_hot_cells(hot.cells, n=5)   # places holding incidents, not their empty neighbours
    if len(top):
        rep = shapely.point_on_surface(top.geometry.to_numpy())
        placed = locator.locate(shapely.get_x(rep), shapely.get_y(rep))
        names = [f"{str(t or '').split('(')[0]}{v or ''}" for t, v in zip(placed["township_name"],
                                                                           placed["village_name"], strict=True)]
        console.print("  hottest: " + "; ".join(f"{n} ({c} incidents, {m:.0f} within reach, z {z:.1f})" for n, c, m, z
                                                in zip(names, top["count"], top["neighbourhood_count"], top["z"],
                                                       strict=True))
                      + (f" — and {empty} hot cells holding none of their own" if empty else ""))
    console.print(f"  map: [cyan]{hot_map.resolve()}[/]")
    recurring = sites[sites["n_recurrences"] > 0] if len(sites) else sites
    console.print(f"[bold]recurring sites[/] (回头看): {len(recurring)} of {len(sites)} clustered sites saw the "
                  "problem come back after a closure")
    for r in recurring.head(3).itertuples(index=False):
        console.print(f"  {r.site_id} {r.kind} near {r.village_name}: {r.n_incidents} reports, back "
                      f"{r.n_recurrences}× after closures; inspect again {r.follow_up_on:%Y-%m-%d}")
    if plan is None:
        return None
    table = Table(title=f"联合执法计划 #{plan_id} {STORY_TOWNSHIP} {night:%m-%d %H:%M} 起 (night operation: mining, "
                        "sand)", title_justify="left", pad_edge=False, padding=(0, 1))
    for col in ("序", "目标", "部门（人）", "到达"):
        table.add_column(col)
    zone = ZoneInfo(tz)
    for t in plan["targets"]:
        arrive = datetime.fromisoformat(t["arrive_at"]).astimezone(zone) if t.get("arrive_at") else None
        table.add_row(str(t.get("order", "")), str(t.get("name", "")),
                      staff_label(t.get("officers"), t.get("departments"), lambda d: short_name(platform.catalog, d)),
                      f"{arrive:%H:%M}" if arrive is not None else "—")
    console.print(table)
    km = sum(float(t.get("leg_m") or 0) for t in plan["targets"]) / 1000
    if again:
        console.print(f"  [dim]this night was planned before, as plan #{plan_id}: shown again, not stored twice[/]")
    console.print(f"  {len(plan['targets'])} targets, {km:.1f} km; {len(plan['waiting'])} wait "
                  f"— read it again with [cyan].venv/bin/gis-enforcement plan show {plan_id}[/]. Its night follows "
                  "the simulated season and is past, so it cannot be executed: plan tonight's with "
                  "[cyan]plan create --start \"$(date +%F)T20:00+08:00\" …[/] (README) to execute one")
    return plan_id

