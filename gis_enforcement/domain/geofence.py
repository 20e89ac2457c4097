"""How far from a case a report-in (报到) may be: the category's geofence plus allowances for GPS error — the
officer's and the case's own.

A phone states how accurate its fix is. That much error is allowed for on top of the fence, but no more than
the category's ``max_accuracy_m`` — the worst fix its lists accept as a located report at all. A fix of
±800 m says the phone does not know where it is; trusting it would let a department report in from twice the
fence away. A check-in from inside the fence is accepted whatever its stated accuracy.

The case's point has an error of its own. The fence is drawn for a case located as well as its category
asks (``max_accuracy_m`` is a third to a tenth of the fence in the shipped lists), so an ordinary case adds
nothing. A case accepted with a worse fix (flagged ``low_accuracy``) may lie anywhere within its stated
accuracy: the excess over ``max_accuracy_m`` widens the fence, at most by the fence itself — a check-in more
than twice the fence from the recorded point no longer shows that the department stood at this site, and such
a case's position is for the township to correct on site. Pure; works on numbers and on numpy arrays alike,
so the single and the bulk check-in paths apply the same rule and say its refusal in the same words.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

__all__ = ["accuracy_allowance_m", "case_allowance_m", "outside_fence_message"]

Number = TypeVar("Number", float, np.ndarray)


def _stated(accuracy_m: float | np.ndarray | None) -> np.ndarray:
    """A stated accuracy as an array; none, NaN or negative counts as 0."""
    stated = np.nan_to_num(np.asarray(0.0 if accuracy_m is None else accuracy_m, dtype=float), nan=0.0)
    return np.maximum(stated, 0.0)


def accuracy_allowance_m(accuracy_m: Number | None, max_accuracy_m: Number) -> Number:
    """The GPS allowance on top of the geofence, in metres: the stated accuracy (none, NaN or negative counts as
    0) and at most the category's ``max_accuracy_m``."""
    out = np.minimum(_stated(accuracy_m), np.asarray(max_accuracy_m, dtype=float))
    return out if out.ndim else float(out)  # type: ignore[return-value]


def case_allowance_m(case_accuracy_m: Number | None, max_accuracy_m: Number, geofence_m: Number) -> Number:
    """The allowance for the case's own position error, in metres: how much the case's stated accuracy (none,
    NaN or negative counts as 0) is worse than the category's ``max_accuracy_m``, at most ``geofence_m``."""
    excess = np.maximum(_stated(case_accuracy_m) - np.asarray(max_accuracy_m, dtype=float), 0.0)
    out = np.minimum(excess, np.asarray(geofence_m, dtype=float))
    return out if out.ndim else float(out)  # type: ignore[return-value]


def outside_fence_message(distance_m: float, geofence_m: float, allowance_m: float,
                          case_accuracy_m: float | None, case_allowance: float) -> str:
    """The refusal of a check-in from beyond the fence and its allowances; when the case's own position was
    allowed for, it says how poorly the case is located."""
    case = (f"; the case position itself is only known to ±{case_accuracy_m:,.0f} m: + {case_allowance:,.0f} m"
            if case_allowance > 0 and case_accuracy_m is not None else "")
    return (f"check-in is {distance_m:,.0f} m from the case; it must be within {geofence_m:,.0f} m "
            f"(+ GPS accuracy {allowance_m:,.0f} m{case})")
