"""Every case of the golden sets (../shared/golden: ocp, scale_rules, microxcaling) through
mxlab.quantize, bit for bit (manifests read as tests/emulator/golden_test.cpp reads them)."""
import numpy as np
import pytest

import mxlab
from conftest import load_manifest, same_bits, shared_dir

MXC_ROUND = {"nearest": "nearest-away", "even": "nearest-even", "floor": "toward-zero"}


def format_name(f: str) -> str:
    return f if f.startswith("mx") else "mx" + f  # microxcaling: fp8_e4m3 -> mxfp8_e4m3


def cases(set_name):
    d = shared_dir() / "golden" / set_name
    if not (d / "manifest.json").exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no golden set at {d}"))]
    return [pytest.param(c, id=c["name"]) for c in load_manifest(d)]


def run_case(shared, set_name, c, compat):
    d = shared / "golden" / set_name / c["name"]
    x = np.load(d / "x.npy")
    expect = np.load(d / "y.npy")
    rounding = c["rounding"] if "rounding" in c else MXC_ROUND[c["round"]]
    y = mxlab.quantize(x, format_name(c["format"]), block_size=c["block"], axis=c["axis"],
                       rounding=rounding, scale_rule=c.get("scale_rule", "floor"), compat=compat)
    assert y.dtype == np.float32 and y.shape == expect.shape
    bad = np.flatnonzero((y.view(np.uint32) != expect.view(np.uint32)) &
                         ~(np.isnan(y) & np.isnan(expect)))
    assert same_bits(y, expect, any_nan=True), (f"{set_name}/{c['name']} {c}: {bad.size} mismatches, first at "
                                  f"{bad[0]}: x={x.flat[bad[0]]!r} got {y.flat[bad[0]]!r} "
                                  f"expected {expect.flat[bad[0]]!r}")
    # encode gives the same values through the same call
    q = mxlab.encode(x, format_name(c["format"]), block_size=c["block"], axis=c["axis"],
                     rounding=rounding, scale_rule=c.get("scale_rule", "floor"), compat=compat)
    assert same_bits(q.decode(), y)


@pytest.mark.parametrize("c", cases("ocp"))
def test_ocp(shared, c):
    run_case(shared, "ocp", c, "ocp")


@pytest.mark.parametrize("c", cases("scale_rules"))
def test_scale_rules(shared, c):
    run_case(shared, "scale_rules", c, "ocp")


@pytest.mark.parametrize("c", cases("microxcaling"))
def test_microxcaling(shared, c):
    run_case(shared, "microxcaling", c, "microxcaling")
