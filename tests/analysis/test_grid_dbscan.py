"""The grid DBSCAN gives scikit-learn's DBSCAN: the same core points, noise and numbered clusters; border points
go to a cluster with a core point within eps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN

from gis_enforcement.analysis.grid_dbscan import grid_dbscan


def _same_as_sklearn(x: np.ndarray, y: np.ndarray, eps: float, min_samples: int) -> None:
    ours = grid_dbscan(x, y, eps=eps, min_samples=min_samples)
    model = DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree").fit(np.column_stack([x, y]))
    theirs = model.labels_
    core = np.zeros(len(x), dtype=bool)
    core[model.core_sample_indices_] = True
    np.testing.assert_array_equal(ours[core], theirs[core])  # same partition, same numbering
    np.testing.assert_array_equal(ours == -1, theirs == -1)  # same noise
    border = np.nonzero(~core & (theirs >= 0))[0]
    tree = cKDTree(np.column_stack([x[core], y[core]]))
    for i in border:
        reach = tree.query_ball_point([x[i], y[i]], r=eps)
        assert ours[i] in set(ours[core][reach])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("eps", "min_samples"), [(100.0, 5), (40.0, 3), (250.0, 12)])
def test_clustered_sites_over_a_background(seed: int, eps: float, min_samples: int) -> None:
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 8000, (15, 2))
    dense = [rng.normal(c, rng.uniform(10, 150), (int(rng.integers(20, 400)), 2)) for c in sites]
    pts = np.vstack([*dense, rng.uniform(0, 8000, (3000, 2))])
    _same_as_sklearn(pts[:, 0] + 500_000, pts[:, 1] + 4_400_000, eps, min_samples)


def test_points_exactly_eps_apart_are_neighbours() -> None:
    g = np.arange(0.0, 1000.0, 100.0)
    xx, yy = np.meshgrid(g, g)
    labels = grid_dbscan(xx.ravel(), yy.ravel(), eps=100.0, min_samples=3)
    assert (labels == 0).all()  # a lattice at exactly eps chains into one cluster
    _same_as_sklearn(xx.ravel(), yy.ravel(), 100.0, 5)


def test_two_dense_cells_linked_by_one_pair_only() -> None:
    # two tight blobs whose extreme points along the axis are not the close pair: the exact check must link them
    a = np.column_stack([np.full(50, 0.0), np.linspace(0, 60, 50)])
    b = np.column_stack([np.full(50, 130.0), np.linspace(0, 60, 50)])
    bridge = np.array([[65.0, 200.0], [65.0 + 60.0, 200.0]])
    pts = np.vstack([a, b, bridge])
    _same_as_sklearn(pts[:, 0], pts[:, 1], 70.0, 3)
    assert grid_dbscan(np.array([]), np.array([]), eps=10.0, min_samples=2).shape == (0,)
    assert (grid_dbscan(np.array([0.0, 1000.0]), np.array([0.0, 0.0]), eps=10.0, min_samples=2) == -1).all()
