"""``gis-enforcement``: typer commands over the same services the API uses. Thin: parse, call, print."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gis_enforcement.errors import EnforcementError
from gis_enforcement.settings import Settings, get_settings

app = typer.Typer(help="吹哨报到 enforcement platform: layers, intake, locate, export, serve.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The project's own PostGIS cluster (used when DATABASE_URL is unset).",
                     no_args_is_help=True)
layers_app = typer.Typer(help="Jurisdiction and zone layers.", no_args_is_help=True)
export_app = typer.Typer(help="Write stored data to files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layers_app, name="layers")
app.add_typer(export_app, name="export")

# piped output (make, CI logs) gets a wide page rather than rich's 80-column default, so tables stay whole
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


class CRS(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"
    cgcs2000 = "cgcs2000"


class ExportFormat(StrEnum):
    geojson = "geojson"
    csv = "csv"
    gpkg = "gpkg"


def _settings() -> Settings:
    return get_settings()


def _fail(exc: EnforcementError) -> None:
    err.print(f"[bold red]error[/]: {exc}")
    raise typer.Exit(code=2)


def _platform():  # type: ignore[no-untyped-def]
    from gis_enforcement.admin.platform import Platform

    return Platform.open(_settings())


# -- db -------------------------------------------------------------------------------------------------------
@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the local cluster; print its URL."""
    from gis_enforcement.storage.engine import local_cluster

    try:
        out.print(local_cluster(_settings()).ensure_running())
    except EnforcementError as exc:
        _fail(exc)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local cluster (its data stays)."""
    from gis_enforcement.storage.engine import local_cluster

    stopped = local_cluster(_settings()).stop()
    out.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the local cluster exists and runs (or which DATABASE_URL is used instead)."""
    from gis_enforcement.storage.engine import local_cluster

    settings = _settings()
    if settings.database_url:
        out.print(f"using DATABASE_URL (the local cluster is not used): {settings.database_url}")
        return
    st = local_cluster(settings).status()
    state = "running" if st.running else ("stopped" if st.initialised else "not created")
    out.print(f"{state}  dir={st.directory}  pid={st.pid or '-'}")
    if not st.running:
        raise typer.Exit(code=1)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (starting the local cluster if needed)."""
    from gis_enforcement.storage.engine import resolve_database_url

    try:
        print(resolve_database_url(_settings()))
    except EnforcementError as exc:
        _fail(exc)


@app.command("migrate")
def migrate() -> None:
    """Bring the database schema up to date (alembic)."""
    try:
        _platform()
        out.print("schema up to date")
    except EnforcementError as exc:
        _fail(exc)


# -- layers ---------------------------------------------------------------------------------------------------
@layers_app.command("load")
def layers_load(
    directory: Annotated[Path | None, typer.Argument(help="folder with the layers (default: shipped)")] = None,
    district: Annotated[Path | None, typer.Option(help="district outline file")] = None,
    townships: Annotated[Path | None, typer.Option(help="township polygons (GeoJSON/GPKG/SHP)")] = None,
    villages: Annotated[Path | None, typer.Option(help="village points or polygons")] = None,
    zones: Annotated[Path | None, typer.Option(help="special zones")] = None,
    grid_size: Annotated[float | None, typer.Option(help="grid cell size in metres")] = None,
) -> None:
    """Validate layers and make them the stored jurisdiction (replacing what was there)."""
    from gis_enforcement.admin.layers import install_layers
    from gis_enforcement.layers.jurisdiction import load_jurisdiction

    settings = _settings()
    try:
        with out.status("reading and validating layers…"):
            j = load_jurisdiction(
                directory or settings.boundaries_dir, district=district, townships=townships,
                villages=villages, zones=zones, grid_size_m=grid_size or settings.grid_size_m,
            )
        platform = _platform()
        with out.status("writing layers to the database…"), platform.transaction() as session:
            load_id = install_layers(session, j, source={
                "directory": str(directory or settings.boundaries_dir),
                "files": {k: str(v) for k, v in
                          {"district": district, "townships": townships, "villages": villages, "zones": zones}.items()
                          if v},
            })
    except EnforcementError as exc:
        _fail(exc)
        return
    table = Table(title=f"layers loaded (load #{load_id})")
    for col in ("layer", "features"):
        table.add_column(col)
    for name, frame in (("district", j.district), ("townships", j.townships), ("villages", j.villages),
                        ("zones", j.zones), ("grid cells", j.grid)):
        table.add_row(name, str(len(frame)))
    out.print(table)
    for line in getattr(j.report, "lines", lambda: [])():
        out.print(f"  · {line}")


# -- locate ---------------------------------------------------------------------------------------------------
def _locator(layers: Path | None):  # type: ignore[no-untyped-def]
    from gis_enforcement.layers.jurisdiction import load_jurisdiction
    from gis_enforcement.layers.locator import Locator

    settings = _settings()
    if layers is None:
        try:
            platform = _platform()
            with platform.transaction() as session:
                return platform.locators.get(session)
        except EnforcementError as exc:
            err.print(f"[dim]note: {exc.message}; locating against the shipped layers in "
                      f"{settings.boundaries_dir}[/]")
            layers = settings.boundaries_dir
    return Locator.from_jurisdiction(load_jurisdiction(layers, grid_size_m=settings.grid_size_m),
                                     near_border_min_m=settings.near_border_min_m)


def _read_points(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """lon, lat, accuracy and a per-row error (None when the row is usable) from CSV or GeoJSON."""
    import pandas as pd

    if path.suffix.lower() in (".geojson", ".json"):
        feats = json.loads(path.read_text(encoding="utf-8"))
        feats = feats.get("features", [feats]) if isinstance(feats, dict) else feats
        rows = []
        for f in feats:
            g = (f or {}).get("geometry") or {}
            c = g.get("coordinates") if g.get("type") == "Point" else None
            acc = ((f or {}).get("properties") or {}).get("accuracy_m")
            rows.append((c[0], c[1], acc) if isinstance(c, list) and len(c) >= 2 else (None, None, None))
        frame = pd.DataFrame(rows, columns=["lon", "lat", "accuracy"])
    else:
        frame = pd.read_csv(path, dtype=str)
        frame.columns = [c.strip().lower() for c in frame.columns]
        if "accuracy" not in frame.columns:
            frame["accuracy"] = frame.get("accuracy_m")
    lon = pd.to_numeric(frame.get("lon"), errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame.get("lat"), errors="coerce").to_numpy(dtype=float)
    acc = pd.to_numeric(frame.get("accuracy"), errors="coerce").to_numpy(dtype=float)
    errors: list[str | None] = [None] * len(frame)
    for i in np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)):
        errors[i] = "lon/lat missing, not numbers, or out of range"
    return lon, lat, acc, errors


@app.command("locate")
def locate(
    lon: Annotated[float | None, typer.Argument(help="longitude")] = None,
    lat: Annotated[float | None, typer.Argument(help="latitude")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="CSV (lon,lat[,accuracy]) or GeoJSON")] = None,
    crs: Annotated[CRS, typer.Option(help="datum of the input coordinates")] = CRS.wgs84,
    accuracy: Annotated[float | None, typer.Option(help="GPS accuracy in metres")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    layers: Annotated[Path | None, typer.Option(help="locate against layers in this folder")] = None,
) -> None:
    """Place points in township, village, grid cell and zones, with border / outside-district flags."""
    from gis_enforcement.domain.datum import to_wgs84

    try:
        locator = _locator(layers)
        if file is None:
            if lon is None or lat is None:
                raise typer.BadParameter("give LON LAT or --file")
            x, y = to_wgs84(np.array([lon]), np.array([lat]), crs.value)
            placement = locator.locate_one(float(x[0]), float(y[0]), accuracy)
            if as_json:
                print(json.dumps(placement.to_dict(), ensure_ascii=False))
            else:
                _print_placement(placement.to_dict())
            return
        px, py, pacc, row_errors = _read_points(file)
        ok = np.array([e is None for e in row_errors], dtype=bool)
        x, y = to_wgs84(px[ok], py[ok], crs.value)
        if accuracy is not None:
            pacc = np.where(np.isfinite(pacc), pacc, accuracy)
        frame = locator.locate(x, y, pacc[ok])
        records = iter(frame.to_dict("records"))
        for e in row_errors:
            rec = {"error": e} if e is not None else _record(next(records))
            print(json.dumps(rec, ensure_ascii=False) if as_json else rec)
    except EnforcementError as exc:
        _fail(exc)


def _record(r: dict[str, Any]) -> dict[str, Any]:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v

    out_rec = {
        "lon": r["lon"], "lat": r["lat"], "township_code": r["township_code"], "township_name": r["township_name"],
        "village_code": r["village_code"], "village_name": r["village_name"],
        "village_distance_m": clean(r["village_distance_m"]), "grid_code": r["grid_code"],
        "zones": [z.to_dict() for z in r["zones"]], "flags": list(r["flags"]),
    }
    if r["border_townships"]:
        out_rec["border_townships"] = list(r["border_townships"])
    if r["nearest_township_code"] is not None:
        out_rec["nearest_township_code"] = r["nearest_township_code"]
        out_rec["nearest_township_distance_m"] = clean(r["nearest_township_distance_m"])
    return out_rec


def _print_placement(p: dict[str, Any]) -> None:
    table = Table(show_header=False)
    for k, v in p.items():
        table.add_row(k, json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else str(v))
    out.print(table)


# -- intake ---------------------------------------------------------------------------------------------------
@app.command("ingest")
def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON, CSV (UTF-8/GBK) or GPX file")],
    crs: Annotated[CRS, typer.Option(help="datum of rows that name none")] = CRS.wgs84,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    all_or_nothing: Annotated[bool, typer.Option(help="store nothing if any row is bad")] = False,
    reporter: Annotated[str | None, typer.Option(help="reporter for GPX waypoints")] = None,
) -> None:
    """Take a file of patrol submissions through intake; report per-row errors; never store a row twice."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gis_enforcement.patrol.intake import ingest
    from gis_enforcement.patrol.parse import read_intake_file

    try:
        platform = _platform()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err, transient=True, disable=as_json) as progress:
            task = progress.add_task(f"reading {file.name}")
            raw = read_intake_file(file, reporter=reporter)
            progress.update(task, description=f"checking, locating and storing {len(raw.frame):,} rows")
            with platform.transaction() as session:
                report = ingest(session, raw, locator=platform.locators.get(session), catalog=platform.catalog,
                                default_crs=crs.value, tz=platform.settings.timezone,
                                all_or_nothing=all_or_nothing)
    except EnforcementError as exc:
        _fail(exc)
        return
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        out.print(f"[bold]{file.name}[/]: {report.submitted:,} submitted, [green]{report.accepted:,} accepted[/], "
                  f"{report.already_stored:,} already stored, [red]{report.rejected:,} rejected[/], "
                  f"{report.likely_duplicates:,} likely duplicates")
        if report.accepted == 0 and report.already_stored and not report.rejected:
            out.print("nothing new: every row was already stored with the same content")
        for flag, n in sorted(report.flags.items()):
            out.print(f"  flag {flag}: {n:,}")
        for e in report.errors[:50]:
            out.print(f"  [red]row {e.row}[/] {e.field}: {e.reason}")
        if len(report.errors) > 50:
            out.print(f"  … and {len(report.errors) - 50:,} more errors (use --json for all)")
    if report.rejected:
        raise typer.Exit(code=1)


@export_app.command("incidents")
def export_incidents(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="output format")] = ExportFormat.geojson,
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")] = Path("incidents.geojson"),
) -> None:
    """Write every stored incident (with its placement and lead department) to a file."""
    from gis_enforcement.storage import incident_repo

    try:
        platform = _platform()
        with platform.transaction() as session:
            frame = incident_repo.incidents_frame(session)
    except EnforcementError as exc:
        _fail(exc)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    frame["observed_at"] = frame["observed_at"].astype(str)
    frame["received_at"] = frame["received_at"].astype(str)
    if fmt is ExportFormat.csv:
        frame.drop(columns="geometry").to_csv(output, index=False, encoding="utf-8")
    elif fmt is ExportFormat.gpkg:
        frame.to_file(output, driver="GPKG", layer="incidents")
    else:
        output.write_text(frame.to_json(ensure_ascii=False, drop_id=True), encoding="utf-8")
    out.print(f"wrote {len(frame):,} incidents to {output}")


@app.command("tick")
def tick_cmd(
    now: Annotated[str | None, typer.Option(help="ISO 8601 time to evaluate at (default: now)")] = None,
) -> None:
    """Escalation pass: raise the warnings due now (late, absent, overdue…), each once."""
    from datetime import datetime

    from gis_enforcement.dispatch.escalation import tick

    try:
        at = datetime.fromisoformat(now) if now else datetime.now().astimezone()
        if at.tzinfo is None:
            raise typer.BadParameter("give the time with its offset, e.g. 2026-05-12T23:40:00+08:00")
        platform = _platform()
        with platform.transaction() as session:
            raised = tick(session, catalog=platform.catalog, now=at)
    except ValueError as exc:
        err.print(f"[bold red]error[/]: now: {exc}")
        raise typer.Exit(code=2) from exc
    except EnforcementError as exc:
        _fail(exc)
        return
    if not raised:
        out.print("no new warnings")
        return
    table = Table(title=f"{len(raised)} new warning(s) (警示)")
    for col in ("rule", "level", "department", "case", "detail"):
        table.add_column(col)
    for w in raised:
        table.add_row(w["rule_code"], w["level"], w["subject_code"], str(w["incident_id"] or "—"),
                      json.dumps(w["detail"], ensure_ascii=False))
    out.print(table)


class EvaluateBy(StrEnum):
    department = "department"
    township = "township"


@app.command("evaluate")
def evaluate_cmd(
    period: Annotated[str, typer.Option(help="a year (2026), a month (2026-05) or START..END (2026-01..2026-06)")],
    by: Annotated[EvaluateBy, typer.Option(help="one row per department or per township")] = EvaluateBy.department,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="also write every column to .csv (or .xlsx)")] = None,
    monthly: Annotated[bool, typer.Option("--monthly", help="the departments' rank in each month instead")] = False,
    lang: Annotated[str, typer.Option(help="headers: zh or en")] = "zh",
) -> None:
    """Evaluation (效果可评价): whistles, report-in, resolution, warnings, penalties, duty performance, score."""
    from gis_enforcement.analysis.evaluate_service import evaluate, ranking_by_month
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.evaluation_table import render_table, report_frame

    if output is not None and output.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("write a .csv or an .xlsx file", param_hint="--output")
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    try:
        span = parse_period(period)
        platform = _platform()
        with platform.transaction() as session:
            if monthly:
                table = ranking_by_month(session, catalog=platform.catalog, start=span.start, end=span.end)
            else:
                table = evaluate(session, catalog=platform.catalog, start=span.start, end=span.end, by=by.value,
                                 label=span.label)
    except EnforcementError as exc:
        _fail(exc)
        return
    rows = render_table(table, lang)
    what = "月度排名" if monthly else "部门评价" if by is EvaluateBy.department else "乡镇评价"
    grid = Table(title=f"{what} {span.label}", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    unit = {"名称", "dept", "township"}  # month, rank and the unit left, figures right
    text_columns = next((i + 1 for i, h in enumerate(rows[0]) if h in unit), 0)
    for i, header in enumerate(rows[0]):
        grid.add_column(header, justify="left" if i < text_columns else "right", no_wrap=True)
    for r in rows[1:]:
        grid.add_row(*r)
    out.print(grid)
    if output is not None:
        frame = report_frame(table, lang)
        if output.suffix.lower() == ".xlsx":
            frame.to_excel(output, index=False, sheet_name=what)
        else:
            frame.to_csv(output, index=False, encoding="utf-8-sig")  # BOM: Excel opens the Chinese headers right
        out.print(f"wrote {len(frame):,} rows to {output}")


audit_app = typer.Typer(help="The tamper-evident case record.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    incident: Annotated[str | None, typer.Option(help="check one case (id); default: every case")] = None,
) -> None:
    """Recompute every case's hash chain; name the first broken event. Exit 1 when any record is broken."""
    from uuid import UUID

    from gis_enforcement.dispatch.record import verify_case_record
    from gis_enforcement.storage import dispatch_repo

    try:
        platform = _platform()
        with platform.transaction() as session:
            ids = [UUID(incident)] if incident else dispatch_repo.cases_with_events(session)
            broken = [(i, p) for i in ids if (p := verify_case_record(session, incident_id=i)) is not None]
    except ValueError as exc:
        err.print(f"[bold red]error[/]: incident: {exc}")
        raise typer.Exit(code=2) from exc
    except EnforcementError as exc:
        _fail(exc)
        return
    for case_id, problem in broken:
        out.print(f"[red]case {case_id}[/]: {problem}")
    out.print(f"{len(ids):,} case record(s) checked, {len(broken):,} broken")
    if broken:
        raise typer.Exit(code=1)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from gis_enforcement.api import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port)


@app.command("demo")
def demo(
    seed: Annotated[int, typer.Option(help="random seed")] = 2017,
    count: Annotated[int, typer.Option(help="incidents in the simulated season")] = 3000,
) -> None:
    """Load the shipped layers, simulate a patrol season, ingest it, print a summary and write a map."""
    from gis_enforcement.demo.run import run_demo

    try:
        run_demo(_settings(), seed=seed, count=count, console=out)
    except EnforcementError as exc:
        _fail(exc)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)


if __name__ == "__main__":
    main()
