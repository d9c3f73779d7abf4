"""Element casts cross-checked against ml_dtypes (an independent implementation) and numpy's
float16.

Overflow policy: ml_dtypes converts with round-to-nearest-even and, out of range, gives Inf where
the format has it (float8_e5m2), NaN where it has only NaN (float8_e4m3fn) and saturates to the
largest finite value in the finite-only formats (float6_e3m2fn, float6_e2m3fn, float4_e2m1fn).
That is mxlab's overflow="to-nan-or-inf" (README, "Conversion rules"), so mxlab runs with it
here. NaN inputs are left out for the finite-only formats: they have no NaN (mxlab gives +0, as
documented; ml_dtypes' choice is its own).
"""
import numpy as np
import pytest

import mxlab
from conftest import same_bits

ml_dtypes = pytest.importorskip("ml_dtypes")

FORMATS = {
    "e4m3": "float8_e4m3fn",
    "e5m2": "float8_e5m2",
    "e3m2": "float6_e3m2fn",
    "e2m3": "float6_e2m3fn",
    "e2m1": "float4_e2m1fn",
    "bf16": "bfloat16",
}


def oracle(name):
    if name == "fp16":
        return np.float16
    t = getattr(ml_dtypes, FORMATS[name], None)
    if t is None:
        pytest.skip(f"this ml_dtypes ({ml_dtypes.__version__}) has no {FORMATS[name]}")
    return t


def finite_only(name):
    return name in ("e3m2", "e2m3", "e2m1")


def check(name, x):
    t = oracle(name)
    if finite_only(name):
        x = x[~np.isnan(x)]
    with np.errstate(invalid="ignore", over="ignore"):
        want = x.astype(t).astype(np.float32)
    got = mxlab.quantize(x, name, overflow="to-nan-or-inf")
    # NaN: compare as NaN (payloads and signs of NaN differ between libraries)
    nan = np.isnan(want)
    assert np.array_equal(nan, np.isnan(got)), f"{name}: NaN positions differ"
    bad = np.flatnonzero(want[~nan].view(np.uint32) != got[~nan].view(np.uint32))
    assert bad.size == 0, (f"{name}: {bad.size} mismatches, first x={x[~nan][bad[0]]!r} "
                           f"ml_dtypes {want[~nan][bad[0]]!r} mxlab {got[~nan][bad[0]]!r}")


ALL_FP16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(
    np.float32)


@pytest.mark.parametrize("name", list(FORMATS) + ["fp16"])
def test_every_fp16_value(name):
    check(name, ALL_FP16.copy())


def representable(name):
    """Every finite value of the format, ascending (from its codes through ml_dtypes/numpy)."""
    t = oracle(name)
    bits = np.dtype(t).itemsize * 8
    if name in ("e3m2", "e2m3"):
        bits = 6
    if name == "e2m1":
        bits = 4
    codes = np.arange(1 << bits, dtype=np.uint32)
    with np.errstate(invalid="ignore"):  # the NaN codes
        if np.dtype(t).itemsize == 1:
            v = codes.astype(np.uint8).view(t).astype(np.float64)
        else:
            v = codes.astype(np.uint16).view(t).astype(np.float64)
    v = np.unique(v[np.isfinite(v)])
    return v


@pytest.mark.parametrize("name", list(FORMATS) + ["fp16"])
def test_midpoints_and_neighbours(name):
    v = representable(name)
    mids = ((v[:-1] + v[1:]) / 2).astype(np.float32)  # exact: at most 12 significant bits
    assert np.array_equal(mids.astype(np.float64), (v[:-1] + v[1:]) / 2)
    up = np.nextafter(mids, np.float32(np.inf))
    down = np.nextafter(mids, np.float32(-np.inf))
    top = np.float32(v[-1])
    with np.errstate(over="ignore"):  # bf16: twice its largest value is beyond float32
        beyond = np.array([top * 1.01, top * 2, -top * 2, np.inf, -np.inf, np.nan, 0.0, -0.0],
                          np.float32)
    check(name, np.concatenate([mids, up, down, v.astype(np.float32), beyond]))
