"""The module and the mxlab CLI (MXLAB_BIN) give the same bits: quantize (values, packed codes,
scales) for every format x rounding x scale rule on random and edge tensors, gemm for every
accumulator preset, golden vectors, the ptq report, formats and the version string."""
import json

import numpy as np
import pytest

import mxlab
from conftest import same_bits

FORMATS = ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1", "mxint8",
           "mxint4", "nvfp4", "e4m3", "e5m2", "bf16", "int8"]
ROUNDINGS = ["nearest-even", "nearest-away", "toward-zero", "toward-positive", "toward-negative",
             "odd", "stochastic"]
RULES = ["floor", "ceil", "even", "rceil"]


def tensor(seed=0, shape=(6, 80)):
    """Log-uniform magnitudes over 60 binades, random signs, and edge values in the first rows:
    zeros of both signs, NaN, +-Inf, subnormals, FLT_MAX, an all-zero block."""
    rng = np.random.default_rng(seed)
    x = (rng.choice([-1, 1], shape) * np.exp2(rng.uniform(-30, 30, shape))).astype(np.float32)
    edge = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-42, 3.4028235e38,
                     -3.4028235e38, 1.0, 0.75, 448.0, 464.0, 6.0, 7.0, 1.5], np.float32)
    n = min(edge.size, shape[1])
    x[0, :n] = edge[:n]
    x[1, :32] = 0
    x[2, :32] = np.float32(2.0 ** -130)
    return x


@pytest.mark.parametrize("fmt", FORMATS)
def test_quantize_same_bits(cli, tmp_path, fmt):
    x = tensor(len(fmt))
    src = tmp_path / "x.npy"
    np.save(src, x)
    for rnd in ROUNDINGS:
        for rule in RULES if fmt.startswith("mx") else ["floor"]:
            out, codes, scales = tmp_path / "y.npy", tmp_path / "c.bin", tmp_path / "s.bin"
            args = ["quantize", "--input", src, "--output", out, "--format", fmt, "--rounding",
                    rnd, "--scale-rule", rule, "--seed", 7, "--codes-output", codes]
            if fmt.startswith(("mx", "nv")):
                args += ["--scales-output", scales]
            cli(*args)
            y = mxlab.quantize(x, fmt, rounding=rnd, scale_rule=rule, seed=7)
            assert same_bits(y, np.load(out)), f"{fmt} {rnd} {rule}"
            q = mxlab.encode(x, fmt, rounding=rnd, scale_rule=rule, seed=7)
            assert q.packed.tobytes() == codes.read_bytes(), f"codes {fmt} {rnd} {rule}"
            if "--scales-output" in args:
                assert q.scales.tobytes() == scales.read_bytes(), f"scales {fmt} {rnd} {rule}"
            assert same_bits(q.decode(), y)


@pytest.mark.parametrize("axis,block", [(0, 8), (1, 5), (-2, 3)])
def test_quantize_axis_and_float64(cli, tmp_path, axis, block):
    x = tensor(3, (7, 9)).astype(np.float64) * 1.0000001
    np.save(tmp_path / "x.npy", x)
    cli("quantize", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy", "--format",
        "mxfp6_e2m3", "--axis", axis, "--block-size", block, "--scales-output", tmp_path / "s")
    y = mxlab.quantize(x, "mxfp6_e2m3", axis=axis, block_size=block)
    assert y.dtype == np.float64 and same_bits(y, np.load(tmp_path / "y.npy"))
    q = mxlab.encode(x, "mxfp6_e2m3", axis=axis, block_size=block)
    assert q.scales.tobytes() == (tmp_path / "s").read_bytes()


def test_microxcaling_and_scale_formats(cli, tmp_path):
    x = tensor(5)
    np.save(tmp_path / "x.npy", x)
    for extra in (["--compat", "microxcaling", "--rounding", "nearest-away"],
                  ["--scale-format", "ue4m3"], ["--scale-format", "fp32"]):
        cli("quantize", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy",
            "--format", "mxfp4_e2m1", *extra)
        kw = {extra[0][2:].replace("-", "_"): extra[1]}
        if len(extra) > 2:
            kw["rounding"] = extra[3]
        assert same_bits(mxlab.quantize(x, "mxfp4_e2m1", **kw), np.load(tmp_path / "y.npy"))


def presets():
    return mxlab.AccumModel.presets()


@pytest.mark.parametrize("accum", ["exact", "fp32-seq", "fp32-pairwise",
                                   "fused:k=16,w=25,acc=fp32,round=toward-zero"] + presets())
def test_gemm_same_bits(cli, tmp_path, accum):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((9, 70)) * np.exp2(rng.integers(-8, 8, (9, 70)))).astype(np.float32)
    b = rng.standard_normal((70, 11)).astype(np.float32)
    c = rng.standard_normal((9, 11)).astype(np.float32)
    a[0, 0], b[3, 2] = np.inf, -np.inf
    for name, v in (("a", a), ("b", b), ("c", c)):
        np.save(tmp_path / f"{name}.npy", v)
    fmt = "mxfp8_e4m3"
    if "fp16" in accum:
        fmt = "fp16"
    elif "bf16" in accum:
        fmt = "bf16"
    for fa, fb in ((fmt, fmt), ("mxfp8_e5m2", "mxfp4_e2m1"), ("e5m2", "e4m3")):
        if fmt in ("fp16", "bf16") and fa != fmt:
            continue
        r = cli("gemm", "--a", tmp_path / "a.npy", "--b", tmp_path / "b.npy", "--c",
                tmp_path / "c.npy", "--output", tmp_path / "o.npy", "--format", fa, "--format-b",
                fb, "--accum", accum, check=False)
        try:
            got = mxlab.gemm(a, b, c, format=fa, format_b=fb, accum=accum)
        except ValueError as e:
            assert r.returncode != 0, f"module refused what the CLI took: {e}"
            assert str(e) in r.stderr, (str(e), r.stderr)
            continue
        assert r.returncode == 0, r.stderr
        assert same_bits(got, np.load(tmp_path / "o.npy")), f"{accum} {fa} {fb}"


def test_golden_same_cases(cli, tmp_path):
    h5py = pytest.importorskip("h5py")
    cli("golden", "--format", "mxfp8_e4m3", "--accum", "h100-mma-fp8", "--cases", 40, "--seed",
        3, "--k", 64, "--output", tmp_path / "g.h5")
    g = mxlab.golden(format="mxfp8_e4m3", accum="h100-mma-fp8", cases=40, seed=3, k=64)
    with h5py.File(tmp_path / "g.h5") as f:
        names = []
        f.visit(names.append)
        flat = {n.split("/")[-1]: f[n][()] for n in names if isinstance(f[n], h5py.Dataset)}
    assert g["expected"].shape == (40,)
    exp_key = next(k for k in flat if "expect" in k)
    assert np.array_equal(np.asarray(flat[exp_key]).reshape(-1).astype(np.uint64),
                          g["expected"].astype(np.uint64))


def test_ptq_report_equals_cli(cli, tmp_path):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((24, 64)).astype(np.float32)
    x = (rng.standard_normal((96, 64)) * np.linspace(0.1, 8, 64)).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    np.save(tmp_path / "x.npy", x)
    for alg, wf, af in (("awq+gptq", "mxint4", "mxint8"), ("smoothquant", "mxfp4_e2m1", "mxfp8_e4m3"),
                        ("crossquant", "int8", "int8"), ("rtn", "int4_g16", "none")):
        cli("ptq", "--weights", tmp_path / "w.npy", "--activations", tmp_path / "x.npy",
            "--algorithm", alg, "--weight-format", wf, "--act-format", af, "--output",
            tmp_path / "wq.npy", "--report", tmp_path / "r.json")
        wq, rep = mxlab.ptq(w, x, algorithm=alg, weight_format=wf, act_format=af)
        want = json.loads((tmp_path / "r.json").read_text())
        for d in (rep, want):  # the version string: test_formats_and_version
            d.pop("seconds")
            d.pop("mxlab_version")
        assert rep == want, alg
        assert same_bits(wq, np.load(tmp_path / "wq.npy")), alg


def test_formats_and_version(cli):
    # Equal when the CLI and the module were configured from the same commit (the revision is
    # baked in at configure time: reconfigure a stale build tree).
    assert mxlab.__version__ == cli("--version").stdout.strip()
    lines = cli("formats").stdout.splitlines()
    for d in mxlab.formats():
        if d["type"] == "element":
            assert f"  {d['description']}" in lines, d["name"]
        else:
            assert f"  {d['name']:<12} = {d['description']}" in lines, d["name"]


def test_accum_model_canonical(cli):
    for p in presets() + ["exact", "fp32-seq", "fused:k=8,w=inf"]:
        m = mxlab.AccumModel(p)
        assert mxlab.AccumModel(str(m)) == m


def test_eval_model_equals_cli(cli, tmp_path, shared):
    model = shared / "models" / "bytellama-7m"
    if not (model / "config.json").exists():
        pytest.skip(f"no model at {model}")
    text = model / "data" / "wiki_test.txt"
    kw = dict(windows=2, window_size=128, weight_format="mxint8", act_format="mxint8")
    cli("eval", "--model", model, "--text", text, "--windows", 2, "--window-size", 128,
        "--weight-format", "mxint8", "--act-format", "mxint8", "--threads", 2, "--report",
        tmp_path / "r.json")
    want = json.loads((tmp_path / "r.json").read_text())
    got = mxlab.eval_model(str(model), str(text), threads=2, **kw)
    for d in (got, want):  # the version string: test_formats_and_version
        d.pop("seconds")
        d.pop("mxlab_version")
        d["ptq"].pop("seconds")
    assert got == want
