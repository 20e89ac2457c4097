"""The demo's maps: the full set for the simulated season, written into MAPS_DIR and listed with their paths.

Status (Chinese and English), incidents by category, townships by incidents per km² and by on-time report-in,
the dispatch of the season's most attended whistle, the night operation's plan, the patrol tracks of the
season's last week with their coverage; the hot-spot map is written by
the operation story (:mod:`gis_enforcement.demo.operation_story`). Everything goes through
:mod:`gis_enforcement.operations.map_pages`, as ``gis-enforcement map …`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from gis_enforcement.demo.season import season_window
from gis_enforcement.errors import EnforcementError
from gis_enforcement.operations import map_pages
from gis_enforcement.storage import Session

__all__ = ["write_season_maps"]


def write_season_maps(platform: Any, console: Console, *, plan_id: int | None) -> dict[str, Path]:
    """Write every map of the season; returns name → path (the hot-spot map included when it exists)."""
    folder: Path = platform.settings.maps_dir
    folder.mkdir(parents=True, exist_ok=True)
    catalog = platform.catalog
    start, end = season_window()
    span = f"{start:%Y-%m-%d} — {(end.date()):%Y-%m-%d}"

    pages: list[tuple[str, str, Callable[[Session], map_pages.MapPage]]] = [
        ("status", "案件处置状态 status of every case", lambda s: map_pages.status_page(
            s, folder / "status.html", catalog=catalog, timezone=platform.settings.timezone)),
        ("status-en", "status map in English", lambda s: map_pages.status_page(
            s, folder / "status-en.html", catalog=catalog, lang="en", timezone=platform.settings.timezone)),
        ("incidents", "巡查事件 incidents by category", lambda s: map_pages.incidents_page(
            s, folder / "incidents.html", catalog=catalog, timezone=platform.settings.timezone)),
        ("townships", "街乡 incidents per km²", lambda s: map_pages.townships_page(
            s, folder / "townships.html", catalog=catalog, subtitle=span, timezone=platform.settings.timezone)),
        ("townships-on-time", "街乡 on-time report-in rate", lambda s: map_pages.townships_page(
            s, folder / "townships-on-time.html", catalog=catalog, metric="on_time_rate", start=start, end=end,
            subtitle=span, timezone=platform.settings.timezone)),
        ("tracks", "巡查轨迹 the last week's patrol tracks and coverage", lambda s: map_pages.tracks_page(
            s, folder / "tracks.html", catalog=catalog, start=end - timedelta(days=7), end=end,
            subtitle=f"{(end - timedelta(days=7)):%Y-%m-%d} — {(end - timedelta(days=1)):%Y-%m-%d}",
            timezone=platform.settings.timezone)),
    ]
    with platform.transaction() as session:
        case = map_pages.showcase_case(session)
    if case is not None:
        pages.append(("dispatch", "吹哨报到 one whistle's report-ins", lambda s: map_pages.dispatch_page(
            s, folder / "dispatch.html", catalog=catalog, incident_id=case,
            timezone=platform.settings.timezone)))
    if plan_id is not None:
        pages.append(("plan", f"联合执法 plan #{plan_id}", lambda s: map_pages.plan_page(
            s, folder / "plan.html", catalog=catalog, plan_id=plan_id, timezone=platform.settings.timezone)))

    written: dict[str, Path] = {}
    shows: dict[str, tuple[str, int]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("writing the maps…", total=len(pages))
        for name, what, write in pages:
            progress.update(task, description=f"map: {name}")
            try:
                with platform.transaction() as session:
                    page = write(session)
            except EnforcementError as exc:  # a map without data is said, not fatal
                console.print(f"[dim]{name}: not written — {exc}[/]")
            else:
                written[name], shows[name] = page.path, (what, page.count)
            progress.advance(task)
    hot = folder / "hotspots.html"
    if hot.exists():
        written["hotspots"], shows["hotspots"] = hot, ("问题热点 Gi* hot spots, emerging patterns, sites", 0)

    table = Table(title="maps of the season (offline pages; `gis-enforcement serve` serves them at /maps)",
                  title_justify="left", pad_edge=False, padding=(0, 1))
    for col in ("map", "shows", "file"):
        table.add_column(col)
    for name, path in written.items():
        what, count = shows[name]
        table.add_row(name, what + (f" ({count:,})" if count else ""), str(path.resolve()))
    console.print(table)
    return written
