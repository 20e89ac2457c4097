"""Township seats (乡镇政府驻地): where a township's operations leave from. Read from the shipped layer."""

from __future__ import annotations

import json
from pathlib import Path

SEATS_FILE = "pinggu_township_seats_wgs84.geojson"


def load_seats(boundaries_dir: Path) -> dict[str, tuple[float, float]]:
    """Township code → (lon, lat) in WGS84 of its seat; empty when the layer is not there."""
    path = Path(boundaries_dir) / SEATS_FILE
    if not path.exists():
        return {}
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {str(f["properties"]["code"]): (float(f["geometry"]["coordinates"][0]),
                                           float(f["geometry"]["coordinates"][1])) for f in features}
