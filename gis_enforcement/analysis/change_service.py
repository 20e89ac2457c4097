"""What the hot-spot map shows beside a Gi* run, read from the store: how the hot spots change.

The latest emerging hot-spot run (``hotspots emerging``), the register of recurring sites (``hotspots sites``)
and the trend of every problem category over the stored incidents (:mod:`.category_trends`), as the keyword
arguments of :func:`gis_enforcement.mapping.hotspots_map.hotspots_map`. Whatever is missing — no emerging run
yet, no recurring site, too short a season for a trend — is simply left out, so the map still draws. Read-only;
the caller owns the transaction.
"""

from __future__ import annotations

import re
from typing import Any

from gis_enforcement.analysis.category_trends import category_trends
from gis_enforcement.domain.names import romanise_place
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, analysis_repo, layer_repo

__all__ = ["hotspot_map_layers"]


def _emerging_note(run: dict[str, Any], lang: str) -> str:
    """'run 7 · 2026-03 — 2026-08 · 6 个月' from an emerging run's stored summary and parameters."""
    starts = [str(s) for s in (run.get("summary") or {}).get("bin_starts", [])]
    parameters = run.get("parameters") or {}
    monthly = parameters.get("unit", "month") == "month"
    width = int(parameters.get("width") or 1)
    parts = [f"run {run['id']}"]
    if starts:
        cut = 7 if monthly else 10
        parts.append(f"{starts[0][:cut]} — {starts[-1][:cut]}")
        n = len(starts) * width
        if lang == "zh":
            parts.append(f"{n} 个月" if monthly else f"{n} 天")
        else:
            parts.append(f"{n} months" if monthly else f"{n} days")
    if parameters.get("categories"):
        parts.append(", ".join(parameters["categories"]))
    return " · ".join(parts)


def hotspot_map_layers(session: Session, *, lang: str = "zh", tz: str = "Asia/Shanghai",
                       townships: Any = None) -> dict[str, Any]:
    """``emerging`` (the cells of the latest emerging run, the run's id and parameters in ``attrs["run"]``) and
    ``emerging_note`` (its run id and period),
    ``sites`` (the recurring sites of the register, each with ``place``, its township's name in ``lang``) and
    ``trends`` (:func:`~.category_trends.category_trends` of the stored incidents in weeks of the district's
    time zone ``tz``), each only when there is something to show. ``townships`` is the township layer when the
    caller has read it already."""
    layers: dict[str, Any] = {}
    runs = [r for r in analysis_repo.hotspot_runs(session, limit=50) if r["kind"] == "emerging"]
    if runs:
        run, cells = analysis_repo.hotspot_run(session, run_id=int(runs[0]["id"]))
        if run is not None and len(cells):
            cells.attrs["run"] = {k: run.get(k) for k in ("id", "kind", "parameters")}  # the map names its filters
            layers["emerging"], layers["emerging_note"] = cells, _emerging_note(run, lang)
    sites = analysis_repo.recurring_sites(session)
    if len(sites):
        towns = townships if townships is not None else layer_repo.read_layers(session)["township"]
        short = {str(c): re.split(r"[（(]", str(n))[0] for c, n in zip(towns["code"], towns["name"], strict=True)}
        names = short if lang == "zh" else {c: romanise_place(n) for c, n in short.items()}
        layers["sites"] = sites.assign(place=sites["township_code"].astype(str).map(names))
    incidents = analysis_repo.incidents_frame(session)
    if len(incidents):
        try:
            layers["trends"] = category_trends(incidents["category"].to_numpy(),
                                               incidents["observed_at"].dt.tz_convert(tz))
        except InvalidInput:  # a season of less than four weeks has no trend to show
            pass
    return layers
