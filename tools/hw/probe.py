#!/usr/bin/env python3
"""GPU accumulation probe for mxlab hwcheck / hwfit (results/HARDWARE.md).

Runs on a machine with an NVIDIA GPU, nvcc and PyTorch:

    python3 tools/hw/probe.py --out DIR [--tiles 256] [--seed 1]

It builds tools/hw/mma_probe.cu, runs inline-PTX mma.sync tiles (m16n8k32 e4m3/e5m2 and
m16n8k16 f16/bf16, fp32 accumulator) and torch._scaled_mm FP8 GEMMs (default and
use_fast_accum=True), and writes DIR/probe.h5 (h5py) or, without h5py, DIR/*.npy plus
DIR/manifest.json that tools/hw/npy2h5.py turns into the same HDF5 file. Re-runnable
unchanged on any NVIDIA GPU that has these instructions (sm_89+ for FP8).

Layout (v1, see results/HARDWARE.md): one group per capture, each a batch of T GEMMs
D = A * B + C with A: T x M x K codes, B: T x N x K codes (B transposed), C, D: T x M x N
fp32 (D stored as uint32 bit patterns), kind: T uint8 indices into the group attribute
`kinds` (one name per line). Group attributes: op, format_a, format_b, m, n, k, note.
Root attributes: layout, provenance (JSON).
"""
import argparse, json, os, platform, re, subprocess, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- element codes ---------------------------------------------------------------------
FMT = {  # exponent bits, mantissa bits, code width in bytes
    "e4m3": (4, 3, 1), "e5m2": (5, 2, 1), "fp16": (5, 10, 2), "bf16": (8, 7, 2)}


def code(fmt, sign, ebits_field, man):
    e, m, _ = FMT[fmt]
    nb = 1 + e + m
    return ((np.asarray(sign).astype(np.int64) << (nb - 1)) |
            (np.asarray(ebits_field).astype(np.int64) << m) | np.asarray(man).astype(np.int64))


def dtype_of(fmt):
    return np.uint8 if FMT[fmt][2] == 1 else np.uint16


def max_efield(fmt):
    e, m, _ = FMT[fmt]
    top = (1 << e) - 1
    return top if fmt == "e4m3" else top - 1  # e4m3: field 15 is finite except mantissa 7


def finite_random(rng, fmt, shape, elo, ehi):
    """Codes with exponent FIELD uniform in [elo, ehi], random sign and mantissa (finite)."""
    e, m, _ = FMT[fmt]
    s = rng.integers(0, 2, shape)
    ef = rng.integers(elo, ehi + 1, shape)
    mm = rng.integers(0, 1 << m, shape)
    c = code(fmt, s, ef, mm)
    if fmt == "e4m3":  # 0x7F / 0xFF are NaN
        c = np.where((c & 0x7F) == 0x7F, c - 1, c)
    return c.astype(dtype_of(fmt))


def bias(fmt):
    return (1 << (FMT[fmt][0] - 1)) - 1


def f32_from_bits(u):
    return np.asarray(u, dtype=np.uint32).view(np.float32)


def rand_c(rng, shape, lo=-8, hi=8):
    """fp32 values with random exponents in [lo, hi] and full random mantissas."""
    s = rng.integers(0, 2, shape).astype(np.uint32)
    e = rng.integers(lo, hi + 1, shape).astype(np.int64) + 127
    m = rng.integers(0, 1 << 23, shape).astype(np.uint32)
    return f32_from_bits((s << 31) | (e.astype(np.uint32) << 23) | m)


# ---- data kinds ------------------------------------------------------------------------
KINDS = ["normal", "wide", "cancel", "subnormal", "with_c", "nan_inf", "single", "pair_gap",
         "acc_mag", "group_pos"]


def gen_kind(rng, kind, fmt, T, M, N, K):
    """Returns A (T,M,K), B (T,N,K) codes and C (T,M,N) float32 for one data kind."""
    b0 = bias(fmt)
    emax = max_efield(fmt)
    dt = dtype_of(fmt)
    narrow = (max(1, b0 - 2), min(emax, b0 + 2))
    if fmt == "bf16":  # keep products finite in fp32 in the wide kind
        wide = (b0 - 60, b0 + 60)
    else:
        wide = (1, emax)
    C = np.zeros((T, M, N), np.float32)
    if kind in ("normal", "with_c"):
        A = finite_random(rng, fmt, (T, M, K), *narrow)
        B = finite_random(rng, fmt, (T, N, K), *narrow)
        if kind == "with_c":
            C = rand_c(rng, (T, M, N), -6, 8)
    elif kind == "wide":
        A = finite_random(rng, fmt, (T, M, K), *wide)
        B = finite_random(rng, fmt, (T, N, K), *wide)
        # zero some elements: zeros take no part in the alignment
        A[rng.random(A.shape) < 0.05] = 0
    elif kind == "cancel":
        A = finite_random(rng, fmt, (T, M, K), *narrow)
        B = finite_random(rng, fmt, (T, N, K), *narrow)
        # the second half of K repeats the first half with A negated: exact cancellation,
        # then a few terms perturbed so that a small remainder survives
        h = K // 2
        perm = rng.permutation(h)
        A[:, :, h:2 * h] = A[:, :, perm] ^ dt(1 << (8 * A.itemsize - 1))
        B[:, :, h:2 * h] = B[:, :, perm]
        flip = rng.random((T, M, K)) < 0.03
        A[flip] ^= dt(1)
        C = np.where(rng.random((T, M, N)) < 0.5, rand_c(rng, (T, M, N), -12, 0), 0).astype(np.float32)
    elif kind == "subnormal":
        e, m, _ = FMT[fmt]
        A = finite_random(rng, fmt, (T, M, K), 0, 3)
        B = finite_random(rng, fmt, (T, N, K), 0, 3)
        if fmt in ("fp16", "bf16"):
            B = finite_random(rng, fmt, (T, N, K), b0 - 3, b0 + 3)
        C = np.where(rng.random((T, M, N)) < 0.3, rand_c(rng, (T, M, N), -30, -10), 0).astype(np.float32)
    elif kind == "nan_inf":
        A = finite_random(rng, fmt, (T, M, K), *narrow)
        B = finite_random(rng, fmt, (T, N, K), *narrow)
        specials = {"e4m3": [0x7F, 0xFF], "e5m2": [0x7C, 0xFC, 0x7E, 0x7D],
                    "fp16": [0x7C00, 0xFC00, 0x7E00], "bf16": [0x7F80, 0xFF80, 0x7FC0]}[fmt]
        for X in (A, B):
            mask = rng.random(X.shape) < 0.004
            X[mask] = rng.choice(specials, mask.sum())
        C = np.where(rng.random((T, M, N)) < 0.05,
                     rng.choice(np.array([np.inf, -np.inf, np.nan], np.float32), (T, M, N)),
                     rand_c(rng, (T, M, N), -4, 4)).astype(np.float32)
    elif kind == "single":
        # one non-zero product per output (at a random index) plus C at chosen magnitudes:
        # shows the rounding of C + product and the operand conversion
        A = np.zeros((T, M, K), dt)
        B = finite_random(rng, fmt, (T, N, K), 1, emax)
        idx = rng.integers(0, K, (T, M))
        vals = finite_random(rng, fmt, (T, M), 0, emax)
        for t in range(T):
            A[t, np.arange(M), idx[t]] = vals[t]
        C = np.where(rng.random((T, M, N)) < 0.7, rand_c(rng, (T, M, N), -20, 20), 0).astype(np.float32)
    elif kind == "pair_gap":
        # two non-zero products per output, exponent gap 0..~40 between them: pins W and
        # truncation vs rounding of the smaller term
        A = np.zeros((T, M, K), dt)
        B = np.zeros((T, N, K), dt)
        one_e = b0
        for t in range(T):
            i, j = rng.choice(K, 2, replace=False)
            B[t, :, i] = finite_random(rng, fmt, (N,), b0, b0 + 1)
            B[t, :, j] = finite_random(rng, fmt, (N,), max(1, b0 - 6), b0)
            A[t, :, i] = finite_random(rng, fmt, (M,), emax - 2, emax)
            A[t, :, j] = finite_random(rng, fmt, (M,), 0, emax)
    elif kind == "acc_mag":
        # products of moderate size and C at magnitudes from far below to far above them:
        # whether C joins the alignment (is truncated with the products) or is added apart
        A = finite_random(rng, fmt, (T, M, K), *narrow)
        B = finite_random(rng, fmt, (T, N, K), *narrow)
        A[rng.random(A.shape) < 0.5] = 0
        mag = rng.integers(-40, 41, (T, M, N))
        C = (rand_c(rng, (T, M, N), 0, 0) * np.exp2(mag)).astype(np.float32)
    elif kind == "group_pos":
        # one large product at index i and several tiny ones: the tiny ones are lost only
        # when they share a step with the large one, so outputs reveal the index grouping
        A = np.zeros((T, M, K), dt)
        B = finite_random(rng, fmt, (T, N, K), b0, b0)
        for t in range(T):
            i = rng.integers(0, K)
            A[t, :, i] = finite_random(rng, fmt, (M,), emax - 1, emax)
            small = rng.choice(K, min(K, 6), replace=False)
            small = small[small != i]
            A[t][:, small] = finite_random(rng, fmt, (M, len(small)), 1, max(1, emax // 3))
    else:
        raise ValueError(kind)
    return A, B, C.astype(np.float32)


# ---- provenance ------------------------------------------------------------------------
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"unavailable: {e}"


def sass_summary(binary):
    """Per-kernel opcode histogram of the mma-related instructions."""
    cuobj = sh("which cuobjdump") or "/usr/local/cuda/bin/cuobjdump"
    txt = sh(f"{cuobj} -sass {binary}")
    out, fn = {}, None
    for line in txt.splitlines():
        mfn = re.search(r"Function : (\S+)", line)
        if mfn:
            fn = mfn.group(1)
            out[fn] = {}
            continue
        mop = re.match(r"\s+/\*[0-9a-f]{4}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]+)", line)
        if fn and mop:
            op = mop.group(1)
            if any(s in op for s in ("MMA", "F2FP", "FADD", "FFMA", "FMUL", "HADD", "HFMA")):
                out[fn][op] = out[fn].get(op, 0) + 1
    return out


# ---- main ------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiles", type=int, default=64, help="mma.sync tiles per kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--arch", default=None, help="nvcc -arch (default: from the GPU)")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-mma", action="store_true")
    ap.add_argument("--torch-kinds", default="normal,wide,cancel,subnormal,pair_gap,group_pos,nan_inf,single",
                    help="data kinds for the torch._scaled_mm captures (C is always 0 there)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    groups = {}  # name -> dict(attrs=..., data=...)
    prov = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
            "nvidia_smi": sh("nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader"),
            "nvcc": sh("nvcc --version | tail -2"), "seed": args.seed, "command": " ".join(sys.argv)}

    # --- mma.sync -----------------------------------------------------------------------
    cap = sh("nvidia-smi --query-gpu=compute_cap --format=csv,noheader").splitlines()
    arch = args.arch or ("sm_" + cap[0].replace(".", "") + ("a" if cap and cap[0] == "9.0" else "")
                         if cap else "sm_90a")
    binary = os.path.join(args.out, "mma_probe")
    r = subprocess.run(["nvcc", "-O2", "-std=c++17", f"-arch={arch}", "-o", binary,
                        os.path.join(HERE, "mma_probe.cu")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nvcc failed:\n" + r.stderr)
    prov["mma_arch"] = arch
    prov["mma_sass"] = sass_summary(binary)
    ops = [] if args.skip_mma else [("e4m3", "e4m3", 32), ("e5m2", "e5m2", 32), ("f16", "fp16", 16),
                                    ("bf16", "bf16", 16)]
    for op, fmt, ki in ops:
        for K in (ki, 4 * ki):  # one instruction, and a chain of four (D feeds C)
            As, Bs, Cs, ks = [], [], [], []
            T = args.tiles if K == ki else max(16, args.tiles // 4)
            for kid, kind in enumerate(KINDS):
                A, B, C = gen_kind(rng, kind, fmt, T, 16, 8, K)
                As.append(A); Bs.append(B); Cs.append(C); ks.append(np.full(T, kid, np.uint8))
            A, B, C, kk = map(np.concatenate, (As, Bs, Cs, ks))
            tmp = os.path.join(args.out, "tmp")
            A.tofile(tmp + ".a"); B.tofile(tmp + ".b"); C.astype(np.float32).tofile(tmp + ".c")
            r = subprocess.run([binary, op, str(len(kk)), str(K), tmp + ".a", tmp + ".b", tmp + ".c",
                                tmp + ".d"], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"mma_probe {op} failed: {r.stderr}")
            D = np.fromfile(tmp + ".d", np.uint32).reshape(len(kk), 16, 8)
            name = f"mma_{fmt}_k{K}"
            groups[name] = dict(attrs=dict(op=f"mma.sync.m16n8k{ki}.{op}.f32", format_a=fmt,
                                           format_b=fmt, m=16, n=8, k=K, kinds="\n".join(KINDS),
                                           note="K > instruction k: chained mma.sync, D feeds C"),
                                data=dict(a=A, b=B, c=C, d=D, kind=kk))
            print(name, A.shape, flush=True)
    for p in ("a", "b", "c", "d"):
        try:
            os.remove(os.path.join(args.out, "tmp." + p))
        except OSError:
            pass

    # --- torch._scaled_mm ---------------------------------------------------------------
    if not args.skip_torch:
        try:
            torch_probe(rng, groups, prov, args.torch_kinds.split(","))
        except Exception as e:  # noqa: BLE001  (keep the mma.sync captures)
            print("torch probe failed:", repr(e), flush=True)
            prov["torch_error"] = repr(e)
    write(args.out, groups, prov)


def torch_probe(rng, groups, prov, tkinds):
    if True:
        import torch
        prov["torch"] = torch.__version__
        prov["torch_cuda"] = torch.version.cuda
        prov["cublas"] = str(torch.backends.cuda.preferred_blas_library()) if hasattr(torch.backends.cuda, "preferred_blas_library") else ""
        prov["gpu"] = torch.cuda.get_device_name(0)
        dev = "cuda"
        one = torch.tensor(1.0, device=dev)
        kernels = {}
        configs = [(K, 64, 64, 1) for K in (32, 64, 128, 256, 512)] + \
                  [(K, 32, 32, 1) for K in (1024, 2048, 4096)] + [(1024, 256, 512, 1)]
        for fa, fb in (("e4m3", "e4m3"), ("e4m3", "e5m2")):
            tdt = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}
            for K, M, N, T in configs:
                if fb == "e5m2" and (M > 64 or K > 1024):
                    continue
                kl = tkinds if M <= 64 else ["normal"]
                As, Bs, ks = [], [], []
                for kid, kind in enumerate(KINDS):
                    if kind not in kl:
                        continue
                    A, _, _ = gen_kind(rng, kind, fa, T, M, N, K)
                    _, B, _ = gen_kind(rng, kind, fb, T, M, N, K)
                    if kind in ("pair_gap", "group_pos"):  # B as generated with A
                        A, B2, _ = gen_kind(rng, kind, fa, T, M, N, K)
                        B = B2 if fb == fa else B
                    As.append(A); Bs.append(B); ks.append(np.full(T, kid, np.uint8))
                A, B, kk = map(np.concatenate, (As, Bs, ks))
                for fast in (False, True):
                    Ds = []
                    for t in range(len(kk)):
                        at = torch.from_numpy(A[t].copy()).to(dev).view(tdt[fa])
                        bt = torch.from_numpy(B[t].copy()).to(dev).view(tdt[fb])  # N x K
                        try:
                            call = lambda: torch._scaled_mm(at, bt.t(), scale_a=one, scale_b=one,  # noqa: E731
                                                            out_dtype=torch.float32, use_fast_accum=fast)
                            if t == 0:  # record which kernel cuBLAS picked
                                with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                                    d = call()
                                    torch.cuda.synchronize()
                                names = sorted({e.name for e in prof.events()
                                                if e.device_type == torch.autograd.DeviceType.CUDA})
                            else:
                                d = call()
                        except Exception as e:  # noqa: BLE001
                            print(f"scaled_mm {fa}x{fb} K={K} fast={fast}: {e}", flush=True)
                            Ds = None
                            break
                        Ds.append(d.cpu().numpy().view(np.uint32))
                    if Ds is None:
                        continue
                    tag = "fast" if fast else "default"
                    name = f"cublas_{fa}_{fb}_{tag}_k{K}_m{M}n{N}"
                    kernels[name] = names
                    groups[name] = dict(attrs=dict(op=f"torch._scaled_mm use_fast_accum={fast}",
                                                   format_a=fa, format_b=fb, m=M, n=N, k=K,
                                                   kinds="\n".join(KINDS),
                                                   note="scale_a = scale_b = 1, out_dtype float32, no bias; C = 0"),
                                        data=dict(a=A, b=B, c=np.zeros((len(kk), M, N), np.float32),
                                                  d=np.stack(Ds), kind=kk))
                    print(name, names, flush=True)
        prov["cublas_kernels"] = kernels


def write(out, groups, prov):
    try:
        import h5py
    except ImportError:
        h5py = None
    if h5py is not None:
        path = os.path.join(out, "probe.h5")
        with h5py.File(path + ".tmp", "w") as f:
            f.attrs["layout"] = "mxlab-hwprobe-v1"
            f.attrs["provenance"] = json.dumps(prov, indent=1)
            for name, g in groups.items():
                h = f.create_group(name)
                for k, v in g["attrs"].items():
                    h.attrs[k] = v
                for k, v in g["data"].items():
                    h.create_dataset(k, data=v, compression="gzip", compression_opts=4)
        os.replace(path + ".tmp", path)
        print("wrote", path)
    man = {"layout": "mxlab-hwprobe-v1", "provenance": prov, "groups": {}}
    for name, g in groups.items():
        man["groups"][name] = {"attrs": {k: (int(v) if isinstance(v, (np.integer,)) else v)
                                         for k, v in g["attrs"].items()}}
        if h5py is None:
            for k, v in g["data"].items():
                np.save(os.path.join(out, f"{name}.{k}.npy"), v)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)


if __name__ == "__main__":
    main()
