"""How far from a case a report-in (报到) may be: the category's geofence plus an allowance for GPS error.

A phone states how accurate its fix is. That much error is allowed for on top of the fence, but no more than
the category's ``max_accuracy_m`` — the worst fix its lists accept as a located report at all. A fix of
±800 m says the phone does not know where it is; trusting it would let a department report in from twice the
fence away. A check-in from inside the fence is accepted whatever its stated accuracy. Pure; works on numbers
and on numpy arrays alike, so the single and the bulk check-in paths apply the same rule.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

__all__ = ["accuracy_allowance_m"]

Number = TypeVar("Number", float, np.ndarray)


def accuracy_allowance_m(accuracy_m: Number | None, max_accuracy_m: Number) -> Number:
    """The GPS allowance on top of the geofence, in metres: the stated accuracy (none, NaN or negative counts as
    0) and at most the category's ``max_accuracy_m``."""
    stated = np.nan_to_num(np.asarray(0.0 if accuracy_m is None else accuracy_m, dtype=float), nan=0.0)
    out = np.minimum(np.maximum(stated, 0.0), np.asarray(max_accuracy_m, dtype=float))
    return out if out.ndim else float(out)  # type: ignore[return-value]
