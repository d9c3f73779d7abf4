#!/usr/bin/env python3
"""Independent numpy model of the H100 FP8 GEMM paths, for the analysis of the
torch._scaled_mm captures (tools/hw/scaled_mm_probe.py; results/HARDWARE.md).

It follows emulator/accum_model.hpp's definition of the fused step for the cuBLAS presets
(k = 32 consecutive products, W = 13, terms cut toward zero, the accumulator joins the
alignment, the step sum truncated to e8m13; default mode: every 128 indices the partial sum
is added into an fp32 accumulator with RNE) and adds what the captures show on top of it:
split-K (the K range cut into parts computed independently, their fp32 results summed in
fp32) and the epilogue (scales and the output conversion). Finite data only.

    python3 tools/hw/smm_model.py cap.h5 [--group SUBSTR]...  # per-group agreement table
"""
import argparse, json, sys
import numpy as np

EMIN = {"e4m3": -6, "e5m2": -14}


def tables(fmt):
    e, m = {"e4m3": (4, 3), "e5m2": (5, 2)}[fmt]
    b = (1 << (e - 1)) - 1
    c = np.arange(256)
    ef = (c >> m) & ((1 << e) - 1)
    mf = c & ((1 << m) - 1)
    v = np.where(ef == 0, mf / (1 << m) * 2.0 ** (1 - b), (1 + mf / (1 << m)) * 2.0 ** (ef - b))
    v = np.where(c >> 7, -v, v)
    x = np.where(ef == 0, EMIN[fmt], ef - b)  # alignment exponent (subnormals: emin)
    x = np.where(v == 0, -10000, x)
    return v.astype(np.float64), x.astype(np.int64)


def trunc_bits(s, p):
    """s truncated toward zero to p significant bits (float64 array)."""
    m, e = np.frexp(s)
    return np.ldexp(np.trunc(m * (1 << p)) / (1 << p), e)


def wgmma_chain(va, xa, vb, xb, promote=128, w=13, prec=14, k=32):
    """Chained fused steps over the whole K of va (P, K) x vb (P, K) (one output per row).
    Returns the fp32 result (the promoted fp32 accumulator, or the tensor-core accumulator
    when promote = 0) as float32."""
    P, K = va.shape
    acc = np.zeros(P)
    out = np.zeros(P, np.float32)
    for s in range(0, K, k):
        p = va[:, s:s + k] * vb[:, s:s + k]
        x = xa[:, s:s + k] + xb[:, s:s + k]
        x = np.where(p == 0, -10000, x)
        ma, ea = np.frexp(acc)
        xacc = np.where(acc == 0, -10000, np.maximum(ea - 1, -126))
        E = np.maximum(x.max(axis=1), xacc)
        q = np.ldexp(1.0, (E - w).clip(-1070, 1000))[:, None]
        S = (np.trunc(p / q) * q).sum(axis=1) + np.trunc(acc / q[:, 0]) * q[:, 0]
        acc = np.where(E < -5000, acc, trunc_bits(S, prec))
        if promote and ((s + k) % promote == 0 or s + k >= K):
            out = (out + acc.astype(np.float32)).astype(np.float32)
            acc = np.zeros(P)
    if not promote:
        out = acc.astype(np.float32)
    return out


def operands(g, t_sel=None):
    """Per-output operand rows: (P, K) values and exponents of A's row and B's column."""
    va_t, xa_t = tables(g["format_a"])
    vb_t, xb_t = tables(g["format_b"])
    A, B = g["a"], g["b"]  # T x M x K, T x N x K
    T, M, K = A.shape
    N = B.shape[1]
    ia = np.repeat(np.arange(M), N)
    ib = np.tile(np.arange(N), M)
    for t in (range(T) if t_sel is None else t_sel):
        a, b = A[t][ia], B[t][ib]
        yield t, va_t[a], xa_t[a], vb_t[b], xb_t[b]


def split_bounds(K, splits, rule, tile=128):
    """K ranges of `splits` parts: 'ceil' gives ceil(tiles/splits) k-tiles to each part but
    the last; 'even' spreads the remainder over the first parts."""
    nt = -(-K // tile)
    if rule == "ceil":
        per = -(-nt // splits)
        cuts = [min(i * per, nt) for i in range(splits + 1)]
    else:
        base, rem = divmod(nt, splits)
        cuts = [0]
        for i in range(splits):
            cuts.append(cuts[-1] + base + (1 if i < rem else 0))
    return [(min(c0 * tile, K), min(c1 * tile, K)) for c0, c1 in zip(cuts, cuts[1:])]


def to_out(x32, dtype):
    """fp32 -> output dtype with RNE, back to fp32 bits (exact widening)."""
    x32 = np.asarray(x32, np.float32)
    if dtype == "float32":
        return x32.view(np.uint32)
    if dtype == "float16":
        return x32.astype(np.float16).astype(np.float32).view(np.uint32)
    u = x32.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16  # bf16 RNE (finite values)
    return r.astype(np.uint32)


def read_group(f, name):
    h = f[name]
    g = {k: h[k][()] for k in ("a", "b", "d", "kind", "scale_a", "scale_b")}
    for k, v in h.attrs.items():
        g[k] = v.decode() if isinstance(v, bytes) else v
    return g


def main():
    import h5py
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--group", action="append", default=[])
    ap.add_argument("--splits", type=int, default=1)
    ap.add_argument("--rule", default="ceil")
    args = ap.parse_args()
    with h5py.File(args.data, "r") as f:
        for name in f:
            if args.group and not any(s in name for s in args.group):
                continue
            g = read_group(f, name)
            promote = 0 if g["fast"] else 128
            match = total = 0
            for t, va, xa, vb, xb in operands(g):
                R = np.zeros(va.shape[0], np.float32)
                for k0, k1 in split_bounds(g["k"], args.splits, args.rule):
                    R = (R + wgmma_chain(va[:, k0:k1], xa[:, k0:k1], vb[:, k0:k1], xb[:, k0:k1],
                                         promote)).astype(np.float32)
                d = g["d"][t].reshape(-1)
                match += int((to_out(R, g["out_dtype"]) == d).sum())
                total += d.size
            print(f"{name}: {match}/{total} ({100.0 * match / total:.2f} %)", flush=True)


if __name__ == "__main__":
    main()
