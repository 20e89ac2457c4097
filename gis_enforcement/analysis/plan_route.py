"""Joint-operation planning, step 3: the order in which one operation team visits the staffed targets.

One team (the command vehicle that opens each site's action) leaves the start point at time 0 (the start of
the period) and visits targets one after another; it does not come back unless ``return_to_start``.

**Travel.** Distances are straight lines between points in EPSG:4548 metres, times are
``ceil(distance × detour_factor / speed)`` seconds with the drafted defaults ``detour_factor`` 1.3 (road
distance over straight-line distance is typically 1.2–1.4) and ``speed_kmh`` 40 (county roads and village
tracks). A road-network distance matrix may be passed instead (``distance_m``); the detour factor is
then not applied.

**Windows and service.** Each target has a service duration (time on site before the team moves on) and a
list of time windows (seconds from departure, possibly several, e.g. two nights). The team's *arrival* — the
start of the work on site — must lie inside one window (both ends included); the team may wait for a window
to open. Service must end by the horizon (the end of the period), so windows are shortened by the service.

**Model.** OR-Tools routing (one vehicle, a time dimension with waiting as slack, ``CumulVar.SetRange`` and
``RemoveInterval`` for the windows, ``AddDisjunction`` so a target can be dropped at a penalty). The arc cost
is the travel time, so the route minimises travel. Penalties are ``BIG × (2n − priority)`` with ``BIG``
above any route's total travel, so the objective puts keeping more targets first, then better-ranked ones,
then less travel. Travel and transit matrices are evaluated inside the solver (``RegisterTransitMatrix``).
The first solution is built with ``PATH_CHEAPEST_ARC`` and improved by greedy descent, which stops at a local
optimum (a heuristic: good, not proven optimal), so the result is deterministic; ``time_limit_s`` only caps
pathological cases (50–70 targets take about a second). ``improve_solutions`` > 0 switches to guided local
search bounded by that many solutions (still deterministic, slower, sometimes shorter).

**Dropped targets** carry a reason kind: ``no_window`` (no window in the period leaves room for the
service), ``too_far`` (even straight from the start the team arrives after the last window closes),
``window_conflict`` (fits alone, but not together with the targets kept), ``no_solution`` (the solver found
no route; not expected, since dropping is always allowed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from gis_enforcement.errors import InvalidInput

__all__ = [
    "Drop", "Route", "RouteSettings", "clip_windows", "earliest_in", "solve_route", "straight_distances",
    "travel_seconds",
]

Windows = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class RouteSettings:
    """Travel model and search limits of :func:`solve_route` (defaults in the module docstring)."""

    detour_factor: float = 1.3
    speed_kmh: float = 40.0
    time_limit_s: float = 10.0
    improve_solutions: int = 0
    return_to_start: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.detour_factor) and self.detour_factor >= 1):
            raise InvalidInput("detour_factor must be >= 1", field="detour_factor")
        if not (math.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise InvalidInput("speed_kmh must be > 0", field="speed_kmh")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise InvalidInput("time_limit_s must be > 0", field="time_limit_s")
        if self.improve_solutions < 0:
            raise InvalidInput("improve_solutions must be >= 0", field="improve_solutions")


@dataclass(frozen=True)
class Drop:
    """Why a target is not on the route: ``kind`` (see the module docstring) and, for ``too_far``, the
    earliest time (seconds from departure) the team could be there."""

    kind: str
    earliest_s: int | None = None


@dataclass(frozen=True)
class Route:
    """The visit order and timing; every tuple is aligned with ``order`` (indices into the targets).

    ``reach_s``: when the team gets to the stop; ``arrive_s``: when the work starts (after any wait, inside a
    window); ``depart_s`` = arrive + service; ``leg_m`` / ``leg_s``: distance and travel time of the leg
    from the previous stop (the start for the first). ``back_m`` / ``back_s``: the leg home when
    ``return_to_start``, else 0. ``end_s``: when the operation ends.
    """

    order: tuple[int, ...]
    reach_s: tuple[int, ...]
    arrive_s: tuple[int, ...]
    depart_s: tuple[int, ...]
    leg_m: tuple[float, ...]
    leg_s: tuple[int, ...]
    dropped: Mapping[int, Drop]
    back_m: float = 0.0
    back_s: int = 0
    end_s: int = 0

    @property
    def travel_m(self) -> float:
        return float(sum(self.leg_m) + self.back_m)

    @property
    def travel_s(self) -> int:
        return int(sum(self.leg_s) + self.back_s)


def straight_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix (metres) between the rows of an (n, 2) array of EPSG:4548 coordinates."""
    pts = np.asarray(points, dtype=float)
    diff = pts[:, None, :] - pts[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def travel_seconds(distance_m: np.ndarray, settings: RouteSettings, *, road: bool = False) -> np.ndarray:
    """Travel times (whole seconds, rounded up) for distances: ``distance × detour / speed``.

    With ``road`` the distances are along the road network and the detour factor is not applied.
    """
    factor = 1.0 if road else settings.detour_factor
    return np.ceil(np.asarray(distance_m, dtype=float) * factor / (settings.speed_kmh / 3.6)).astype(np.int64)


def earliest_in(windows: Windows, t: int) -> int | None:
    """The earliest time ≥ ``t`` inside one of ``windows`` (sorted, inclusive), or None when all have closed."""
    for open_s, close_s in windows:
        if t <= close_s:
            return max(t, open_s)
    return None


def clip_windows(windows: Windows, service: int, horizon: int) -> list[tuple[int, int]]:
    """The windows an arrival can use: sorted, merged, clipped to [0, horizon − service] (service ends in time)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in windows):
        a, b = max(a, 0), min(b, horizon - service)
        if a > b:
            continue
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _check(n: int, windows: Sequence[Windows], service_s: Sequence[int], priority: Sequence[int] | None,
           horizon_s: int, distance_m: np.ndarray | None) -> None:
    if len(windows) != n or len(service_s) != n or (priority is not None and len(priority) != n):
        raise InvalidInput("windows, service and priority need one entry per target", field="windows")
    if horizon_s <= 0:
        raise InvalidInput("the period must have a positive length", field="period_end")
    if any(s < 0 for s in service_s):
        raise InvalidInput("service time must be >= 0", field="service_minutes")
    if distance_m is not None:
        d = np.asarray(distance_m, dtype=float)
        if d.shape != (n + 1, n + 1) or not np.isfinite(d).all() or (d < 0).any():
            raise InvalidInput(f"must be a finite ({n + 1}, {n + 1}) matrix >= 0, start first", field="distance_m")


def solve_route(
    start: tuple[float, float],
    points: np.ndarray,
    windows: Sequence[Windows],
    service_s: Sequence[int],
    *,
    horizon_s: int,
    priority: Sequence[int] | None = None,
    settings: RouteSettings | None = None,
    distance_m: np.ndarray | None = None,
) -> Route:
    """Order the visits of one team from ``start`` (x, y in EPSG:4548) to ``points`` ((n, 2), same CRS).

    ``windows[i]`` are target ``i``'s windows as (open, close) seconds from departure; ``service_s[i]`` its
    time on site; ``priority[i]`` its rank among the targets (0 = most important; default: input order);
    ``horizon_s`` the length of the period. ``distance_m`` optionally replaces straight lines with an
    (n+1, n+1) road-distance matrix, start first. Returns the :class:`Route`; targets not visited are in
    ``Route.dropped`` with the reason. The model and its determinism are described in the module docstring.
    """
    settings = settings or RouteSettings()
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    n = len(pts)
    _check(n, windows, service_s, priority, horizon_s, distance_m)
    prio = list(priority) if priority is not None else list(range(n))
    service = [int(s) for s in service_s]
    nodes = np.vstack([np.asarray(start, dtype=float).reshape(1, 2), pts])
    dist = straight_distances(nodes) if distance_m is None else np.asarray(distance_m, dtype=float)
    travel = travel_seconds(dist, settings, road=distance_m is not None)

    dropped: dict[int, Drop] = {}
    cleaned: dict[int, list[tuple[int, int]]] = {}
    for i in range(n):
        w = clip_windows(windows[i], service[i], horizon_s)
        if not w:
            dropped[i] = Drop("no_window")
        elif earliest_in(w, int(travel[0, i + 1])) is None:
            dropped[i] = Drop("too_far", int(travel[0, i + 1]))
        else:
            cleaned[i] = w
    candidates = sorted(cleaned)
    order = _search(candidates, cleaned, service, prio, travel, horizon_s, settings) if candidates else []
    if order is None:
        dropped.update({i: Drop("no_solution") for i in candidates})
        order = []
    kept = set(order)
    dropped.update({i: Drop("window_conflict") for i in candidates if i not in kept and i not in dropped})
    return _schedule(order, cleaned, service, dist, travel, settings, MappingProxyType(dict(sorted(dropped.items()))))


def _search(
    candidates: list[int],
    windows: Mapping[int, list[tuple[int, int]]],
    service: Sequence[int],
    priority: Sequence[int],
    travel: np.ndarray,
    horizon: int,
    settings: RouteSettings,
) -> list[int] | None:
    """Solve the routing model over ``candidates``; the visit order as target indices, or None."""
    m = len(candidates)
    node_of = [0, *(i + 1 for i in candidates)]  # model node -> row of the travel matrix
    end = None if settings.return_to_start else m + 1
    if end is None:
        manager = pywrapcp.RoutingIndexManager(m + 1, 1, 0)
    else:
        manager = pywrapcp.RoutingIndexManager(m + 2, 1, [0], [end])
    routing = pywrapcp.RoutingModel(manager)
    # Matrices indexed by model node, evaluated inside the solver (no Python callback in its inner loop).
    # The dummy end node (open route) is reached from anywhere at no travel.
    size = m + 1 if end is None else m + 2
    legs = np.zeros((size, size), dtype=np.int64)
    legs[: m + 1, : m + 1] = travel[np.ix_(node_of, node_of)]
    serve = np.zeros(size, dtype=np.int64)
    serve[1 : m + 1] = [service[i] for i in candidates]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(legs.tolist()))
    transit = routing.RegisterTransitMatrix((legs + serve[:, None]).tolist())
    routing.AddDimension(transit, horizon, horizon, True, "time")
    time = routing.GetDimensionOrDie("time")
    big = int(legs.max(axis=1).sum()) + 1  # above the travel of any route
    ranks = sorted(candidates, key=lambda i: (priority[i], i))
    for k, i in enumerate(candidates, start=1):
        index = manager.NodeToIndex(k)
        w = windows[i]
        cumul = time.CumulVar(index)
        cumul.SetRange(w[0][0], w[-1][1])
        for (_, close_a), (open_b, _) in zip(w, w[1:], strict=False):
            cumul.RemoveInterval(close_a + 1, open_b - 1)
        routing.AddDisjunction([index], big * (2 * m - ranks.index(i)))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    if settings.improve_solutions:
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        params.solution_limit = settings.improve_solutions
    else:
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.time_limit.FromMilliseconds(max(1, int(settings.time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(candidates[manager.IndexToNode(index) - 1])
        index = solution.Value(routing.NextVar(index))
    return order


def _schedule(
    order: list[int],
    windows: Mapping[int, list[tuple[int, int]]],
    service: Sequence[int],
    dist: np.ndarray,
    travel: np.ndarray,
    settings: RouteSettings,
    dropped: Mapping[int, Drop],
) -> Route:
    """Earliest-start timing of a visit order (the solver's order is feasible, so every stop fits)."""
    t, prev = 0, 0
    reach, arrive, depart, leg_m, leg_s = [], [], [], [], []
    for i in order:
        node = i + 1
        r = t + int(travel[prev, node])
        a = earliest_in(windows[i], r)
        if a is None:  # the model guarantees a window; reaching this is a bug, not bad input
            raise RuntimeError(f"route stop {i} misses its windows")
        reach.append(r)
        arrive.append(a)
        t = a + service[i]
        depart.append(t)
        leg_m.append(float(dist[prev, node]))
        leg_s.append(int(travel[prev, node]))
        prev = node
    back_m = float(dist[prev, 0]) if settings.return_to_start and order else 0.0
    back_s = int(travel[prev, 0]) if settings.return_to_start and order else 0
    return Route(tuple(order), tuple(reach), tuple(arrive), tuple(depart), tuple(leg_m), tuple(leg_s),
                 dropped, back_m, back_s, t + back_s)
