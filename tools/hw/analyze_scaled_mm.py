#!/usr/bin/env python3
"""Replays the torch._scaled_mm captures through tools/hw/smm_model.py with the split-K
count cuBLASLt reported (its CUBLASLT_LOG_LEVEL=2 trace) and the epilogue variants below,
and prints one row per group: kernel, tile, splits, agreement of each variant.

    python3 tools/hw/analyze_scaled_mm.py --capture DIR/capture_*.npz --log DIR/lt.log.gz \
        [--group SUBSTR]... [--json out.json] [--procs N]
    python3 tools/hw/analyze_scaled_mm.py annotate cap.h5 DIR/lt.log.gz   # attrs splits, algo

Inputs are regenerated from the seed (tools/hw/scaled_mm_probe.py), so this runs where the
capture ran as well as here. Variants (each row names them):
  model       the logged split count, parts of ceil(k-tiles/splits) k-tiles of 128, each a
              chained wgmma model (default: fp32 promotion every 128), parts summed in fp32
              in order, then the epilogue, then RNE into the output type
  no-split    the same as one part
  even-split  the remainder of k-tiles spread over the first parts
  epilogue    tensor scales: R*(sa*sb), (R*sa)*sb, one rounding of R*sa*sb;
              row-wise: R*(sa_i*sb_j), (R*sa_i)*sb_j, (R*sb_j)*sa_i, one rounding
  out-rz      bf16/fp16 output truncated instead of RNE
  reverse-order-sum / parts-summed-exactly   other reductions of the split-K parts
  scaled-parts   the epilogue applied to each part before the sum
"""
import argparse, gzip, json, os, re, sys
from multiprocessing import Pool
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smm_model as sm  # noqa: E402
import scaled_mm_probe as smp  # noqa: E402

F32 = np.float32
OUT_T = {"float32": "R_32F", "bfloat16": "R_16BF", "float16": "R_16F"}


def lt_table(path):
    """(fa, fb, K, M, N, out type, fast, rowwise) -> cuBLASLt algo fields. cuBLASLt computes
    the transposed product: its A is torch's B (N x K, type fb), its B is torch's A."""
    op = gzip.open if path.endswith(".gz") else open
    tab = {}
    with op(path, "rt") as f:
        for line in f:
            A = re.search(r"Adesc=\[type=R_8F_(\w+) rows=(\d+) cols=(\d+)", line)
            B = re.search(r"Bdesc=\[type=R_8F_(\w+) rows=(\d+) cols=(\d+)", line)
            D = re.search(r"Ddesc=\[type=(\w+)", line)
            al = re.search(r"algo=\[(.*?)\]", line)
            if not (A and B and D and al):
                continue
            fields = dict(kv.split("=", 1) for kv in al.group(1).split())
            key = (B.group(1).lower(), A.group(1).lower(), int(A.group(2)), int(B.group(3)),
                   int(A.group(3)), D.group(1), "fastAccumulationFlag=1" in line,
                   "OUTER_VEC" in line)
            tab[key] = fields
    return tab


def to_out_rz(x32, dtype):
    x32 = np.asarray(x32, F32)
    if dtype == "bfloat16":
        return (x32.view(np.uint32) & np.uint32(0xFFFF0000)).astype(np.uint32)
    if dtype == "float16":  # truncate: largest fp16 not above |x| in magnitude
        h = x32.astype(np.float16)
        over = np.abs(h.astype(F32)) > np.abs(x32)
        h = np.where(over, np.nextafter(h, np.float16(0)), h)
        return h.astype(F32).view(np.uint32)
    return x32.view(np.uint32)


def epilogues(R, sa, sb, scaling):
    if scaling == "none":
        return {"plain": R}
    if scaling == "tensor":
        a, b = F32(sa[0]), F32(sb[0])
        return {"R*(sa*sb)": (R * F32(a * b)).astype(F32),
                "(R*sa)*sb": ((R * a).astype(F32) * b).astype(F32),
                "exact R*sa*sb, one rounding": (R.astype(np.float64) * float(a) * float(b)).astype(F32)}
    return {"R*(sa_i*sb_j)": (R * (sa * sb).astype(F32)).astype(F32),
            "(R*sa_i)*sb_j": ((R * sa).astype(F32) * sb).astype(F32),
            "(R*sb_j)*sa_i": ((R * sb).astype(F32) * sa).astype(F32),
            "exact R*sa*sb, one rounding": (R.astype(np.float64) * sa.astype(np.float64) *
                                            sb.astype(np.float64)).astype(F32)}


def partials(va, xa, vb, xb, K, splits, rule, promote):
    return [sm.wgmma_chain(va[:, k0:k1], xa[:, k0:k1], vb[:, k0:k1], xb[:, k0:k1], promote)
            for k0, k1 in sm.split_bounds(K, splits, rule)]


def fsum(parts):
    R = np.zeros_like(parts[0])
    for p in parts:
        R = (R + p).astype(F32)
    return R


def run_group(job):
    gname, m, d, sa_all, sb_all, seed, algo = job
    A, B, kk, _, _ = smp.inputs(m, seed)
    rows = m["rows"]
    g = dict(a=A[:, :rows], b=B, format_a=m["fa"], format_b=m["fb"])
    K, fast, out, scaling = m["k"], bool(m["fast"]), m["out"], m["scaling"]
    splits = int(algo.get("numSplitsK", 1))
    promote = 0 if fast else 128
    M, N = rows, m["n"]
    counts, total = {}, 0

    def add(name, bits, ref):
        counts[name] = counts.get(name, 0) + int((bits == ref).sum())

    for t, va, xa, vb, xb in sm.operands(g):
        ref = d[t].reshape(-1)
        total += ref.size
        sa = np.repeat(sa_all[t, :rows], N).astype(F32)
        sb = np.tile(sb_all[t], M).astype(F32)
        parts = partials(va, xa, vb, xb, K, splits, "ceil", promote)
        R = fsum(parts)
        eps = epilogues(R, sa, sb, scaling)
        for e, v in eps.items():
            add("model " + e, sm.to_out(v, out), ref)
        first = next(iter(eps))
        if out != "float32":
            add("out-rz " + first, to_out_rz(eps[first], out), ref)
        if splits > 1:
            R1 = sm.wgmma_chain(va, xa, vb, xb, promote)
            add("no-split " + first, sm.to_out(next(iter(epilogues(R1, sa, sb, scaling).values())), out), ref)
            Re = fsum(partials(va, xa, vb, xb, K, splits, "even", promote))
            add("even-split " + first, sm.to_out(next(iter(epilogues(Re, sa, sb, scaling).values())), out), ref)
            e0 = lambda R_: next(iter(epilogues(R_, sa, sb, scaling).values()))  # noqa: E731
            add("reverse-order-sum " + first, sm.to_out(e0(fsum(parts[::-1])), out), ref)
            exact = np.sum(np.array(parts, np.float64), axis=0).astype(F32)
            add("parts-summed-exactly " + first, sm.to_out(e0(exact), out), ref)
            if scaling != "none":  # scale each part, then sum
                Rp = fsum([next(iter(epilogues(p, sa, sb, scaling).values())) for p in parts])
                add("scaled-parts " + first, sm.to_out(Rp, out), ref)
    kern = [k for k in m["kernels"] if "Memcpy" not in k and "elementwise" not in k]
    return gname, dict(family=m["family"], fa=m["fa"], fb=m["fb"], k=K, m=m["m"], n=N,
                       rows=rows, fast=int(fast), out=out, scaling=scaling, kernels=kern,
                       splits=splits, tile=algo.get("tile", "?"), total=total, counts=counts)


def annotate(h5path, log):
    """Adds to every torch._scaled_mm group of an assembled capture the cuBLASLt algo fields
    of its calls (attribute `cublaslt_algo`, JSON) and the split-K count (`splits`)."""
    import h5py
    tab = lt_table(log)
    with h5py.File(h5path, "r+") as f:
        for name, h in f.items():
            a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in h.attrs.items()}
            key = (a["format_a"], a["format_b"], int(a["k"]), int(a["m_called"]), int(a["n"]),
                   OUT_T[a["out_dtype"]], bool(a["fast"]), a["scaling"] == "row")
            if key not in tab:
                sys.exit(f"{name}: no cuBLASLt trace line for {key}")
            h.attrs["cublaslt_algo"] = json.dumps(tab[key])
            h.attrs["splits"] = int(tab[key].get("numSplitsK", 1))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "annotate":  # annotate CAP.h5 LOG
        return annotate(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", nargs="+", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--group", action="append", default=[])
    ap.add_argument("--json")
    ap.add_argument("--procs", type=int, default=1)
    args = ap.parse_args()
    tab = lt_table(args.log)
    jobs = []
    for path in args.capture:
        z = np.load(path)
        info = json.loads(bytes(z["meta"]).decode())
        seed = info["provenance"]["seed"]
        for gname, m in info["groups"].items():
            if args.group and not any(s in gname for s in args.group):
                continue
            key = (m["fa"], m["fb"], m["k"], m["m"], m["n"], OUT_T[m["out"]], bool(m["fast"]),
                   m["scaling"] == "row")
            if key not in tab:
                sys.exit(f"{gname}: no cuBLASLt trace line for {key}")
            jobs.append((gname, m, z[gname + ".d"], z[gname + ".sa"], z[gname + ".sb"], seed,
                         tab[key]))
    jobs.sort(key=lambda j: -j[1]["k"] * j[1]["rows"] * j[1]["n"] * j[1]["T"])
    res = {}
    with Pool(args.procs) as pool:
        for gname, r in pool.imap_unordered(run_group, jobs):
            res[gname] = r
            tot = r["total"]
            print(f"{gname} | {','.join(k[:64] for k in r['kernels'])} | {r['tile']} | splits "
                  f"{r['splits']} | " + " ; ".join(f"{e}: {c}/{tot} ({100.0 * c / tot:.2f} %)"
                                                  for e, c in r["counts"].items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
