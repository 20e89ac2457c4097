"""The township choropleth: every township once in its class colour, mapclassify's breaks, legend counts,
no-data townships, English labels, offline, bad input refused; and the metrics frame it is drawn from."""

from __future__ import annotations

import re

import mapclassify
import numpy as np
import pandas as pd
import pytest

from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.townships_map import (
    NO_DATA_COLOR,
    classify,
    township_metrics,
    write_townships_map,
)
from tests.mapping.test_incidents_map import embedded_layers


@pytest.fixture(scope="module")
def towns():
    return load_jurisdiction().townships


def _values(towns, seed: int = 5) -> pd.DataFrame:
    # well-separated groups, so natural breaks (k-means) lands on the same classes every run
    rng = np.random.default_rng(seed)
    centres = np.resize([1.0, 5.0, 12.0, 30.0, 80.0], len(towns))
    return pd.DataFrame({"township_code": towns["code"].astype(str),
                         "incidents_per_km2": centres + rng.uniform(0, 0.5, len(towns)),
                         "resolution_rate": rng.uniform(0.4, 1.0, len(towns)),
                         "patrols": rng.integers(0, 50, len(towns))})


def _choropleth(page: str) -> list[dict]:
    layer = next(x for x in embedded_layers(page) if x["features"] and "cls" in x["features"][0]["properties"])
    return layer["features"]


def _legend_counts(page: str) -> dict[str, int]:
    legend = page[page.index("gise-choro"):]
    return {name: int(n.replace(",", "")) for name, n in
            re.findall(r'<span class="name">([^<]*)</span><span class="n">([\d,]+)</span>', legend)}


def test_every_township_once_in_its_class_colour_with_mapclassify_breaks(towns, tmp_path) -> None:
    values = _values(towns)
    page = write_townships_map(tmp_path / "t.html", towns, values, metric="incidents_per_km2",
                               subtitle="2024 H1").read_text("utf-8")
    features = _choropleth(page)
    assert sorted(f["properties"]["code"] for f in features) == sorted(towns["code"].astype(str))
    expected = mapclassify.FisherJenks(values["incidents_per_km2"].to_numpy(), k=5)
    by_code = dict(zip(values["township_code"], expected.yb, strict=True))
    colors = {}
    for f in features:
        p = f["properties"]
        assert p["cls"] == by_code[p["code"]]
        assert p["value"] == pytest.approx(float(values.set_index("township_code").at[p["code"],
                                                                                    "incidents_per_km2"]))
        colors.setdefault(p["cls"], p["color"])
        assert colors[p["cls"]] == p["color"]  # one colour per class
    assert len(set(colors.values())) == 5
    assert classify(values["incidents_per_km2"], k=5).bins == pytest.approx(expected.bins)
    counts = _legend_counts(page)
    assert sum(counts.values()) == len(towns)
    assert sorted(counts.values()) == sorted(np.bincount(expected.yb).tolist())
    assert "事件密度" in page and "起/km²" in page and "2024 H1" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # offline: nothing fetched
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, re.I)
    assert "Leaflet 1.9" in page


def test_quantiles_rates_as_percent_and_no_data(towns, tmp_path) -> None:
    values = _values(towns)
    values.loc[values.index[:2], "resolution_rate"] = np.nan
    values = values.iloc[:-1]  # and one township missing from the table altogether
    page = write_townships_map(tmp_path / "q.html", towns, values, metric="resolution_rate",
                               scheme="quantiles", k=4).read_text("utf-8")
    features = _choropleth(page)
    missing = {f["properties"]["code"] for f in features if f["properties"]["cls"] is None}
    assert missing == {*values["township_code"].iloc[:2], str(towns["code"].iloc[-1])}
    assert all(f["properties"]["color"] == NO_DATA_COLOR and f["properties"]["value"] is None
               for f in features if f["properties"]["cls"] is None)
    counts = _legend_counts(page)
    assert counts.pop("无数据") == 3
    assert sum(counts.values()) == len(towns) - 3
    expected = mapclassify.Quantiles(values["resolution_rate"].dropna().to_numpy(), k=4)
    assert sorted(counts.values()) == sorted(np.bincount(expected.yb).tolist())
    assert all(re.fullmatch(r"\d+\.\d% – \d+\.\d%", name) for name in counts)
    assert "解决率" in page


def test_english_labels_and_any_numeric_column(towns, tmp_path) -> None:
    values = _values(towns)
    values.loc[values.index[0], "resolution_rate"] = np.nan
    page = write_townships_map(tmp_path / "e.html", towns, values, metric="resolution_rate",
                               lang="en").read_text("utf-8")
    assert "Pinggu townships — Resolution rate" in page and "No data" in page
    assert "无数据" not in page
    page = write_townships_map(tmp_path / "p.html", towns, values, metric="patrols", k=3,
                               title="巡查次数").read_text("utf-8")
    assert {f["properties"]["cls"] for f in _choropleth(page)} == {0, 1, 2}
    assert "巡查次数" in page


def test_fewer_classes_than_asked_when_few_distinct_values(towns, tmp_path) -> None:
    values = _values(towns).assign(incidents_per_km2=np.resize([1.0, 2.0], len(towns)))
    page = write_townships_map(tmp_path / "f.html", towns, values, metric="incidents_per_km2",
                               k=5).read_text("utf-8")
    assert {f["properties"]["cls"] for f in _choropleth(page)} == {0, 1}
    assert sorted(_legend_counts(page).values()) == [9, 9]


@pytest.mark.parametrize("kw", [{"metric": "nope"}, {"metric": "township_code"},
                                {"metric": "resolution_rate", "scheme": "jenks"},
                                {"metric": "resolution_rate", "k": 0},
                                {"metric": "resolution_rate", "lang": "fr"}])
def test_bad_input_is_refused_and_nothing_written(towns, tmp_path, kw) -> None:
    with pytest.raises(InvalidInput):
        write_townships_map(tmp_path / "x.html", towns, _values(towns), **kw)
    assert not (tmp_path / "x.html").exists()


def test_township_metrics(towns) -> None:
    codes = towns["code"].astype(str).tolist()
    incidents = pd.DataFrame({"township_code": [codes[0]] * 6 + [codes[1]] * 2 + [None]})
    evaluation = pd.DataFrame({"township_code": codes[:3], "resolution_rate": [0.5, 1.0, None],
                               "on_time_rate": [0.1, 0.2, 0.3]})
    on_time = pd.DataFrame({"township_code": [codes[0]], "on_time_rate": [0.9]})
    out = township_metrics(towns, incidents, evaluation, on_time)
    assert out["township_code"].tolist() == codes
    area = towns.to_crs(4548).geometry.area.to_numpy() / 1e6
    assert out["area_km2"].to_numpy() == pytest.approx(area)
    assert out["incidents"].tolist()[:3] == [6, 2, 0] and out["incidents"].sum() == 8
    assert out["incidents_per_km2"].iloc[0] == pytest.approx(6 / area[0])
    assert out["resolution_rate"].iloc[:2].tolist() == [0.5, 1.0]
    assert out["resolution_rate"].iloc[2:].isna().all()
    assert out["on_time_rate"].iloc[0] == 0.9 and out["on_time_rate"].iloc[1:].isna().all()
    # without a separate table the evaluation table's own on-time rate is used
    assert township_metrics(towns, incidents, evaluation)["on_time_rate"].iloc[:3].tolist() == [0.1, 0.2, 0.3]
    assert township_metrics(towns, None)["incidents"].sum() == 0


def test_no_township_with_a_value_is_still_a_map(tmp_path) -> None:
    import pandas as pd

    from gis_enforcement.layers.jurisdiction import load_jurisdiction
    from gis_enforcement.mapping.townships_map import write_townships_map

    towns = load_jurisdiction().townships
    values = pd.DataFrame({"township_code": towns["code"], "resolution_rate": float("nan")})
    page = write_townships_map(tmp_path / "t.html", towns, values, metric="resolution_rate").read_text("utf-8")
    assert "无数据" in page


def _rank_rows(page: str) -> list[tuple[str, str, str, str]]:
    box = page[page.index('gise-box gise-legend gise-rank'):]
    return re.findall(r'<span class="k">([^<]*)</span><span class="dot"[^>]*></span><span class="name">([^<]*)'
                      r'</span><span class="n">([^<]*)</span>(?:<span class="c">([^<]*)</span>)?', box)


def test_rates_show_their_n_and_small_samples_are_pale_and_ranked_after(towns, tmp_path) -> None:
    codes = towns["code"].astype(str).tolist()
    rate = np.resize([0.9, 0.8, 0.7, 0.6], len(codes)).astype(float)
    n = np.full(len(codes), 50)
    rate[:2], n[:2] = 1.0, [9, 4]           # 100 % on 9 (ranked first) and on 4 (样本少: after every ranked one)
    values = pd.DataFrame({"township_code": codes, "on_time_rate": rate, "on_time_rate_n": n})
    page = write_townships_map(tmp_path / "n.html", towns, values, metric="on_time_rate").read_text("utf-8")
    props = {f["properties"]["code"]: f["properties"] for f in _choropleth(page)}
    assert (props[codes[0]]["n"], props[codes[0]]["few"]) == (9, False)
    assert (props[codes[1]]["n"], props[codes[1]]["few"]) == (4, True)
    rows = _rank_rows(page)
    assert len(rows) == len(codes)
    assert rows[0][0] == "1" and rows[0][2:] == ("100.0%", "n=9")
    assert rows[-1][0] == "样本少" and rows[-1][2:] == ("100.0%", "n=4")
    assert all(r[0] != "样本少" for r in rows[:-1]) and all(r[3] for r in rows)
    assert "100.0% · n=9" in page and "样本少（n &lt; 5）：浅色，不排名" in page
    # ties share the better rank
    assert sorted({r[0] for r in rows if r[2] == "90.0%"}) == [min((r[0] for r in rows if r[2] == "90.0%"), key=int)]
    # without an n column nothing is marked
    plain = write_townships_map(tmp_path / "p.html", towns, values.drop(columns="on_time_rate_n"),
                                metric="on_time_rate").read_text("utf-8")
    assert "样本少（n" not in plain and 'class="row few"' not in plain
    assert all(f["properties"]["n"] is None for f in _choropleth(plain))


def test_a_class_of_one_value_reads_as_that_value_and_classes_do_not_overlap(towns, tmp_path) -> None:
    rate = np.resize([0.80, 0.85, 0.90, 0.95, 1.0], len(towns)).astype(float)
    rate[0] = 0.66  # alone at the bottom: natural breaks gives it a class of its own
    values = pd.DataFrame({"township_code": towns["code"].astype(str), "on_time_rate": rate})
    page = write_townships_map(tmp_path / "c.html", towns, values, metric="on_time_rate").read_text("utf-8")
    names = list(_legend_counts(page))
    assert "66.0%" in names and "66.0% – 66.0%" not in names
    bounds = sorted((float(a), float(b or a)) for a, b in
                    (re.fullmatch(r"([\d.]+)%(?: – ([\d.]+)%)?", name).groups() for name in names))
    assert all(hi < next_lo for (_, hi), (next_lo, _) in zip(bounds, bounds[1:], strict=False))


def test_the_township_evaluations_columns_are_carried_for_the_map(towns) -> None:
    codes = towns["code"].astype(str).tolist()
    evaluation = pd.DataFrame({"township_code": codes[:2], "share_whistled": [0.25, 0.5],
                               "share_whistled_n": [8, 2], "untriaged": [6, 1], "small_sample": [False, True]})
    on_time = pd.DataFrame({"township_code": [codes[0]], "on_time_rate": [0.9], "on_time_rate_n": [12]})
    out = township_metrics(towns, None, evaluation, on_time)
    assert out["share_whistled"].iloc[:2].tolist() == [0.25, 0.5] and out["share_whistled"].iloc[2:].isna().all()
    assert out["share_whistled_n"].iloc[:2].tolist() == [8, 2] and out["untriaged"].iloc[0] == 6
    assert out["on_time_rate_n"].iloc[0] == 12 and "small_sample" not in out.columns
