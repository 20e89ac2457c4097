"""The vectorised Mann-Kendall test against pymannkendall.original_test, series by series."""

from __future__ import annotations

import numpy as np
import pymannkendall
import pytest

from gis_enforcement.analysis.mann_kendall import mann_kendall, mk_score, mk_variance
from gis_enforcement.errors import InvalidInput

TREND = {"increasing": 1, "decreasing": -1, "no trend": 0}


def _series() -> list[np.ndarray]:
    rng = np.random.default_rng(20260611)
    out: list[np.ndarray] = []
    for n in (2, 3, 5, 12, 40):
        out += list(rng.integers(0, 3, size=(15, n)).astype(float))  # many ties
        out += list(rng.normal(size=(5, n)))  # no ties
        out += list(rng.integers(0, 2, size=(5, n)).astype(float) + np.linspace(0, 2, n))  # trend plus ties
    out += [
        np.full(12, 4.0),  # constant: S = 0, var = 0
        np.arange(12.0),  # strictly increasing
        -np.arange(12.0),  # strictly decreasing
        np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2.0]),  # one step at the end
        np.array([0, 0, 5, 5, 5, 1, 1, 1, 1, 7, 7, 7.0]),
    ]
    return out


@pytest.mark.parametrize("alpha", [0.05, 0.10])
def test_matches_pymannkendall_on_every_series(alpha: float) -> None:
    series = _series()
    for n in sorted({len(s) for s in series}):
        block = np.array([s for s in series if len(s) == n])
        ours = mann_kendall(block, alpha=alpha)
        for i, x in enumerate(block):
            ref = pymannkendall.original_test(x, alpha=alpha)
            assert ours.s[i] == ref.s, (n, i)
            assert ours.var_s[i] == pytest.approx(ref.var_s, rel=1e-12, abs=1e-12), (n, i)
            assert ours.z[i] == pytest.approx(ref.z, rel=1e-12, abs=1e-12), (n, i)
            assert ours.p[i] == pytest.approx(ref.p, rel=1e-9, abs=1e-12), (n, i)
            assert ours.tau[i] == pytest.approx(ref.Tau, rel=1e-12, abs=1e-12), (n, i)
            assert ours.trend[i] == TREND[ref.trend], (n, i)


def test_ties_reduce_the_variance_exactly() -> None:
    # n = 6 with tie groups of sizes 3 and 2: [6·5·17 − (3·2·11 + 2·1·9)] / 18 = (510 − 84) / 18
    x = np.array([[1.0, 1.0, 1.0, 2.0, 2.0, 3.0]])
    assert mk_variance(x)[0] == pytest.approx((510 - 84) / 18)
    assert mk_variance(x[:, ::-1])[0] == pytest.approx((510 - 84) / 18)  # order does not matter
    assert mk_score(x)[0] == 11  # 3·2 + 3·1 + 2·1 pairs strictly increasing


def test_constant_series_has_no_trend() -> None:
    res = mann_kendall(np.full((3, 12), 7.0))
    assert (res.s == 0).all() and (res.var_s == 0).all() and (res.z == 0).all()
    assert (res.p == 1).all() and (res.trend == 0).all()


def test_one_series_is_accepted_as_a_row() -> None:
    res = mann_kendall(np.arange(10.0))
    assert res.s.shape == (1,) and res.trend[0] == 1


@pytest.mark.parametrize(
    ("values", "alpha"),
    [
        (np.array([[1.0, np.nan, 2.0]]), 0.05),
        (np.array([[1.0]]), 0.05),
        (np.zeros((2, 3, 4)), 0.05),
        (np.zeros((2, 5)), 0.0),
        (np.zeros((2, 5)), 1.5),
    ],
)
def test_bad_input_is_refused(values: np.ndarray, alpha: float) -> None:
    with pytest.raises(InvalidInput):
        mann_kendall(values, alpha=alpha)
