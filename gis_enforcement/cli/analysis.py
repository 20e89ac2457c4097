"""``gis-enforcement hotspots …``: hot spots found by statistics, emerging hot spots, trends and recurring sites
(the joint operations planned from them: :mod:`gis_enforcement.cli.plans`)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table

from gis_enforcement.cli.common import app, district_tz, fail, open_platform, out, written
from gis_enforcement.errors import EnforcementError, InvalidInput

hotspots_app = typer.Typer(help="Hot spots (Getis-Ord Gi*), emerging hot spots and recurring sites.",
                           no_args_is_help=True)
app.add_typer(hotspots_app, name="hotspots")


class Cell(StrEnum):
    h3 = "h3"
    grid = "grid"
    township = "township"
    village = "village"


class EmergingCell(StrEnum):
    """The cells an emerging hot-spot run counts by (its space-time cube needs a regular lattice)."""

    h3 = "h3"
    grid = "grid"


#: what each output option writes, and the suffixes it accepts
CELL_SUFFIXES = (".gpkg", ".geojson", ".json")
MAP_SUFFIXES = (".html", ".htm")


def _suffix(path: Path | None, accepted: tuple[str, ...], option: str, what: str) -> None:
    """Refuse ``path`` before any work when its suffix is not one of ``accepted`` (what will be written)."""
    if path is not None and path.suffix.lower() not in accepted:
        raise typer.BadParameter(f"{path.name}: {what} is written to a {' or '.join(accepted)} file",
                                 param_hint=option)


def _cell_output(path: Path | None) -> None:
    _suffix(path, CELL_SUFFIXES, "--output", "the cells (GeoPackage or GeoJSON)")


def _map_output(path: Path | None) -> None:
    _suffix(path, MAP_SUFFIXES, "--map", "the map (an offline HTML page)")


#: what an analysis reads without --period, as each command's help says it
DEFAULT_PERIOD = "default: the 12 months up to the latest report"

BIN_LABELS = {3: "热点 99%", 2: "热点 95%", 1: "热点 90%", 0: "不显著", -1: "冷点 90%", -2: "冷点 95%", -3: "冷点 99%"}


def _period(text: str | None) -> tuple[datetime | None, datetime | None]:
    if not text:
        return None, None
    from gis_enforcement.analysis.evaluation import parse_period

    span = parse_period(text, tz=district_tz())
    return span.start, span.end


def _check_filters(session: Any, catalog: Any, *, categories: list[str] | None = None,
                   townships: list[str] | None = None, statuses: list[str] | None = None) -> list[str] | None:
    """Refuse a filter value that names nothing (a misspelt category, a township neither a code nor a name of
    the loaded layers, a status that does not exist) under the option typed, with the values it takes, rather
    than answering "no incident matches the filters" as for a real empty period; returns the codes of the
    townships named (None when none is). The checks are those of the API's list filters."""
    from gis_enforcement.api.filter_codes import check_category, check_statuses, township_codes

    for value in categories or ():
        try:
            check_category(catalog, value)
        except InvalidInput:
            raise InvalidInput(f"unknown category {value!r}; a problem-list code: {', '.join(catalog.categories)}",
                               field="category") from None
    towns = township_codes(session, townships)
    check_statuses(statuses)
    return towns


def _write_map(plat: Any, cells: Any, path: Path, subtitle: str, run: dict[str, Any] | None = None) -> None:
    """The cells on an offline map; ``run`` (``id``, ``parameters``) names the run's filters in its header."""
    from gis_enforcement.mapping.hotspots_map import write_hotspots_map
    from gis_enforcement.storage import layer_repo

    with plat.transaction() as session:
        towns = layer_repo.read_layers(session)["township"]
    write_hotspots_map(path, cells, towns, subtitle=subtitle, run=run, catalog=plat.catalog)
    out.print(f"map: open [cyan]{path.resolve()}[/] in a browser (works offline)")


def _write_cells(cells: Any, output: Path) -> None:
    suffix = output.suffix.lower()
    frame = cells.drop(columns=[c for c in ("detail",) if c in cells.columns])
    with written(output) as path:
        if suffix == ".gpkg":
            frame.to_file(path, layer="hotspot_cells", driver="GPKG")
        else:
            path.write_text(frame.to_json(drop_id=True, ensure_ascii=False), encoding="utf-8")


def _window_line(summary: dict[str, Any]) -> str:
    """The default window a run read, from its summary ('' for a period asked for, or a run stored before
    windows were kept)."""
    from gis_enforcement.analysis.hotspot_service import AnalysisWindow

    window = AnalysisWindow.from_summary(summary.get("window"))
    return window.said(district_tz()) if window is not None else ""


def _warnings(summary: dict[str, Any]) -> list[str]:
    """A run's warnings but the one its window line says already (the older reports it left out)."""
    from gis_enforcement.analysis.hotspot_service import AnalysisWindow

    window = AnalysisWindow.from_summary(summary.get("window"))
    said = window.note(district_tz()) if window is not None else None
    return [str(w) for w in summary.get("warnings", []) if w != said]


def _print_run(plat: Any, locator: Any, run_id: int, summary: dict[str, Any], cells: Any,
               parameters: dict[str, Any] | None = None) -> None:
    """A Gi* run: what it read and found, then its top hot cells (:func:`~.hotspots.top_hot_cells`) with where
    each is, its own incidents and its neighbourhood's."""
    from gis_enforcement.analysis.hotspot_service import place_cells
    from gis_enforcement.analysis.hotspots import TOP_ORDER_EN, TOP_ORDER_ZH, top_hot_cells
    from gis_enforcement.analysis.townships import township_list
    from gis_enforcement.mapping.hotspot_layers import filters_caption

    top, passed = top_hot_cells(cells)
    with plat.transaction() as session:
        names = {t["code"]: t["short_name"] for t in township_list(session)}
        places = place_cells(session, top, locator) if len(top) else None
    head = Table(title=f"热点分析 run {run_id}", box=box.SIMPLE_HEAD, show_header=False)
    head.add_column("", style="bold")
    head.add_column("")
    if parameters is not None:  # what the run was asked for, as its map's header says it
        cats = {code: c.zh for code, c in plat.catalog.categories.items()}
        head.add_row("筛选 filters", filters_caption(parameters, "zh", towns=names, categories=cats))
    window = _window_line(summary)
    if window:
        head.add_row("时段 period", window)
    head.add_row("事件 incidents", f"{summary['incidents']:,}")
    head.add_row("单元 cells", f"{summary['cells']:,} ({summary.get('empty_cells', 0):,} empty)")
    head.add_row("尺度 scale", str(summary.get("scale", "")))
    head.add_row("热点 hot", f"99% {summary.get('hot_99', 0)} · 95% {summary.get('hot_95', 0)} · "
                             f"90% {summary.get('hot_90', 0)}")
    head.add_row("冷点 cold", f"99% {summary.get('cold_99', 0)} · 95% {summary.get('cold_95', 0)} · "
                              f"90% {summary.get('cold_90', 0)}")
    for w in _warnings(summary):
        head.add_row("[yellow]注意[/]", w)
    out.print(head)
    if places is None:
        out.print("no significant hot spot" + (f" holding incidents of its own ({passed} hot cell(s) hold none: "
                                                "their neighbours are busy)" if passed else ""))
        return
    caption = f"{TOP_ORDER_ZH}\n{TOP_ORDER_EN}"
    if passed:
        caption += (f"\n另 {passed} 个热点单元本格无事件（因邻域事件多而显著），未列出 "
                    f"{passed} hot cell(s) with no incident of their own (hot for their neighbours) not listed")
    table = Table(title="最显著的热点 top hot cells", caption=caption, caption_justify="left", box=box.SIMPLE_HEAD)
    for col in ("#", "cell", "乡镇", "村", "本格事件", "邻域事件", "z", "置信度"):
        table.add_column(col, justify="right" if col in ("#", "本格事件", "邻域事件", "z") else "left")
    for i, (r, place) in enumerate(zip(top.itertuples(index=False), places.itertuples(index=False), strict=True),
                                   start=1):
        nbhd = r.neighbourhood_count
        table.add_row(str(i), str(r.cell_id), _text(place.township_short), _text(place.village_name),
                      f"{r.count:,}", "—" if nbhd != nbhd else f"{int(nbhd):,}", f"{r.z:.2f}",
                      BIN_LABELS[int(r.gi_bin)])
    out.print(table)


@hotspots_app.command("run")
def hotspots_run(
    cell: Annotated[Cell, typer.Option(help="count by H3 cell, square grid (EPSG:4548), township or village")]
    = Cell.h3,
    resolution: Annotated[int, typer.Option(help="H3 resolution (7 ≈ 5 km², 8 ≈ 0.7 km², 9 ≈ 0.1 km²)")] = 8,
    size: Annotated[float, typer.Option(help="grid cell size in metres")] = 500.0,
    distance: Annotated[float | None, typer.Option(help="distance band in metres (default: chosen)")] = None,
    fdr: Annotated[bool, typer.Option(help="False Discovery Rate correction")] = True,
    permutations: Annotated[int, typer.Option(help="permutation test draws (0: analytical p only)")] = 0,
    seed: Annotated[int, typer.Option(help="random seed of the permutations")] = 0,
    category: Annotated[list[str] | None, typer.Option(help="problem category (repeatable)")] = None,
    period: Annotated[str | None, typer.Option(help=f"2026, 2026-05 or START..END ({DEFAULT_PERIOD}; with "
                                                    "--dataset, the whole dataset)")] = None,
    township: Annotated[list[str] | None, typer.Option(help="township code or name (repeatable)")] = None,
    status: Annotated[list[str] | None, typer.Option(help="case status (repeatable)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the cells to .gpkg or .geojson")]
    = None,
    dataset: Annotated[Path | None, typer.Option(help="count on a dask cluster from this GeoParquet dataset "
                                                      "(see `export parquet`) instead of the database")] = None,
    map_path: Annotated[Path | None, typer.Option("--map", help="also draw the cells on an offline map (.html)")]
    = None,
    workers: Annotated[int, typer.Option(help="dask worker processes with --dataset")] = 2,
) -> None:
    """Getis-Ord Gi* hot and cold spots of the stored incidents (or of a GeoParquet dataset, counted on a local
    dask cluster); the run is stored (its id is printed)."""
    from gis_enforcement.analysis.hotspot_service import run_and_store

    _cell_output(output)
    _map_output(map_path)
    try:
        start, end = _period(period)
        plat = open_platform()
        with plat.transaction() as session:
            township = _check_filters(session, plat.catalog, categories=category, townships=township,
                                      statuses=status)
        if dataset is not None:
            run_id, result = _run_on_dask(plat, dataset, workers, cell=cell.value, resolution=resolution,
                                          size_m=size, distance_m=distance, fdr=fdr, permutations=permutations,
                                          seed=seed, categories=category or None, start=start, end=end,
                                          townships=township or None, statuses=status or None)
            with plat.transaction() as session:
                locator = plat.locators.get(session)
        else:
            with out.status("hot spots: reading incidents, counting, Gi*…"), plat.transaction() as session:
                run_id, result = run_and_store(
                    session, cell=cell.value, resolution=resolution, size_m=size, distance_m=distance, fdr=fdr,
                    permutations=permutations, seed=seed, categories=category or None, start=start, end=end,
                    townships=township or None, statuses=status or None)
                locator = plat.locators.get(session)
    except EnforcementError as exc:
        fail(exc)
        return
    _print_run(plat, locator, run_id, dict(result.summary), result.cells, parameters=dict(result.parameters))
    out.print(f"map: `gis-enforcement map hotspots --run {run_id}` draws this run; without --run it draws the "
              "latest run stored, whoever asked for it (GET /api/v1/hotspots stores one for a request not asked "
              "before on the same data)")
    if output is not None:
        _write_cells(result.cells, output)
        out.print(f"wrote {len(result.cells):,} cells to {output}")
    if map_path is not None:
        _write_map(plat, result.cells, map_path, f"run {run_id} · {result.summary['scale']}",
                   run={"id": run_id, "kind": "gi_star", "parameters": dict(result.parameters)})


def _run_on_dask(plat: Any, dataset: Path, workers: int, **params: Any) -> tuple[int, Any]:
    """Count on a local dask cluster from the dataset, then Gi* in memory; the run is stored like any other."""
    from distributed import Client, LocalCluster

    from gis_enforcement.analysis.distributed import run_hotspots_distributed
    from gis_enforcement.analysis.hotspot_service import store
    from gis_enforcement.storage import layer_repo

    if not dataset.is_dir():
        raise typer.BadParameter(f"{dataset} is not a dataset directory", param_hint="--dataset")
    with plat.transaction() as session:
        layers = layer_repo.read_layers(session)
    towns = params.get("townships")
    boundary = layers["township"][layers["township"]["code"].isin(towns)] if towns else layers["district"]
    areas = layers["township"] if params["cell"] == "township" else None
    with out.status(f"hot spots on dask ({workers} workers): counting the dataset, then Gi*…"), \
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        result = run_hotspots_distributed(str(dataset), boundary=boundary, areas=areas, inside_district=True,
                                          **params)
    with plat.transaction() as session:
        run_id = store(session, result, categories=params.get("categories"), source=str(dataset))
    return run_id, result


@hotspots_app.command("show")
def hotspots_show(
    run_id: Annotated[int, typer.Argument(help="a stored run (see `hotspots run` and `hotspots emerging`)")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the cells to .gpkg or .geojson")]
    = None,
    map_path: Annotated[Path | None, typer.Option("--map", help="also draw the cells on an offline map (.html)")]
    = None,
    top: Annotated[int, typer.Option(min=1, help="emerging hot spots to list (an emerging run)")] = 15,
) -> None:
    """A stored run: its parameters and summary, then the top hot cells of a Gi* run or the emerging hot spots
    of an emerging run, each with where it is."""
    from gis_enforcement.analysis.hotspot_service import stored_run
    from gis_enforcement.analysis.trend_service import emerging_list

    _cell_output(output)
    _map_output(map_path)
    try:
        plat = open_platform()
        with plat.transaction() as session:
            run, cells = stored_run(session, run_id=run_id)
            locator = plat.locators.get(session)
            listed = emerging_list(session, cells, locator=locator) if run["kind"] == "emerging" else None
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"run {run_id} · {run['created_at']:%Y-%m-%d %H:%M} · "
              f"{json.dumps(run['parameters'], ensure_ascii=False)}")
    if listed is not None:
        _print_emerging(run, listed, top)
    else:
        _print_run(plat, locator, run_id, run["summary"], cells, parameters=run["parameters"])
    if output is not None:
        _write_cells(cells if listed is None else listed, output)
        out.print(f"wrote {len(cells):,} cells to {output}")
    if map_path is not None:
        _write_map(plat, cells, map_path, f"run {run_id} · {run['summary'].get('scale', '')}")


def _place(town: Any, village: Any) -> str:
    return "·".join(v for v in (town, village) if isinstance(v, str)) or "—"


def _text(value: Any) -> str:
    """A name for a table cell: '—' for none (None, or the NaN a frame's rows give for it)."""
    return value if isinstance(value, str) and value else "—"


def _print_emerging(run: dict[str, Any], listed: Any, top: int) -> None:
    """An emerging run: its hot spots most urgent first, each with where it is, its incidents and its trend
    (:func:`~.trend_service.emerging_list`), then how many cells each pattern holds, the period and the notes."""
    import pandas as pd

    from gis_enforcement.analysis.emerging import CATEGORY_ZH, bins_label

    summary = run.get("summary") or {}
    params = run.get("parameters") or {}
    run_id = run.get("id")
    hot = listed[listed["urgency"].notna()]
    held = hot[hot["count"] > 0]
    shown = held.head(top)
    if len(shown):
        caption = ("本格有事件的热点：新增、加剧在前，其次连续、持续、零星、振荡、减弱、历史；"
                   "同一模式按末期 z 从高到低\n"
                   "hot spots holding incidents of their own: new and intensifying first, then consecutive, "
                   "persistent, sporadic, oscillating, diminishing, historical; within a pattern by the last bin's "
                   "z, highest first")
        if len(hot) > len(held):
            caption += (f"\n另 {len(hot) - len(held)} 个热点单元本格无事件（因邻域事件多而显著），未列出 "
                        f"{len(hot) - len(held)} hot-spot cell(s) with no incident of their own (hot for their "
                        "neighbours) not listed")
        table = Table(title=f"时空热点 emerging hot spots · run {run_id} · 最需关注的在前 most urgent first",
                      caption=caption, caption_justify="left", box=box.SIMPLE_HEAD)
        for col in ("#", "模式", "乡镇·村", "中心 lon,lat", "事件", "末期", "z", "趋势 z", "p", "cell"):
            table.add_column(col, justify="right" if col in ("#", "事件", "末期", "z", "趋势 z", "p") else "left")
        for r in shown.itertuples(index=False):
            last = "—" if r.last_bin_count is pd.NA else f"{int(r.last_bin_count):,}"
            trend = "—" if r.trend_z != r.trend_z else f"{r.trend_z:+.2f}"
            p = "—" if r.trend_p != r.trend_p else f"{r.trend_p:.3f}"
            table.add_row(str(r.urgency), str(r.pattern_zh), _place(r.township_short, r.village_name),
                          f"{r.lon:.5f},{r.lat:.5f}", f"{int(r.count):,}", last, f"{r.z:.2f}", trend, p,
                          str(r.cell_id))
        out.print(table)
        if len(held) > len(shown):
            out.print(f"showing {len(shown)} of {len(held)} (--top {top}); every cell, most urgent first, with "
                      "-o FILE or GET /api/v1/hotspots/emerging")
        out.print("事件 incidents in the cell over the period · 末期 in its last bin · z the last bin's Gi* z · "
                  "趋势 z, p the Mann-Kendall trend of its z over the bins")
    elif len(hot):
        out.print(f"no emerging hot spot holds incidents of its own ({len(hot)} hot-spot cell(s) hold none: their "
                  "neighbours are busy)")
    else:
        out.print("no emerging hot spot: no cell was a significant hot spot in the bins analysed")
    counts = Table(title=f"模式 patterns · run {run_id}", box=box.SIMPLE_HEAD)
    counts.add_column("模式 pattern")
    counts.add_column("单元 cells", justify="right")
    for pattern, n in listed["pattern"].value_counts().items():
        counts.add_row(f"{CATEGORY_ZH.get(str(pattern), '')} {pattern}".strip(), f"{n:,}")
    out.print(counts)
    period_ = bins_label(summary.get("bin_starts") or [], unit=str(params.get("unit", "month")),
                         width=int(params.get("width", 1)))
    if period_:
        out.print(f"时段 period: {period_} ({summary.get('incidents', 0):,} incidents)")
    window = _window_line(summary)
    if window:
        out.print(f"默认时段 default window: {window}")
    out.print(f"尺度 scale: {summary.get('scale', '')}")
    for w in _warnings(summary):
        out.print(f"[yellow]注意[/] {w}")


@hotspots_app.command("emerging")
def hotspots_emerging(
    cell: Annotated[EmergingCell, typer.Option(help="count by H3 cell or square grid (EPSG:4548)")]
    = EmergingCell.h3,
    resolution: Annotated[int, typer.Option(help="H3 resolution")] = 8,
    size: Annotated[float, typer.Option(help="grid cell size in metres")] = 500.0,
    distance: Annotated[float | None, typer.Option(help="distance band in metres (default: chosen)")] = None,
    unit: Annotated[str, typer.Option(help="time bins: month, week (Monday to Sunday) or day")] = "month",
    width: Annotated[int, typer.Option(help="months, weeks or days per bin")] = 1,
    time_step: Annotated[int, typer.Option(help="neighbourhood time step (bins t-k..t summed)")] = 0,
    fdr: Annotated[bool, typer.Option(help="FDR correction per time slice")] = False,
    category: Annotated[list[str] | None, typer.Option(help="problem category (repeatable)")] = None,
    period: Annotated[str | None, typer.Option(help=f"2026, 2026-03..2026-08 … ({DEFAULT_PERIOD})")] = None,
    township: Annotated[list[str] | None, typer.Option(help="township code or name (repeatable)")] = None,
    top: Annotated[int, typer.Option(min=1, help="emerging hot spots to list, most urgent first")] = 15,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write every cell, most urgent first, with "
                                                                       "its place and trend, to .gpkg or .geojson")]
    = None,
) -> None:
    """Emerging hot spots (new, intensifying, persistent, diminishing, sporadic, oscillating, historical…): where
    each is (township, village, centre), its incidents and its trend, most urgent first; the run is stored."""
    from gis_enforcement.analysis.hotspot_service import stored_run
    from gis_enforcement.analysis.trend_service import emerging_list, emerging_run

    _cell_output(output)
    try:
        start, end = _period(period)
        plat = open_platform()
        with out.status("emerging hot spots: space-time cube, Gi* per bin, Mann-Kendall…"), \
                plat.transaction() as session:
            township = _check_filters(session, plat.catalog, categories=category, townships=township)
            run_id, _, _ = emerging_run(session, cell=cell.value, resolution=resolution, size_m=size,
                                        distance_m=distance, unit=unit, width=width, time_step=time_step,
                                        fdr=fdr, categories=category or None, start=start, end=end,
                                        townships=township or None)
            run, cells = stored_run(session, run_id=run_id)
            listed = emerging_list(session, cells, locator=plat.locators.get(session))
    except EnforcementError as exc:
        fail(exc)
        return
    _print_emerging(run, listed, top)
    if output is not None:
        _write_cells(listed, output)
        out.print(f"wrote {len(listed):,} cells to {output}")


_SPARKS = "▁▂▃▄▅▆▇█"


def _sparkline(series: Any) -> str:
    """Counts per bin as a line of block characters, the highest bin full."""
    values = [float(v) for v in series]
    top = max(values, default=0.0)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, int(v / top * (len(_SPARKS) - 1) + 0.5))] if top else _SPARKS[0]
                   for v in values)


@hotspots_app.command("trends")
def hotspots_trends(
    period: Annotated[str | None, typer.Option(help=f"2026, 2026-03..2026-08 … ({DEFAULT_PERIOD})")] = None,
    township: Annotated[list[str] | None, typer.Option(help="township code or name (repeatable)")] = None,
    days: Annotated[int, typer.Option(help="bin width in days (7: weeks)", min=1, max=92)] = 7,
    top: Annotated[int, typer.Option(help="rows to print")] = 18,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="also write the table as CSV")] = None,
) -> None:
    """Which problem categories are rising or falling: each category's counts per week (or per --days) and
    their Mann-Kendall trend (z, p at 10 %), Sen's slope and the last quarter of the bins against the first."""
    from gis_enforcement.analysis.category_trend_service import category_trend_table
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.api.filter_codes import township_code

    if output is not None and output.suffix.lower() != ".csv":
        fail(InvalidInput(f"{output.name!r}: the table is written as CSV (a .csv file)", field="output"))
        return
    try:
        plat = open_platform()
        tz = plat.settings.timezone
        span = None if period is None else parse_period(period, tz=tz)
        with plat.transaction() as session:
            towns = [str(township_code(session, t)) for t in township or ()]
            table = category_trend_table(session, start=None if span is None else span.start,
                                         end=None if span is None else span.end, townships=towns or None,
                                         days=days, tz=tz)
    except EnforcementError as exc:
        fail(exc)
        return
    a = table.attrs
    left_out = (f"另 {a['left_out_categories']} 类（共 {a['left_out_incidents']:,} 起）少于 10 起，未分析 "
                f"{a['left_out_categories']} categories with fewer than 10 incidents "
                f"({a['left_out_incidents']:,}) not analysed") if a.get("left_out_categories") else ""
    window = _window_line(a)
    if window:  # no period asked for: say what was read, and what was left out
        left_out = "\n".join(v for v in (left_out, f"默认时段 default window: {window}") if v)
    if table.empty:
        out.print(f"no category has 10 or more incidents in the {a.get('n_bins', 0)} bins of {days} days analysed "
                  f"({a.get('incidents', 0):,} incidents binned)")
        if left_out:
            out.print(left_out)
        return
    catalog = plat.catalog
    unit = "周" if days == 7 else f"{days} 天"
    last = float(a.get("last_bin_days") or days)
    shape = (f"{a['n_bins']} bins of {days} days" if last == days else
             f"{a['n_bins']} bins of {days} days, the last {last:g} (its trend counted per {days} days)")
    title = (f"问题类别趋势 category trends: {a['bin_start'][:10]} — {a['bin_end'][:10]} (end exclusive), "
             f"{shape}, {a['incidents']:,} incidents")
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for col, right in (("类别", False), ("事件", True), ("趋势", False), ("z", True), ("p", True),
                       (f"斜率 /{unit}", True), ("末段比首段", True), ("逐段计数", False)):
        # a year of weeks is a long sparkline: folded onto more lines rather than cut with "…"
        t.add_column(col, justify="right" if right else "left", overflow="fold" if col == "逐段计数" else "ellipsis")
    words = {1: "[red]↑ 上升[/]", -1: "[green]↓ 下降[/]", 0: "— 无显著趋势"}
    for r in table.head(top).itertuples(index=False):
        name = catalog.categories[r.category].zh if r.category in catalog.categories else str(r.category)
        change = "—" if not math.isfinite(float(r.change)) else f"{float(r.change):+.0%}"
        t.add_row(f"{name} ({r.category})", f"{int(r.n):,}", words[int(r.trend)], f"{float(r.z):.2f}",
                  f"{float(r.p):.3f}", f"{float(r.slope):+.2f}", change, _sparkline(r.series))
    out.print(t)
    if len(table) > top:
        out.print(f"showing {top} of {len(table)} categories (--top)")
    if left_out:
        out.print(left_out)
    if output is not None:
        import pandas as pd

        frame = pd.DataFrame(table.drop(columns=["series"]))
        frame.insert(1, "name_zh", [catalog.categories[c].zh if c in catalog.categories else c
                                    for c in frame["category"]])
        frame["series"] = [";".join(str(int(v)) for v in s) for s in table["series"]]
        with written(output) as path:
            frame.to_csv(path, index=False, encoding="utf-8-sig")
        out.print(f"wrote {len(frame)} categories to {output}")


@hotspots_app.command("sites")
def hotspots_sites(
    eps: Annotated[float, typer.Option(help="DBSCAN radius in metres")] = 100.0,
    min_samples: Annotated[int, typer.Option(help="incidents that make a site")] = 3,
    days: Annotated[int, typer.Option(help="回头看: days after a closure to inspect again")] = 30,
    category: Annotated[list[str] | None, typer.Option(help="problem category (repeatable)")] = None,
    township: Annotated[list[str] | None, typer.Option(help="township code or name (repeatable)")] = None,
    top: Annotated[int, typer.Option(help="rows to print")] = 15,
) -> None:
    """Refresh the register of recurring sites (problems back after a closure) and print when to look again."""
    from gis_enforcement.analysis.trend_service import refresh_sites

    try:
        plat = open_platform()
        with out.status("recurring sites: DBSCAN per category…"), plat.transaction() as session:
            township = _check_filters(session, plat.catalog, categories=category, townships=township)
            locator = plat.locators.get(session)
            sites = refresh_sites(session, locator=locator, eps_m=eps, min_samples=min_samples,
                                  follow_up_days=days, categories=category or None, townships=township or None)
    except EnforcementError as exc:
        fail(exc)
        return
    outside = int(sites.attrs.get("outside_district", 0))
    if outside:
        out.print(f"[yellow]注意[/] {outside} incident(s) outside the district left out")
    if sites.empty:
        out.print("no site: no cluster of incidents at that radius")
        return
    import pandas as pd

    from gis_enforcement.analysis.recurring_sites import days_overdue, follow_up_reason_zh
    from gis_enforcement.domain.names import short_township

    recurring = sites[sites["n_recurrences"] > 0]
    shown = recurring.head(top)
    towns = locator.locate(shown["lon"].to_numpy(dtype=float), shown["lat"].to_numpy(dtype=float))["township_name"]
    today = datetime.now(ZoneInfo(plat.settings.timezone)).date()  # 回头看 dates are the district's days
    late = days_overdue(shown["follow_up_on"], today)
    table = Table(title=f"反复点位登记 recurring sites: {len(recurring):,} of {len(sites):,} sites",
                  box=box.SIMPLE_HEAD)
    for col in ("site", "类别", "乡镇", "村", "事件", "办结后复发", "上次办结", "回头看", "原因", "逾期"):
        table.add_column(col, justify="right" if col in ("事件", "办结后复发") else "left")
    for r, town, overdue in zip(shown.itertuples(index=False), towns, late, strict=True):
        closed = f"{r.last_closure:%Y-%m-%d}" if r.last_closure == r.last_closure else "—"
        due = f"{r.follow_up_on:%Y-%m-%d}" if r.follow_up_on == r.follow_up_on else "—"
        mark = ("—" if overdue is pd.NA else f"[red]逾期 {overdue} 天[/]" if overdue > 0 else "今天" if overdue == 0
                else f"{-overdue} 天后")
        table.add_row(str(r.site_id), str(r.kind), short_township(str(town)) if isinstance(town, str) else "—",
                      str(r.village_name or "—"), f"{r.n_incidents}", f"{r.n_recurrences}", closed, due,
                      follow_up_reason_zh(str(r.follow_up_reason), days), mark)
    out.print(table)
    if len(recurring) > len(shown):
        out.print(f"showing {len(shown):,} of {len(recurring):,} recurring sites (--top {top}; more with a larger "
                  "--top)")
    out.print(f"逾期 overdue: days past the 回头看 date as of {today:%Y-%m-%d} (district time)")
    out.print("办结后复发 came back: reports at the site after each closure there, every one counted — not the "
              "evaluation's 反弹预警 (W08: a closed case back twice within 30 days)")
