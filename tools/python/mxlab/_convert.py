"""Input conversion and argument checks shared by the mxlab front-end functions."""
from __future__ import annotations

import operator

import numpy as np

_NATIVE = (np.dtype(np.float32), np.dtype(np.float64))


def as_values(x, name: str = "x") -> np.ndarray:
    """Returns x as a C-contiguous float32 or float64 array, without a copy when it already is one.

    float32 and float64 pass through; float16, bfloat16 and the other ml_dtypes floats (all exact
    in float32) become float32; booleans and integers become float64 (exact up to 2^53);
    Fortran-ordered or strided arrays are made contiguous. Anything else raises TypeError.
    """
    if isinstance(x, (str, bytes, dict, set)) or x is None:
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}")
    try:
        a = np.asarray(x)
    except Exception as e:  # e.g. a ragged list
        raise TypeError(f"{name}: expected an array of numbers ({e})") from None
    dt = a.dtype
    if dt in _NATIVE:
        return np.ascontiguousarray(a)
    if dt.kind in "biu":
        return np.ascontiguousarray(a, dtype=np.float64)
    if dt.kind == "f" or (dt.kind == "V" and dt.itemsize <= 2 and dt.names is None):
        # float16, and the ml_dtypes types (bfloat16, float8_*), which numpy reports as kind 'V'.
        try:
            return np.ascontiguousarray(a.astype(np.float32))
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name}: expected an array of numbers, got dtype {dt}")


def seed_value(seed) -> int:
    """The CLI's --seed: an integer 0 .. 2^64-1 (a float, even an integral one, is refused)."""
    if isinstance(seed, bool):
        raise TypeError(f"--seed: expected a non-negative integer, got {seed!r}")
    try:
        s = operator.index(seed)
    except TypeError:
        raise TypeError(f"--seed: expected a non-negative integer, got {seed!r}") from None
    if s < 0 or s >= 1 << 64:
        raise ValueError(f"--seed must be 0 .. 2^64-1 (got {s})")
    return s


def int_arg(value, flag: str, allow_none: bool = False):
    """An integer keyword (block_size=, axis=, threads=, ...), named by its CLI flag on error."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{flag}: expected an integer, got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{flag}: expected an integer, got {value!r}") from None
    if not -(1 << 31) <= v < (1 << 31):
        raise ValueError(f"{flag}: {v} is out of range")
    return v


def str_arg(value, flag: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{flag}: expected a string, got {value!r}")
    return value


def float_arg(value, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{flag}: expected a number, got {value!r}")
    return float(value)


def threads_arg(threads):
    t = int_arg(threads, "--threads", allow_none=True)
    if t is not None and t < 1:
        raise ValueError(f"--threads must be >= 1 (got {t})")
    return t
