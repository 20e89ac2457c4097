"""Township labels in Chinese or English: a ``name_en`` column where the layer has one, else the pinyin."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest

from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.features import township_collection, township_names


@pytest.fixture(scope="module")
def towns() -> gpd.GeoDataFrame:
    return load_jurisdiction().townships


def test_chinese_by_default_short_names(towns) -> None:
    names = township_names(towns)
    assert "平谷镇" in names and "金海湖镇" in names and "熊儿寨乡" in names
    collection, labels = township_collection(towns, {}, "")
    assert [lab[2] for lab in labels] == names
    assert {f["properties"].get("name") for f in collection["features"]} >= set(towns["name"])  # full names kept


def test_english_romanised_with_the_administrative_word_small(towns) -> None:
    names = township_names(towns, "en")
    assert "Pinggu Town" in names and "Binhe Subdistrict" in names and "Nandulehe Town" in names
    collection, labels = township_collection(towns, {}, "", lang="en")
    assert "Jinhaihu<small>Town</small>" in [lab[2] for lab in labels]
    assert "Jinhaihu Town" in {f["properties"].get("name") for f in collection["features"]}
    _, counted = township_collection(towns, {"金海湖镇(金海湖地区)": 12}, "incidents", lang="en")
    assert "Jinhaihu<small>Town · 12 incidents</small>" in [lab[2] for lab in counted]


def test_a_name_en_column_wins_where_given(towns) -> None:
    t = towns.copy()
    t["name_en"] = None
    t.loc[t["name"].str.startswith("金海湖"), "name_en"] = "Jinhai Lake Town"
    names = township_names(t, "en")
    assert "Jinhai Lake Town" in names and "Jinhaihu Town" not in names and "Mafang Town" in names
    _, labels = township_collection(t, {}, "", lang="en")
    assert "Jinhai Lake<small>Town</small>" in [lab[2] for lab in labels]
    assert "金海湖镇" in township_names(t)  # Chinese pages keep the Chinese name


def _labels(page: str) -> list[str]:
    found = re.search(r"var labels = (\[.*?\])\.map", page)
    assert found
    return [lab[2] for lab in json.loads(found.group(1))]


def test_every_map_builder_passes_its_language(towns, tmp_path) -> None:
    from gis_enforcement.mapping.dispatch_map import write_dispatch_map
    from gis_enforcement.mapping.townships_map import write_townships_map
    from tests.mapping.test_dispatch_map import WHISTLE, assignments
    from tests.mapping.test_townships_map import _values

    page = write_townships_map(tmp_path / "t.html", towns, _values(towns), metric="incidents_per_km2",
                               lang="en").read_text("utf-8")
    assert "Jinhaihu<small>Town</small><small>" in " ".join(_labels(page)) and "金海湖" not in page
    case = {"id": "c1", "lon": 117.1640, "lat": 40.1480, "category": "MIN-02", "name": "x"}
    page = write_dispatch_map(tmp_path / "d.html", case, assignments(), towns, geofence_m=500.0, lang="en",
                              now=WHISTLE.to_pydatetime()).read_text("utf-8")
    assert "Jinhaihu<small>Town</small>" in _labels(page) and "金海湖" not in page
