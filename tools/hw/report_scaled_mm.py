#!/usr/bin/env python3
"""Markdown tables for results/HARDWARE.md from analyze_scaled_mm.py --json files.

    python3 tools/hw/report_scaled_mm.py analysis.json [more.json ...]

Table 1: per group (K, shape, dtypes, mode, output, scaling), kernel, cuBLASLt tile and split
count, the model's agreement and the best of the other variants. Table 2: per family."""
import json, sys

MODEL = {"none": "model plain", "tensor": "model R*(sa*sb)", "row": "model (R*sb_j)*sa_i"}


def main():
    res = {}
    for p in sys.argv[1:]:
        res.update(json.load(open(p)))
    rows = sorted(res.items(), key=lambda kv: (kv[1]["family"], kv[1]["fa"], kv[1]["fb"],
                                               kv[1]["out"], kv[1]["scaling"], kv[1]["k"],
                                               kv[1]["m"], kv[1]["n"], kv[1]["fast"]))
    print("| group | kernel (profiler) | tile, splits (cuBLASLt) | model | nearest other variant |")
    print("|---|---|---|---|---|")
    fam = {}
    for name, r in rows:
        c = r["counts"]
        mk = MODEL[r["scaling"]]
        m = c[mk]
        others = {k: v for k, v in c.items() if k != mk}
        o = max(others, key=others.get) if others else None
        kern = [k for k in r["kernels"] if not k.startswith("void cublasLt::splitKreduce")]
        red = " + splitKreduce" if len(kern) < len(r["kernels"]) else ""
        tile = r["tile"].replace("MATMUL_TILE_", "")
        print(f"| {name} | `{kern[0] if kern else '?'}`{red} | {tile}, {r['splits']} | "
              f"{m}/{r['total']} ({100.0 * m / r['total']:.2f} %) | " +
              (f"{o}: {others[o]}/{r['total']} ({100.0 * others[o] / r['total']:.2f} %)" if o else "-") + " |")
        key = (r["family"], f"{r['fa']} x {r['fb']}", "fast" if r["fast"] else "default", r["out"], r["scaling"])
        f = fam.setdefault(key, [0, 0, set(), set()])
        f[0] += m; f[1] += r["total"]; f[2].add(r["k"]); f[3].add(f"{r['m']}x{r['n']}")
    print()
    print("| family | operands | mode | output | scales | K | M x N | model: match / total |")
    print("|---|---|---|---|---|---|---|---|")
    for key, (m, t, ks, shapes) in sorted(fam.items()):
        print(f"| {' | '.join(key)} | {', '.join(map(str, sorted(ks)))} | {', '.join(sorted(shapes))} | "
              f"{m}/{t} ({100.0 * m / t:.2f} %) |")


if __name__ == "__main__":
    main()
