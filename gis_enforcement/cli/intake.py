"""Layers, locating points, intake of patrol files and exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from gis_enforcement.cli.common import (
    CRS,
    ExportFormat,
    app,
    district_tz,
    err,
    export_app,
    fail,
    layers_app,
    load_settings,
    open_platform,
    out,
    written,
)
from gis_enforcement.errors import EnforcementError, InvalidInput

if TYPE_CHECKING:
    from datetime import datetime


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

    settings = load_settings()
    try:
        with out.status("reading and validating layers…"):
            j = load_jurisdiction(
                directory or settings.boundaries_dir, district=district, townships=townships,
                villages=villages, zones=zones, grid_size_m=grid_size or settings.grid_size_m,
            )
        platform = open_platform()
        with out.status("writing layers to the database…"), platform.transaction() as session:
            load_id = install_layers(session, j, source={
                "directory": str(directory or settings.boundaries_dir),
                "files": {k: str(v) for k, v in
                          {"district": district, "townships": townships, "villages": villages, "zones": zones}.items()
                          if v},
            })
    except EnforcementError as exc:
        fail(exc)
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


@layers_app.command("townships")
def layers_townships(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (code, name, short_name) instead of a table")]
    = False,
) -> None:
    """The townships of the loaded layers: the codes and names every --township option and township filter
    takes (the code, the name as stored or the short name)."""
    from gis_enforcement.analysis.townships import township_list

    try:
        platform = open_platform()
        with platform.transaction() as session:
            towns = township_list(session)
    except EnforcementError as exc:
        fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(towns, ensure_ascii=False, indent=1))
        return
    if not towns:
        out.print("no township: load the layers first (`gis-enforcement layers load`)")
        return
    table = Table(title=f"乡镇街道 townships ({len(towns)})")
    for col in ("code", "名称 name", "简称 short name"):
        table.add_column(col)
    for t in towns:
        table.add_row(t["code"], escape(t["name"]), escape(t["short_name"]))
    out.print(table)


# -- locate ---------------------------------------------------------------------------------------------------
def _locator(layers: Path | None):  # type: ignore[no-untyped-def]
    from gis_enforcement.layers.jurisdiction import load_jurisdiction
    from gis_enforcement.layers.locator import Locator

    settings = load_settings()
    if layers is None:
        try:
            platform = open_platform()
            with platform.transaction() as session:
                return platform.locators.get(session)
        except EnforcementError as exc:
            err.print(f"[dim]note: {exc.message}; locating against the shipped layers in "
                      f"{settings.boundaries_dir}[/]")
            layers = settings.boundaries_dir
    return Locator.from_jurisdiction(load_jurisdiction(layers, grid_size_m=settings.grid_size_m),
                                     near_border_min_m=settings.near_border_min_m)


def _read_points(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """lon, lat, accuracy and a per-row error (None when the row is usable) from CSV or GeoJSON. A row's error
    names each field at fault and why; a file without lon/lat columns is refused whole."""
    import io

    import pandas as pd

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from exc
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            feats = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path.name} is not valid JSON: {exc}", field="file") from exc
        feats = feats.get("features", [feats]) if isinstance(feats, dict) else feats
        if not isinstance(feats, list):
            raise InvalidInput(f"{path.name}: not a GeoJSON Feature, FeatureCollection or list of Features",
                               field="file")
        rows: list[tuple[Any, Any, Any, str | None]] = []
        for f in feats:
            g = (f.get("geometry") or {}) if isinstance(f, dict) else {}
            c = g.get("coordinates") if isinstance(g, dict) and g.get("type") == "Point" else None
            props = (f.get("properties") or {}) if isinstance(f, dict) else {}
            acc = props.get("accuracy_m") if isinstance(props, dict) else None
            if isinstance(c, list) and len(c) >= 2:
                rows.append((c[0], c[1], acc, None))
            else:
                rows.append((None, None, None, "geometry: not a Point with [lon, lat]"))
        frame = pd.DataFrame(rows, columns=["lon", "lat", "accuracy", "geometry"], dtype=object)
    else:
        from gis_enforcement.patrol.parse import decode_csv

        utf8, _ = decode_csv(data)  # UTF-8 or GBK, as intake reads a CSV
        try:
            frame = pd.read_csv(io.BytesIO(utf8), dtype=str, keep_default_na=False, encoding="utf-8")
        except pd.errors.EmptyDataError as exc:
            raise InvalidInput(f"{path.name}: the CSV file is empty", field="file") from exc
        except pd.errors.ParserError as exc:
            raise InvalidInput(f"{path.name}: cannot read the CSV file: {exc}", field="file") from exc
        frame.columns = [c.strip().lower() for c in frame.columns]
        missing = [c for c in ("lon", "lat") if c not in frame.columns]
        if missing:
            raise InvalidInput(f"{path.name}: no {' or '.join(missing)} column (CSV columns lon,lat[,accuracy])",
                               field=missing[0])
        if "accuracy" not in frame.columns:
            frame["accuracy"] = frame.get("accuracy_m", "")
        frame["geometry"] = None
    lon, lon_bad = _point_numbers(frame["lon"], "lon", limit=180.0)
    lat, lat_bad = _point_numbers(frame["lat"], "lat", limit=90.0)
    acc, acc_bad = _point_numbers(frame["accuracy"], "accuracy", limit=None)
    shape = frame["geometry"].to_numpy(dtype=object)
    errors: list[str | None] = [None] * len(frame)
    for i in {*lon_bad, *lat_bad, *acc_bad, *np.flatnonzero(pd.notna(shape)).tolist()}:
        found = [shape[i]] if pd.notna(shape[i]) else [r[i] for r in (lon_bad, lat_bad, acc_bad) if i in r]
        errors[i] = "; ".join(found)
    return lon, lat, acc, errors


def _point_numbers(values: Any, name: str, *, limit: float | None) -> tuple[np.ndarray, dict[int, str]]:
    """The numbers of one column of ``locate --file`` (NaN where unusable or absent) and, by row, why a value
    is refused: a coordinate (``limit`` its largest magnitude) is required; an accuracy may be left out but must
    be a non-negative number of metres when given. Vectorised; only refused rows get a message."""
    import pandas as pd

    text = pd.Series(values, dtype=object).astype("string").str.strip()
    given = (text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)
    numbers = pd.to_numeric(text.where(given).astype(object), errors="coerce").to_numpy(dtype=float,
                                                                                       na_value=np.nan)
    finite = np.isfinite(numbers)
    reasons: dict[int, str] = {}
    with np.errstate(invalid="ignore"):
        checks = [(given & ~finite, lambda i: f"not a finite number ({text.iat[i]!r})")]
        if limit is not None:
            checks += [(~given, lambda i: "missing"),
                       (finite & (np.abs(numbers) > limit), lambda i: f"outside [-{limit:g}, {limit:g}] "
                                                                      f"({numbers[i]:g})")]
        else:
            checks += [(finite & (numbers < 0), lambda i: f"must be a non-negative number of metres "
                                                          f"({numbers[i]:g})")]
    for mask, reason in checks:
        for i in np.flatnonzero(mask).tolist():
            reasons[i] = f"{name}: {reason(i)}"
    bad = np.zeros(len(numbers), dtype=bool)
    bad[list(reasons)] = True
    return np.where(bad, np.nan, numbers), reasons


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
        for n, e in enumerate(row_errors, start=1):
            rec = {"error": e} if e is not None else _record(next(records))
            if as_json:
                print(json.dumps(rec, ensure_ascii=False))
            else:
                out.print(f"point {n}: {_placement_line(rec)}", highlight=False)
    except EnforcementError as exc:
        fail(exc)


def _placement_line(rec: dict[str, Any]) -> str:
    """One located point (or its error) as a line a person reads, in rich markup: township, village, grid
    cell, zones, flags."""
    if "error" in rec:
        return f"[red]error[/]: {escape(rec['error'])}"
    if rec["township_code"] is None:
        parts = ["outside the district"]
        if rec.get("nearest_township_code"):
            away = rec["nearest_township_distance_m"] or 0.0
            far = f"{away / 1000:,.0f} km" if away >= 10_000 else f"{away:,.0f} m"
            parts[0] += f", {far} from {rec['nearest_township_code']}"
    else:
        parts = [f"{rec['township_name']} {rec['township_code']}"]
        if rec["village_code"]:
            away = rec["village_distance_m"]
            parts.append(f"{rec['village_name']}" + (f" ({away:,.0f} m)" if away else ""))
        if rec["grid_code"]:
            parts.append(f"grid {rec['grid_code']}")
    if rec["zones"]:
        parts.append("zones: " + ", ".join(f"{z['name']} ({z['kind']})" for z in rec["zones"]))
    line = " · ".join(escape(p) for p in parts)
    if rec["flags"]:
        towns = f" ({', '.join(rec['border_townships'])})" if rec.get("border_townships") else ""
        line += " · [yellow]" + escape(", ".join(rec["flags"]) + towns) + "[/]"
    return f"{rec['lon']:.6f}, {rec['lat']:.6f} → {line}"


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
#: what the ingest progress line says for each stage of ``patrol.intake.ingest``
_STAGE_TEXT = {"validating": "validating", "checking ids": "checking the ids of", "locating": "locating",
               "duplicates": "looking for likely duplicates and recurrences among"}


@app.command("ingest")
def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON, CSV (UTF-8/GBK) or GPX file")],
    crs: Annotated[CRS, typer.Option(help="datum of rows that name none")] = CRS.wgs84,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    all_or_nothing: Annotated[bool, typer.Option(help="store nothing if any row is bad")] = False,
    reporter: Annotated[str | None, typer.Option(help="reporter for GPX waypoints")] = None,
    rebuild_indexes: Annotated[bool | None, typer.Option(
        "--rebuild-indexes/--fill-indexes",
        help="write by dropping the incident table's secondary indexes and building them again (fast for a "
             "load as large as what is stored; the table is locked until done), or fill them row by row "
             "(readers go on); default: rebuild for 100,000 new rows or more, when no fewer are stored")] = None,
) -> None:
    """Take a file of patrol submissions through intake; report per-row errors; never store a row twice."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from gis_enforcement.patrol.intake import ingest
    from gis_enforcement.patrol.parse import read_intake_file

    try:
        platform = open_platform()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=as_json) as progress:
            task = progress.add_task(f"reading {file.name}", total=None)

            def show(stage: str, done: int, total: int) -> None:
                if stage == "writing":
                    progress.update(task, description=f"writing {done:,} of {total:,} new rows",
                                    completed=done, total=total)
                elif stage == "indexing":
                    progress.update(task, description=f"building the table's indexes again ({done} of {total})",
                                    completed=done, total=total)
                else:
                    progress.update(task, description=f"{_STAGE_TEXT.get(stage, stage)} {total:,} rows", total=None)

            raw = read_intake_file(file, reporter=reporter)
            with platform.transaction() as session:
                report = ingest(session, raw, locator=platform.locators.get(session), catalog=platform.catalog,
                                default_crs=crs.value, tz=platform.settings.timezone,
                                all_or_nothing=all_or_nothing, progress=show, rebuild_indexes=rebuild_indexes)
                progress.update(task, description="committing", total=None)
    except EnforcementError as exc:
        fail(exc)
        return
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        out.print(f"[bold]{escape(file.name)}[/]: {report.submitted:,} submitted, "
                  f"[green]{report.accepted:,} accepted[/], "
                  f"{report.already_stored:,} already stored, [red]{report.rejected:,} rejected[/], "
                  + (f"{report.repeated:,} repeated in the file, " if report.repeated else "") +
                  f"{report.likely_duplicates:,} likely duplicates")
        if report.accepted == 0 and report.already_stored and not report.rejected:
            out.print("nothing new: every row was already stored with the same content")
        for flag, n in sorted(report.flags.items()):
            out.print(f"  flag {flag}: {n:,}")
        for e in report.errors[:50]:
            out.print(f"  [red]row {e.row}[/] {escape(str(e.field))}: {escape(e.reason)}")
        if len(report.errors) > 50:
            out.print(f"  … and {len(report.errors) - 50:,} more errors (use --json for all)")
    if report.rejected:
        raise typer.Exit(code=1)


def _observed_window(period: str | None, when: str | None, *, zone: str) -> tuple[datetime | None, datetime | None]:
    """The window [start, end) of observation times ``export incidents`` keeps, from --period (the evaluation's
    syntax) or --datetime (the API's ``datetime=``); (None, None) when neither is given. One syntax typed into
    the other's option is refused, saying which option takes it."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.api.ogc_params import parse_datetime

    if period is not None and when is not None:
        raise InvalidInput("give --period or --datetime, not both: each says when the incidents were observed",
                           field="datetime")
    if period is not None:
        try:
            span = parse_period(period, tz=zone)
        except InvalidInput as exc:
            if "/" not in period:
                raise
            raise InvalidInput(f"{exc.message} (START/END is the API's syntax: give it as --datetime)",
                               field="period") from None
        return span.start, span.end
    try:
        return parse_datetime(when, tz=zone)
    except InvalidInput as exc:
        try:
            parse_period(str(when), tz=zone)
        except InvalidInput:
            raise exc from None
        raise InvalidInput(f"{exc.message}; {when!r} is a period: give it as --period", field="datetime") from None


@export_app.command("incidents")
def export_incidents(
    fmt: Annotated[ExportFormat | None, typer.Option(
        "--format", help="output format (default: the one the file's suffix names, else geojson)")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="file to write (default: incidents.<format>)")] = None,
    period: Annotated[str | None, typer.Option(
        help="observed in: 2026, 2026-05, 2026-W33, 2026-05-12 or START..END (district time)")] = None,
    when: Annotated[str | None, typer.Option(
        "--datetime", help="observed at, as the API's datetime= says it: an RFC 3339 instant or START/END, '..' "
        "(or nothing) for an open end, e.g. 2026-05-01/2026-05-31 or 2026-05-12T20:00:00+08:00/..; a date alone is "
        "its whole day and a time without offset district time (instead of --period)")] = None,
    category: Annotated[str | None, typer.Option(help="a problem-list code, e.g. MIN-02")] = None,
    township: Annotated[str | None, typer.Option(help="a township code or name (平谷镇)")] = None,
    status: Annotated[str | None, typer.Option(help="a case status, e.g. closed")] = None,
    department: Annotated[str | None, typer.Option(help="cases this department was summoned to, e.g. WATER")] = None,
) -> None:
    """Write the stored incidents to a file — their placement, lead department and each case's course (when
    whistled, resolved and closed, the departments summoned, the lead on time or not), the lists' names beside
    the codes: GeoJSON, CSV (with a byte-order mark, for Excel) or GeoPackage — the same file
    ``GET /api/v1/exports/incidents.{format}`` gives, filtered as it is by ``datetime`` (--datetime, in the
    API's own syntax, or --period in the evaluation's), ``category``, ``township``, ``status`` and
    ``department`` (every incident when none is given). The format is the one the file's suffix names
    (.geojson/.json, .csv, .gpkg) unless --format says it; a --format that another suffix contradicts is
    refused; a filter that names nothing, a time that does not parse, or --period and --datetime together, is
    refused under its option."""
    from gis_enforcement.api.filter_codes import check_category, check_department, check_status, township_code
    from gis_enforcement.operations.exports import export_target, write_export
    from gis_enforcement.storage import incident_repo

    try:
        chosen, output = export_target(None if fmt is None else fmt.value, output)
        platform = open_platform()
        start, end = _observed_window(period, when, zone=platform.settings.timezone)
        check_category(platform.catalog, category)
        check_status(status)
        check_department(platform.catalog, department)
        with platform.transaction() as session:
            filters = incident_repo.IncidentFilter(
                category=category, township=township_code(session, township), status=status, department=department,
                observed_from=start, observed_to=end)
            frame = incident_repo.incidents_frame(session, filters=filters, outcome=True)
    except EnforcementError as exc:
        fail(exc)
        return
    with written(output) as path:
        write_export(frame, chosen, path, zone=platform.settings.timezone, catalog=platform.catalog)
    out.print(f"wrote {len(frame):,} incidents to {output}")


@export_app.command("parquet")
def export_parquet(
    directory: Annotated[Path, typer.Argument(help="the dataset directory (one month=YYYY-MM/ folder per month)")],
    period: Annotated[str | None, typer.Option(help="2026, 2026-05 or START..END (default: everything)")] = None,
) -> None:
    """Export incidents as a GeoParquet dataset partitioned by month, for analysis on a dask cluster: the set
    the analyses read — likely duplicates, duplicates and rejected reports left out (``export incidents`` writes
    every stored incident)."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.storage.parquet_export import export_incidents_geoparquet

    try:
        start = end = None
        if period:
            span = parse_period(period, tz=district_tz())
            start, end = span.start, span.end
        plat = open_platform()
        with out.status("exporting month by month…"), plat.transaction() as session:
            report = export_incidents_geoparquet(session, directory=directory, start=start, end=end)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"wrote {report.rows:,} incidents in {len(report.months)} month(s), {report.bytes / 1e6:.1f} MB, "
              f"to {directory} — the analysis set: likely duplicates, duplicates and rejected reports left out")
