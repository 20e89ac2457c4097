"""Read a jurisdiction or zone layer (GeoJSON, GeoPackage, Shapefile) into a normalised GeoDataFrame.

Every layer comes out the same way whatever its source: EPSG:4326, a ``geometry`` column, a string ``code``
and a ``name`` (the source columns they came from are named in ``attrs["fields"]``), all other attributes
kept. Anything that makes a layer unusable — missing file, unreadable format, a code or name field that is
not there, empty codes or geometries — is refused with ``LayerInvalid`` naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_enforcement.errors import LayerInvalid

# Field names tried, in order and case-insensitively, when the caller names none. They cover this project's
# files, the Vonng/adcode dumps, OpenStreetMap extracts and the usual Chinese GIS attribute names
# (行政区代码 XZQDM / 行政区名称 XZQMC).
CODE_FIELDS = ("code", "code12", "adcode", "xzqdm", "xzqhdm", "gb", "ref")
NAME_FIELDS = ("name", "name_zh", "name:zh", "xzqmc", "mc")


def _pick_field(columns: list[str], wanted: str | None, candidates: tuple[str, ...], role: str,
                path: Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise LayerInvalid(
                f"{path.name}: no field '{wanted}' for the {role} (fields: {', '.join(columns) or 'none'})",
                field=f"{role}_field",
            )
        return wanted
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise LayerInvalid(
        f"{path.name}: cannot find a {role} field (tried {', '.join(candidates)}; fields: "
        f"{', '.join(columns) or 'none'}); name it with {role}_field=",
        field=f"{role}_field",
    )


def _as_code(values: pd.Series) -> pd.Series:
    """Codes as strings: integers stay integers (a Shapefile may store 110117001 as 110117001.0)."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and np.all(np.mod(whole.to_numpy(), 1) == 0):
            return values.map(lambda v: None if pd.isna(v) else str(int(v)))
    return values.map(lambda v: None if pd.isna(v) else str(v).strip())


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer with pyogrio, reproject it to EPSG:4326 and normalise ``code`` and ``name``.

    ``layer`` picks a layer inside a GeoPackage; ``code_field`` / ``name_field`` name the source columns
    (otherwise the first of ``CODE_FIELDS`` / ``NAME_FIELDS`` present is used). A layer without a CRS is
    taken as EPSG:4326 and a note says so in ``attrs["notes"]``. Raises ``LayerInvalid`` naming the file and
    the field when the file cannot be read or a field, code or geometry is missing.
    """
    path = Path(path)
    if not path.exists():
        raise LayerInvalid(f"{path}: file not found", field="file")
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises a family of DataSource/DataLayer errors; all mean "unreadable"
        raise LayerInvalid(f"{path.name}: cannot read layer: {exc}", field="file") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise LayerInvalid(f"{path.name}: no geometry column", field="geometry")
    notes: list[str] = []
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
        notes.append(f"{path.name}: no CRS declared; assumed EPSG:4326 (WGS84 lon/lat)")
    elif gdf.crs.to_epsg() != 4326:
        notes.append(f"{path.name}: reprojected from {gdf.crs.to_string()} to EPSG:4326")
        gdf = gdf.to_crs("EPSG:4326")
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")

    columns = [c for c in gdf.columns if c != "geometry"]
    code_src = _pick_field(columns, code_field, CODE_FIELDS, "code", path)
    name_src = _pick_field(columns, name_field, NAME_FIELDS, "name", path)
    code = _as_code(gdf[code_src])
    name = gdf[name_src].map(lambda v: None if pd.isna(v) else str(v).strip())
    for target, src in (("code", code_src), ("name", name_src)):
        if target in gdf.columns and src != target:
            gdf = gdf.rename(columns={target: f"{target}_source"})
    gdf = gdf.drop(columns=[c for c in {code_src, name_src} if c in gdf.columns])
    gdf.insert(0, "code", code.to_numpy(dtype=object))
    gdf.insert(1, "name", name.to_numpy(dtype=object))

    missing = gdf["code"].isna() | (gdf["code"] == "")
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())[:5].tolist()
        raise LayerInvalid(f"{path.name}: empty '{code_src}' in feature(s) {rows}", field=code_src)
    no_geom = gdf.geometry.isna() | gdf.geometry.is_empty
    if no_geom.any():
        codes = gdf.loc[no_geom, "code"].head(5).tolist()
        raise LayerInvalid(f"{path.name}: feature(s) {codes} have no geometry", field="geometry")
    gdf = gdf.reset_index(drop=True)
    gdf.attrs = {"source": str(path), "fields": {"code": code_src, "name": name_src}, "notes": notes}
    return gdf
