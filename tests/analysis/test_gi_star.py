"""Gi* against esda (same weights, 1e-9), distance-band weights against libpysal, and permutation inference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from esda.getisord import G_Local
from libpysal.weights import DistanceBand, W

from gis_enforcement.analysis.gi_star import (
    distance_band_weights,
    gi_star_permutation,
    gi_star_pseudo_p,
    gi_star_z,
    p_values_from_z,
)
from gis_enforcement.errors import InvalidInput


def _points(seed: int, n: int = 300, extent: float = 5000.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, extent, n), rng.uniform(0, extent, n)


def _esda_z(values: np.ndarray, weights: sp.csr_matrix) -> np.ndarray:
    w = W.from_sparse(sp.csr_matrix(weights))
    return np.asarray(G_Local(values, w, star=True, transform="B", permutations=0).Zs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_z_equals_esda_on_random_data(seed: int) -> None:
    x, y = _points(seed)
    rng = np.random.default_rng(100 + seed)
    values = rng.poisson(3.0, len(x)).astype(float)
    weights = distance_band_weights(x, y, 600.0)
    ours = gi_star_z(values, weights)
    np.testing.assert_allclose(ours, _esda_z(values, weights), rtol=0, atol=1e-9)
    assert np.abs(ours).max() > 1.0  # not trivially zero


def test_z_equals_esda_on_a_libpysal_distance_band() -> None:
    x, y = _points(7)
    values = np.random.default_rng(8).gamma(2.0, 3.0, len(x))
    band = DistanceBand(np.column_stack([x, y]), threshold=750.0, binary=True, silence_warnings=True)
    ours = distance_band_weights(x, y, 750.0)
    # same neighbours as libpysal, plus the diagonal Gi* needs
    expected = (band.sparse + sp.identity(len(x))).toarray()
    np.testing.assert_array_equal(ours.toarray(), expected)
    esda = G_Local(values, band, star=True, transform="B", permutations=0).Zs
    np.testing.assert_allclose(gi_star_z(values, ours), esda, rtol=0, atol=1e-9)


def test_two_dimensional_values_give_one_z_per_column() -> None:
    x, y = _points(3, n=250)
    rng = np.random.default_rng(4)
    columns = np.column_stack([rng.poisson(2.0, 250), rng.normal(10, 3, 250), rng.poisson(0.5, 250)]).astype(float)
    weights = distance_band_weights(x, y, 800.0)
    ours = gi_star_z(columns, weights)
    assert ours.shape == columns.shape
    for k in range(columns.shape[1]):
        np.testing.assert_allclose(ours[:, k], _esda_z(columns[:, k], weights), rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours[:, k], gi_star_z(columns[:, k], weights), rtol=0, atol=1e-12)


def test_weights_are_inclusive_symmetric_and_have_the_diagonal() -> None:
    # a 3 × 3 lattice with 500 m spacing: at exactly 500 m the rook neighbours are in, diagonals (707 m) out
    col, row = np.meshgrid(np.arange(3), np.arange(3))
    x, y = col.ravel() * 500.0, row.ravel() * 500.0
    w = distance_band_weights(x, y, 500.0)
    assert (w.diagonal() == 1).all()
    assert (w != w.T).nnz == 0
    centre = 4
    assert sorted(w[centre].indices.tolist()) == [1, 3, 4, 5, 7]
    assert w.sum() == 9 + 2 * 12  # self + 12 rook pairs counted both ways


def test_constant_column_gives_zero_not_nan() -> None:
    x, y = _points(5, n=50)
    w = distance_band_weights(x, y, 1500.0)
    z = gi_star_z(np.column_stack([np.full(50, 3.0), np.arange(50.0)]), w)
    assert np.isfinite(z).all()
    assert (z[:, 0] == 0).all()
    assert np.abs(z[:, 1]).max() > 0


def test_bad_input_names_the_field() -> None:
    x, y = _points(1, n=10)
    with pytest.raises(InvalidInput) as err:
        distance_band_weights(x, y[:5], 100.0)
    assert err.value.field == "x"
    with pytest.raises(InvalidInput) as err:
        distance_band_weights(x, y, -1.0)
    assert err.value.field == "threshold_m"
    w = distance_band_weights(x, y, 2000.0)
    with pytest.raises(InvalidInput) as err:
        gi_star_z(np.ones(9), w)
    assert err.value.field == "weights"
    with pytest.raises(InvalidInput):
        gi_star_z(np.array([1.0, np.nan, *range(8)]), w)


def test_p_values_are_two_sided() -> None:
    p = p_values_from_z(np.array([0.0, 1.959963984540054, -2.5758293035489004, 3.2905267314918945]))
    np.testing.assert_allclose(p, [1.0, 0.05, 0.01, 0.001], rtol=1e-9)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # esda's notices about its own future defaults
def test_permutation_p_lies_in_range_and_agrees_with_z() -> None:
    x, y = _points(11, n=400)
    rng = np.random.default_rng(12)
    values = rng.poisson(2.0, 400).astype(float)
    near = np.hypot(x - 2500, y - 2500) < 700
    values[near] += rng.poisson(6.0, near.sum())  # a planted hot spot
    weights = distance_band_weights(x, y, 600.0)
    permutations = 499
    test = gi_star_permutation(values, weights, permutations=permutations, seed=3)
    assert test.p.min() >= 1 / (permutations + 1)
    assert test.p.max() <= 1.0
    z = gi_star_z(values, weights)
    strong = np.abs(z) > 3
    assert strong.sum() >= 10
    assert (np.sign(test.z_sim[strong]) == np.sign(z[strong])).all()
    assert (test.p[strong] <= 0.05).all()
    assert np.corrcoef(test.z_sim, z)[0, 1] > 0.9
    # esda's folded one-sided pseudo p, doubled, tells the same story
    esda = G_Local(values, W.from_sparse(weights), star=True, transform="B", permutations=permutations, seed=3)
    assert np.corrcoef(np.minimum(1.0, 2 * esda.p_sim), test.p)[0, 1] > 0.9


def test_permutation_is_reproducible_for_a_seed() -> None:
    x, y = _points(21, n=120)
    values = np.random.default_rng(22).poisson(3.0, 120).astype(float)
    w = distance_band_weights(x, y, 900.0)
    first = gi_star_pseudo_p(values, w, permutations=199, seed=5)
    np.testing.assert_array_equal(first, gi_star_pseudo_p(values, w, permutations=199, seed=5))
    assert not np.array_equal(first, gi_star_pseudo_p(values, w, permutations=199, seed=6))
    with pytest.raises(InvalidInput):
        gi_star_pseudo_p(values, w, permutations=0)


def test_permutation_sums_are_those_of_the_definition() -> None:
    """Each simulated local sum is the feature's own value plus its first ``c_i − 1`` draws among the *other*
    features, the draws being one shared random permutation of "the others" per simulation. Computed here the
    plain way (a full argsort, a per-feature array without the feature, a gather) for features with 0 to many
    neighbours, including one with none, and compared with the vectorised test."""
    x, y = _points(41, n=90)
    x[0], y[0] = 1e6, 1e6  # far from everyone: no neighbour but itself
    values = np.random.default_rng(42).poisson(3.0, 90).astype(float)
    w = sp.csr_array(distance_band_weights(x, y, 900.0))
    permutations, seed = 299, 8
    test = gi_star_permutation(values, w, permutations=permutations, seed=seed)

    card = np.asarray(w.sum(axis=1)).ravel().round().astype(int)
    assert card[0] == 1 and card.max() > 5 and len(set(card)) > 5
    keys = np.random.default_rng(seed).random((permutations, 89))
    draws = np.argsort(keys, axis=1)
    observed = w @ values
    for i in range(90):
        others = np.delete(values, i)
        sims = values[i] + others[draws[:, : card[i] - 1]].sum(axis=1)
        tol = 1e-9 * max(1.0, abs(observed[i]))
        extreme = min((sims >= observed[i] - tol).sum(), (sims <= observed[i] + tol).sum())
        assert test.p[i] == min(1.0, 2.0 * (extreme + 1) / (permutations + 1)), i
        if sims.std() > 0:
            assert test.z_sim[i] == pytest.approx((observed[i] - sims.mean()) / sims.std(), rel=1e-9), i
        else:
            assert test.z_sim[i] == 0.0, i
