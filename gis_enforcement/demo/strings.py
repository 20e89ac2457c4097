"""Vectorised Arrow strings for the simulated season: random UUIDs and ISO 8601 local times, no Python
object per row (a million-row table takes a couple of seconds)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["iso_times", "uuid4_strings"]


def _fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an (n, w) uint8 matrix of ASCII codes (no Python objects)."""
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


def uuid4_strings(rng: np.random.Generator, n: int) -> pa.StringArray:
    """n random version-4 UUIDs from ``rng`` as canonical strings (vectorised; same rng -> same ids)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = hexdigits[raw >> 4]
    hexed[:, 1::2] = hexdigits[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst:dst + width] = hexed[:, src:src + width]
    return _fixed_width_strings(out)


def iso_times(start: date, t: np.ndarray) -> pa.StringArray:
    """'2026-03-01T21:15:02+08:00' for seconds ``t`` since local midnight of ``start``."""
    day, sod = np.divmod(t.astype(np.int64), 86400)
    n_days = int(day.max()) + 1 if len(day) else 0
    dates = pa.array([(start + timedelta(days=int(d))).isoformat() for d in range(n_days)], pa.string())
    return pc.binary_join_element_wise(dates.take(pa.array(day)), _clock_table().take(pa.array(sod)), "T")


_CLOCK: list[pa.StringArray] = []


def _clock_table() -> pa.StringArray:
    """'HH:MM:SS+08:00' for each second of the day (built once)."""
    if not _CLOCK:
        s = np.arange(86400)
        chars = np.frombuffer(b"00:00:00+08:00" * 86400, dtype=np.uint8).reshape(86400, 14).copy()
        for col, value in ((0, s // 36000), (1, s // 3600 % 10), (3, s // 600 % 6), (4, s // 60 % 10),
                           (6, s % 60 // 10), (7, s % 10)):
            chars[:, col] = ord("0") + value
        _CLOCK.append(_fixed_width_strings(chars))
    return _CLOCK[0]
