#!/usr/bin/env python3
"""torch._scaled_mm FP8 captures over the shapes, dtypes, modes and scales users run
(issue 19; results/HARDWARE.md, section "cuBLAS FP8 as users call it").

Two steps, so that only the GPU's outputs travel (long-K inputs are tens of MB):

    # on the GPU machine (PyTorch, numpy; no h5py needed)
    CUBLASLT_LOG_LEVEL=2 CUBLASLT_LOG_FILE=DIR/lt.log python3 tools/hw/scaled_mm_probe.py \
        capture --out DIR [--plan full|smoke] [--seed 19]
    # here: regenerate the inputs from the seed, check them against the device's hashes and
    # write an mxlab-hwprobe-v1 file (with the optional v1 keys below)
    python3 tools/hw/scaled_mm_probe.py assemble --capture DIR/capture.npz --out cap.h5

The inputs of every group come from numpy's PCG64 seeded with (seed, crc32(group name)), so
both sides draw the same codes; `assemble` refuses a group whose SHA-256 differs.

Layout: mxlab-hwprobe-v1 (tools/hw/probe.py) plus optional keys that hwcheck ignores:
group attributes `out_dtype` (float32 | bfloat16 | float16: `d` then holds the fp32 bits of
the exactly widened output), `scaling` (none | tensor | row), `fast` (0/1), `kernels` (JSON:
kernel name -> launches over the group's calls, from torch.profiler), `family`; datasets
`scale_a` (T x M fp32) and `scale_b` (T x N fp32): the factors the epilogue applied (for
`tensor` scaling every row holds the one value). C is 0 (no bias).
"""
import argparse, hashlib, json, os, sys, time, zlib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import probe  # noqa: E402  (gen_kind, KINDS: the data kinds of the mma.sync probe)

KINDS = probe.KINDS + ["split_order"]  # split_order: torch captures only (split_order())
KS_ALL = [32, 64, 128, 256, 512, 1024, 2048, 3000, 3008, 3024, 4096, 8192, 11008, 14336, 16384,
          32768]
KS_MIX = [32, 128, 1024, 3024, 4096, 8192, 14336, 32768]
SHAPES = [(16, 16), (16, 512), (512, 16), (32, 128), (128, 32), (48, 80), (128, 128),
          (256, 512), (512, 256), (512, 512)]


def plan(which):
    """Group specs: name, family, fa, fb, M, N, K, kinds (one tile each), out, scaling."""
    g = []

    def add(fam, fa, fb, M, N, K, kinds, out="float32", scaling="none"):
        name = f"{fam}_{fa}_{fb}_k{K}_m{M}n{N}_{out}_{scaling}"
        g.append(dict(name=name, family=fam, fa=fa, fb=fb, m=M, n=N, k=K, kinds=kinds, out=out,
                      scaling=scaling))

    if which == "order":  # the split-K reduction: one large part, tiny single products after
        for K in (8192, 14336, 32768):
            add("order", "e4m3", "e4m3", 64, 64, K, ["split_order"] * 4)
        return g
    if which == "smoke":
        add("kseq", "e4m3", "e4m3", 64, 64, 8192, ["normal"])
        add("rowwise", "e4m3", "e4m3", 64, 64, 128, ["normal"], "bfloat16", "row")
        return g
    rich = ["normal", "wide", "cancel", "subnormal", "pair_gap", "group_pos"]
    long_ = ["normal", "wide", "cancel", "pair_gap", "group_pos"]
    for K in KS_ALL:
        add("kseq", "e4m3", "e4m3", 64, 64, K, rich if K <= 4096 else long_)
    for fa, fb in (("e4m3", "e5m2"), ("e5m2", "e4m3")):
        for K in KS_MIX:
            add("kseq", fa, fb, 64, 64, K, ["normal", "wide", "cancel"])
    for K in (128, 4096, 11008):
        for M, N in SHAPES:
            big = M * N >= 65536
            add("shape", "e4m3", "e4m3", M, N, K, ["normal"] if big else ["normal", "wide", "cancel"])
    for out in ("bfloat16", "float16"):
        for fa, fb in (("e4m3", "e4m3"), ("e4m3", "e5m2")):
            for K in (64, 1024, 8192, 14336):
                add("outdt", fa, fb, 64, 64, K, ["normal", "wide", "cancel"], out)
    for out in ("float32", "bfloat16", "float16"):
        for K in (128, 4096, 14336):
            add("tscale", "e4m3", "e4m3", 64, 64, K, ["normal", "wide", "cancel"], out, "tensor")
    for out in ("bfloat16", "float32"):
        for K in (128, 4096, 11008):
            for M, N in ((64, 64), (128, 256)):
                add("rowwise", "e4m3", "e4m3", M, N, K, ["normal", "wide", "cancel"], out, "row")
    return g


# ---- inputs ----------------------------------------------------------------------------
def fp8_values(fmt):
    """float64 value of each of the 256 codes (NaN for NaN codes)."""
    e, m = {"e4m3": (4, 3), "e5m2": (5, 2)}[fmt]
    b = (1 << (e - 1)) - 1
    c = np.arange(256)
    s = np.where(c >> 7, -1.0, 1.0)
    ef = (c >> m) & ((1 << e) - 1)
    mf = c & ((1 << m) - 1)
    v = np.where(ef == 0, mf / (1 << m) * 2.0 ** (1 - b), (1 + mf / (1 << m)) * 2.0 ** (ef - b))
    v = s * v
    if fmt == "e4m3":
        v[(c & 0x7F) == 0x7F] = np.nan
    else:
        v[ef == 31] = np.where(mf[ef == 31] == 0, s[ef == 31] * np.inf, np.nan)
    return v


def convert_codes(codes, src, dst):
    """Codes of src re-encoded in dst: nearest value, ties to the even code, saturating."""
    sv, dv = fp8_values(src), fp8_values(dst)
    pos = np.array([c for c in range(128) if np.isfinite(dv[c])])  # non-negative finite
    pv = dv[pos]
    table = np.zeros(256, np.uint8)
    for c in range(256):
        x = sv[c]
        if not np.isfinite(x):
            table[c] = c if src == dst else (0x7F | (c & 0x80))
            continue
        a = min(abs(x), pv.max())
        i = int(np.searchsorted(pv, a))
        if i >= len(pv):
            i = len(pv) - 1
        cand = [j for j in (i - 1, i) if 0 <= j < len(pv)]
        best = min(cand, key=lambda j: (abs(pv[j] - a), pos[j] & 1))
        table[c] = pos[best] | (0x80 if x < 0 or (x == 0 and c & 0x80) else 0)
    return table[codes]


def split_order(rng, M, N, K):
    """e4m3 codes: large products over the first quarter of K (one split-K part holds them
    all), then 1-3 tiny products per row at random later indices, each near half an fp32 ulp
    of the large sum: the order in which the parts are added shows in the rounding."""
    A = np.zeros((1, M, K), np.uint8)
    B = np.zeros((1, N, K), np.uint8)
    q = K // 4
    A[0, :, :q] = probe.finite_random(rng, "e4m3", (M, q), 12, 14)   # 32 .. 240
    B[0, :, :] = probe.finite_random(rng, "e4m3", (N, K), 6, 8)      # 0.5 .. 1.875
    B[0, :, :q] &= 0x7F  # positive: the large sum does not cancel
    A[0, :, :q] &= 0x7F
    for i in range(M):
        for k in rng.choice(np.arange(q + 128, K), rng.integers(1, 4), replace=False):
            A[0, i, k] = probe.finite_random(rng, "e4m3", (1,), 1, 8)[0]  # 2^-6 .. 2
    return A, B


def rand_scale(rng, shape, lo=-3, hi=2):
    """fp32 factors with random exponents in [lo, hi] and full mantissas (positive)."""
    return np.abs(probe.rand_c(rng, shape, lo, hi)).astype(np.float32)


def inputs(spec, seed):
    rng = np.random.default_rng([seed, zlib.crc32(spec["name"].encode())])
    M, N, K = spec["m"], spec["n"], spec["k"]
    As, Bs, ks = [], [], []
    for kind in spec["kinds"]:
        if kind == "split_order":
            A, B = split_order(rng, M, N, K)
            As.append(A); Bs.append(B); ks.append(np.full(1, KINDS.index(kind), np.uint8))
            continue
        A, B, _ = probe.gen_kind(rng, kind, spec["fa"], 1, M, N, K)
        if spec["fb"] != spec["fa"]:
            B = convert_codes(B, spec["fa"], spec["fb"])
        As.append(A.astype(np.uint8)); Bs.append(B.astype(np.uint8))
        ks.append(np.full(1, KINDS.index(kind), np.uint8))
    A, B, kk = map(np.concatenate, (As, Bs, ks))
    T = len(kk)
    if spec["scaling"] == "tensor":
        sa = np.repeat(rand_scale(rng, (T, 1)), M, 1)
        sb = np.repeat(rand_scale(rng, (T, 1)), N, 1)
    elif spec["scaling"] == "row":
        sa, sb = rand_scale(rng, (T, M)), rand_scale(rng, (T, N))
    else:
        sa, sb = np.ones((T, M), np.float32), np.ones((T, N), np.float32)
    return A, B, kk, sa.astype(np.float32), sb.astype(np.float32)


def keep_rows(spec):
    """Rows of D kept: all, except for tiles of 64K outputs or more (the first 32 rows)."""
    return spec["m"] if spec["m"] * spec["n"] < 65536 else 32


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


# ---- capture (GPU) ---------------------------------------------------------------------
def capture(args):
    import torch
    dev = "cuda"
    tdt = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}
    odt = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    os.makedirs(args.out, exist_ok=True)
    prov = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seed": args.seed,
            "torch": torch.__version__, "torch_cuda": torch.version.cuda,
            "gpu": torch.cuda.get_device_name(0), "numpy": np.__version__,
            "nvidia_smi": probe.sh("nvidia-smi --query-gpu=name,driver_version,compute_cap "
                                   "--format=csv,noheader"),
            "command": " ".join(sys.argv), "plan": args.plan}
    try:
        prov["cublaslt_version"] = torch._C._cuda_getCompiledVersion()
    except Exception:  # noqa: BLE001
        pass
    store, meta, errors = {}, {}, {}
    t0 = time.time()
    for spec in plan(args.plan):
        A, B, kk, sa, sb = inputs(spec, args.seed)
        T, M, N = len(kk), spec["m"], spec["n"]
        for fast in (False, True):
            gname = spec["name"] + ("_fast" if fast else "_default")
            D = np.zeros((T, M, N), np.uint32)
            try:
                with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                    for t in range(T):
                        at = torch.from_numpy(A[t]).to(dev).view(tdt[spec["fa"]])
                        bt = torch.from_numpy(B[t]).to(dev).view(tdt[spec["fb"]])  # N x K
                        if spec["scaling"] == "row":
                            s_a = torch.from_numpy(sa[t].reshape(M, 1).copy()).to(dev)
                            s_b = torch.from_numpy(sb[t].reshape(1, N).copy()).to(dev)
                        else:
                            s_a = torch.tensor(float(sa[t, 0]), dtype=torch.float32, device=dev)
                            s_b = torch.tensor(float(sb[t, 0]), dtype=torch.float32, device=dev)
                        d = torch._scaled_mm(at, bt.t(), scale_a=s_a, scale_b=s_b,
                                             out_dtype=odt[spec["out"]], use_fast_accum=fast)
                        D[t] = d.float().cpu().numpy().view(np.uint32)
                    torch.cuda.synchronize()
            except Exception as e:  # noqa: BLE001
                errors[gname] = str(e).splitlines()[0][:300]
                print("FAIL", gname, errors[gname], flush=True)
                continue
            kern = {}
            for ev in prof.events():
                if ev.device_type == torch.autograd.DeviceType.CUDA:
                    kern[ev.name] = kern.get(ev.name, 0) + 1
            rows = keep_rows(spec)  # large tiles: the first rows only travel back
            fam = store.setdefault(spec["family"], {})
            fam[gname + ".d"] = D[:, :rows]
            fam[gname + ".sa"] = sa
            fam[gname + ".sb"] = sb
            meta[gname] = dict(spec, fast=int(fast), T=T, kernels=kern, rows=rows,
                               sha_ab=digest(A, B, kk, sa, sb))
            print(gname, {k[:70]: v for k, v in kern.items() if "elementwise" not in k},
                  f"{time.time() - t0:.0f}s", flush=True)
    prov["errors"] = errors
    for fam, arrays in store.items():
        arrays["meta"] = np.frombuffer(json.dumps({"provenance": prov, "groups": {
            g: m for g, m in meta.items() if m["family"] == fam}}).encode(), np.uint8)
        path = os.path.join(args.out, f"capture_{fam}.npz")
        np.savez_compressed(path, **arrays)
        print("wrote", path, os.path.getsize(path), f"{time.time() - t0:.0f}s")


# ---- assemble (here) -------------------------------------------------------------------
def write_group(f, z, gname, m, seed):
    A, B, kk, sa, sb = inputs(m, seed)
    if digest(A, B, kk, sa, sb) != m["sha_ab"]:
        print("input mismatch, group left out:", gname)
        return False
    rows = m["rows"]  # D holds the first `rows` rows of each tile: A and scale_a likewise
    A, sa = A[:, :rows], sa[:, :rows]
    h = f.create_group(gname)
    fast = bool(m["fast"])
    h.attrs["op"] = f"torch._scaled_mm use_fast_accum={fast}"
    h.attrs["format_a"], h.attrs["format_b"] = m["fa"], m["fb"]
    h.attrs["m"], h.attrs["n"], h.attrs["k"] = rows, m["n"], m["k"]
    h.attrs["m_called"] = m["m"]
    h.attrs["kinds"] = "\n".join(KINDS)
    h.attrs["note"] = (f"out_dtype {m['out']} (d: fp32 bits of the widened output), scaling "
                       f"{m['scaling']}, C = 0; called with M = {m['m']}, first {rows} rows kept")
    h.attrs["out_dtype"], h.attrs["scaling"] = m["out"], m["scaling"]
    h.attrs["fast"], h.attrs["family"] = int(fast), m["family"]
    h.attrs["kernels"] = json.dumps(m["kernels"])
    T = len(kk)
    data = dict(a=A, b=B, c=np.zeros((T, rows, m["n"]), np.float32), d=z[gname + ".d"],
                kind=kk, scale_a=sa, scale_b=sb)
    for k, v in data.items():
        h.create_dataset(k, data=v, compression="gzip", compression_opts=4)
    return True


def assemble(args):
    import h5py
    zs = [np.load(p) for p in args.capture]
    infos = [json.loads(bytes(z["meta"]).decode()) for z in zs]
    prov = infos[0]["provenance"]
    prov["assembled"] = {"numpy": np.__version__, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                        time.gmtime())}
    bad = 0
    with h5py.File(args.out + ".tmp", "w") as f:
        f.attrs["layout"] = "mxlab-hwprobe-v1"
        f.attrs["provenance"] = json.dumps(prov, indent=1)
        for z, info in zip(zs, infos):
            for gname, m in info["groups"].items():
                if args.only and not any(s in gname for s in args.only):
                    continue
                if not write_group(f, z, gname, m, prov["seed"]):
                    bad += 1
    os.replace(args.out + ".tmp", args.out)
    print("wrote", args.out, "groups left out:", bad)
    return 1 if bad else 0


def compare(args):
    """Outputs of two captures of the same plan and seed: differing elements per group."""
    diff = total = 0
    for pa, pb in zip(sorted(args.a), sorted(args.b)):
        za, zb = np.load(pa), np.load(pb)
        for k in za.files:
            if k.endswith(".d"):
                n = int((za[k] != zb[k]).sum())
                diff += n
                total += za[k].size
                if n:
                    print(k, n, "of", za[k].size, "differ")
    print(f"{diff} of {total} outputs differ between the two captures")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--out", required=True)
    c.add_argument("--plan", default="full", choices=["full", "smoke", "order"])
    c.add_argument("--seed", type=int, default=19)
    a = sub.add_parser("assemble")
    a.add_argument("--capture", required=True, nargs="+")
    a.add_argument("--out", required=True)
    a.add_argument("--only", action="append", default=[])
    cp = sub.add_parser("compare")
    cp.add_argument("--a", nargs="+", required=True)
    cp.add_argument("--b", nargs="+", required=True)
    args = ap.parse_args()
    if args.cmd == "compare":
        return compare(args)
    if args.cmd == "capture":
        capture(args)
    else:
        sys.exit(assemble(args))


if __name__ == "__main__":
    main()
