"""The Python API itself: input conversions, zero-copy paths, encode's views, decode, threads,
AccumModel, results.load, and bad input -> one-line ValueError / TypeError."""
import numpy as np
import pytest

import mxlab
from conftest import same_bits

ml_dtypes = pytest.importorskip("ml_dtypes")


def x32(shape=(8, 64), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_quantize_keeps_shape_dtype_and_input():
    x = x32()
    keep = x.copy()
    y = mxlab.quantize(x, "mxfp8_e4m3")
    assert y.shape == x.shape and y.dtype == np.float32
    assert same_bits(x, keep)  # input untouched
    y64 = mxlab.quantize(x.astype(np.float64), "mxfp8_e4m3")
    assert y64.dtype == np.float64 and np.array_equal(y64, y)


def test_conversions_give_the_float32_result():
    x = x32().astype(np.float16).astype(np.float32)
    ref = mxlab.quantize(x, "mxfp6_e3m2")
    assert same_bits(mxlab.quantize(x.astype(np.float16), "mxfp6_e3m2"), ref)
    xb = x32().astype(ml_dtypes.bfloat16)
    assert same_bits(mxlab.quantize(xb, "mxfp6_e3m2"),
                     mxlab.quantize(xb.astype(np.float32), "mxfp6_e3m2"))
    xf = np.asfortranarray(x)
    assert same_bits(mxlab.quantize(xf, "mxfp6_e3m2"), ref)
    big = np.zeros((8, 128), np.float32)
    big[:, ::2] = x
    assert same_bits(mxlab.quantize(big[:, ::2], "mxfp6_e3m2"), ref)  # strided view
    xi = np.arange(-40, 40, dtype=np.int16).reshape(2, 40)
    yi = mxlab.quantize(xi, "mxint8")
    assert yi.dtype == np.float64
    assert same_bits(yi, mxlab.quantize(xi.astype(np.float64), "mxint8"))
    assert same_bits(mxlab.quantize([[1.0, 2.5, -3.0]], "mxfp4_e2m1"),
                     mxlab.quantize(np.array([[1.0, 2.5, -3.0]]), "mxfp4_e2m1"))


def test_out_and_in_place():
    x = x32()
    ref = mxlab.quantize(x, "mxint8")
    out = np.empty_like(x)
    r = mxlab.quantize(x, "mxint8", out=out)
    assert r is out and same_bits(out, ref)
    mxlab.quantize(x, "mxint8", out=x)
    assert same_bits(x, ref)


def test_threads_do_not_change_bits():
    x = x32((64, 1000))
    ref = mxlab.quantize(x, "mxfp4_e2m1", rounding="stochastic", seed=5, threads=1)
    for t in (2, 3, None):
        assert same_bits(mxlab.quantize(x, "mxfp4_e2m1", rounding="stochastic", seed=5,
                                        threads=t), ref)


def test_encode_views_one_buffer():
    x = x32((5, 70))
    q = mxlab.encode(x, "mxfp4_e2m1", block_size=32)
    for a in (q.codes, q.scales, q.packed):
        assert np.shares_memory(a, q.buffer)
    assert q.codes.shape == x.shape and q.codes.dtype == np.uint8
    assert q.scales.shape == (5, 3) and q.scales.dtype == np.uint8
    assert q.packed.size == (x.size * 4 + 7) // 8
    # packed: two codes per byte, low nibble first, in element order
    flat = q.codes.reshape(-1)
    assert np.array_equal(q.packed[: flat.size // 2], flat[0::2] | (flat[1::2] << 4))
    assert same_bits(q.decode(), mxlab.quantize(x, "mxfp4_e2m1", block_size=32))
    assert (q.format, q.block_size, q.axis, q.shape, q.bits) == ("mxfp4_e2m1", 32, -1, (5, 70), 4)
    q0 = mxlab.encode(x, "mxfp8_e4m3", axis=0, block_size=2)
    assert q0.scales.shape == (3, 70)
    qf = mxlab.encode(x, "mxfp8_e4m3", scale_format="fp32")
    assert qf.scales.dtype == np.uint32
    qe = mxlab.encode(x, "bf16")
    assert qe.codes.dtype == np.uint16 and qe.scales.size == 0
    assert np.array_equal(qe.codes, (x.view(np.uint32) + 0x7FFF + ((x.view(np.uint32) >> 16) & 1))
                          >> 16)


def test_encode_codes_match_element_bits():
    x = np.array([[1.0, -1.0, 0.5, 448.0, -0.0, 0.0] + [0.0] * 26], np.float32)
    q = mxlab.encode(x, "mxfp8_e4m3")
    assert q.scales[0, 0] == 127 + 8 - 8  # floor(log2 448) - emax(e4m3) = 0 -> code 127
    assert list(q.codes[0, :6]) == [0x38, 0xB8, 0x30, 0x7E, 0x80, 0x00]


def test_accum_model():
    m = mxlab.AccumModel("h100-cublas-fp8")
    s = str(m)
    assert s and mxlab.AccumModel(s) == m and hash(mxlab.AccumModel(s)) == hash(m)
    assert "h100-cublas-fp8" in mxlab.AccumModel.presets()
    with pytest.raises(ValueError, match="accum"):
        mxlab.AccumModel("fused:k=0")


def test_gemm_threads_and_model_object():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 64)), rng.standard_normal((64, 3))
    r1 = mxlab.gemm(a, b, accum=mxlab.AccumModel("fp32-seq"), threads=1)
    assert r1.dtype == np.float32 and r1.shape == (5, 3)
    assert same_bits(r1, mxlab.gemm(a, b, accum="fp32-seq", threads=4))


def test_formats_catalogue():
    f = {d["name"]: d for d in mxlab.formats()}
    assert f["e4m3"]["max"] == 448 and f["e2m1"]["max"] == 6 and f["e5m2"]["nonfinite"] == "ieee"
    assert f["mxfp4_e2m1"]["block_size"] == 32 and f["mxfp4_e2m1"]["scale"] == "e8m0"


def test_version():
    assert mxlab.__version__.startswith("mxlab " + mxlab.version_number + " (")


def test_results_load(tmp_path, cli):
    pd = pytest.importorskip("pandas")
    import re
    text = cli("sweep", "--print-default-config").stdout
    # a small sweep: two formats, two block sizes, one rounding, a small tensor
    text = re.sub(r"(?m)^formats\s*=.*$", 'formats = ["mxfp8_e4m3", "mxint8"]', text)
    text = re.sub(r"(?m)^block_sizes\s*=.*$", "block_sizes = [16, 32]", text)
    text = re.sub(r"(?m)^roundings\s*=.*$", 'roundings = ["nearest-even"]', text)
    text = re.sub(r"(?m)^shape\s*=.*$", "shape = [64, 256]", text)
    cfg, out = tmp_path / "c.toml", tmp_path / "r.h5"
    cfg.write_text(text)
    cli("sweep", "--config", cfg, "--output", out, "--no-table")
    df = mxlab.results.load(out, histograms=True)
    assert isinstance(df, pd.DataFrame) and len(df) == df.attrs["points_total"] == 4
    assert set(df["format"]) == {"mxfp8_e4m3", "mxint8"} and set(df["block_size"]) == {16, 32}
    assert df["sqnr_db"].dtype == np.float64 and np.isfinite(df["sqnr_db"]).all()
    assert df.attrs["complete"] == 1 and df.attrs["axes"]["block_size"] == ["16", "32"]
    assert df["hist"][0].sum() > 0
    csv = cli("table", "--input", out, "--as", "csv", "--precision", "6").stdout
    row = df[(df["format"] == "mxint8") & (df["block_size"] == 32)]["sqnr_db"].iloc[0]
    assert f"{row:.6f}" in csv


def one_line(excinfo, *words):
    msg = str(excinfo.value)
    assert "\n" not in msg and msg, msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: mxlab.quantize(x32(), "mxfp9"), ValueError, ["--format", "mxfp9"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", block_size=0), ValueError,
     ["--block-size must be >= 1 (got 0)"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", axis=2), ValueError, ["--axis 2", "rank 2"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", rounding="up"), ValueError, ["--rounding"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", overflow="wrap"), ValueError, ["--overflow"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", scale_rule="x"), ValueError, ["--scale-rule"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", compat="torch"), ValueError, ["--compat"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", seed=float("nan")), TypeError, ["--seed"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", seed=-1), ValueError, ["--seed"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", threads=0), ValueError, ["--threads"]),
    (lambda: mxlab.quantize("abc", "mxfp8_e4m3"), TypeError, ["x", "str"]),
    (lambda: mxlab.quantize(None, "mxfp8_e4m3"), TypeError, ["x"]),
    (lambda: mxlab.quantize({"a": 1}, "mxfp8_e4m3"), TypeError, ["x"]),
    (lambda: mxlab.quantize(np.array(["a"]), "mxfp8_e4m3"), TypeError, ["dtype"]),
    (lambda: mxlab.quantize([[1, 2], [3]], "mxfp8_e4m3"), TypeError, ["x"]),
    (lambda: mxlab.quantize(x32(), 7), TypeError, ["--format"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", block_size=2.5), TypeError, ["--block-size"]),
    (lambda: mxlab.quantize(x32(), "mxfp8_e4m3", out=np.empty(3, np.float32)), ValueError,
     ["out"]),
    (lambda: mxlab.quantize(x32(), "e4m3", scale_format="fp32"), ValueError, ["--scale-format"]),
    (lambda: mxlab.quantize(x32(), "mxint2", compat="microxcaling"), ValueError, ["--compat"]),
    (lambda: mxlab.encode(x32(), "mxfp8_e4m3", axis=-3), ValueError, ["--axis -3"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((7, 3))), ValueError, ["K mismatch"]),
    (lambda: mxlab.gemm(x32((4, 8, 2)), x32((8, 3))), ValueError, ["--a", "rank 2"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((8, 3)), c=x32((3, 3))), ValueError, ["--c"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((8, 3)), accum="bogus"), ValueError, ["bogus"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((8, 3)), format="nvfp4"), ValueError, ["--format"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((8, 3)), block_size=0), ValueError, ["--block-size"]),
    (lambda: mxlab.gemm(x32((4, 8)), x32((8, 3)), promote_every=4), ValueError,
     ["--promote-every"]),
    (lambda: mxlab.golden("mxfp8_e4m3", cases=0), ValueError, ["--cases"]),
    (lambda: mxlab.ptq(x32((4, 8)), x32((5, 9))), ValueError, ["column counts"]),
    (lambda: mxlab.ptq(x32((4, 8)), x32((5, 8)), algorithm="magic"), ValueError,
     ["--algorithm"]),
    (lambda: mxlab.ptq(x32((4, 8)), x32((5, 8)), alpha=2), ValueError, ["--alpha"]),
    (lambda: mxlab.ptq(x32((4, 8)), x32((5, 8)), weight_format="none"), ValueError,
     ["--weight-format"]),
    (lambda: mxlab.results.load("/nonexistent/r.h5"), OSError, ["/nonexistent/r.h5"]),
    (lambda: mxlab.eval_model("/nonexistent", "/nonexistent.txt"), Exception, ["nonexistent"]),
    (lambda: mxlab.AccumModel("nope"), ValueError, ["nope"]),
])
def test_bad_input_one_line(call, exc, words):
    with pytest.raises(exc) as e:
        call()
    one_line(e, *words)
