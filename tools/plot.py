#!/usr/bin/python3
"""Plots of an mxlab sweep result file (h5py + matplotlib only; no mxlab needed).

    tools/plot.py results/default.h5 [--out-dir DIR] [--format png|svg]
                  [--where key=value ...] [--metric sqnr_db] [--error-metric mse]
                  [--block-size 32]

Writes two figures next to the input (or into --out-dir):
  NAME_sqnr_vs_bits.FMT        metric vs bits per element at one block size, one marker per
                               format; lines join the best float / int format at each width;
  NAME_error_vs_block_size.FMT error metric vs block size, one line per format.
Points are filtered by --where (repeatable). Unless given there, rounding, scale_rule and
workload are fixed to the first value of their axis (config order); whatever still varies
(e.g. seeds) is averaged. Schema: results/README.md.
"""
import argparse
import os
import sys

import h5py
import numpy as np


def load(path):
    with h5py.File(path, "r") as f:
        if f.attrs.get("schema") != "mxlab-sweep":
            sys.exit(f"plot.py: {path}: not an mxlab sweep result file")
        pts = f["points"][:]
        axes = {k: [v.decode() if isinstance(v, bytes) else v for v in f["axes"][k][:]]
                for k in f["axes"]}
    cols = {}
    for name in pts.dtype.names:
        col = pts[name]
        cols[name] = np.char.decode(col, "utf-8") if col.dtype.kind == "S" else col
    return cols, axes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("--out-dir")
    ap.add_argument("--format", choices=["png", "svg"], default="png")
    ap.add_argument("--where", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--metric", default="sqnr_db", help="y of the bits plot (default sqnr_db)")
    ap.add_argument("--error-metric", default="mse", help="y of the block-size plot (default mse)")
    ap.add_argument("--block-size", type=int, help="block size of the bits plot (default 32 if swept)")
    a = ap.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols, axes = load(a.input)
    n = len(cols["point_id"])
    if n == 0:
        sys.exit(f"plot.py: {a.input}: no points")
    for m in (a.metric, a.error_metric):
        if m not in cols:
            sys.exit(f"plot.py: --metric {m}: no such column")
    keep = np.ones(n, bool)
    where = {}
    for w in a.where:
        k, _, v = w.partition("=")
        if k not in cols:
            sys.exit(f"plot.py: --where {w}: no column {k}")
        where[k] = v
    for k in ("rounding", "scale_rule", "workload"):
        if k not in where and axes.get(k):
            where[k] = str(axes[k][0])
    for k, v in where.items():
        keep &= np.array([str(x) == v for x in cols[k]])
    if not keep.any():
        sys.exit(f"plot.py: no point matches {where}")
    sel = {k: c[keep] for k, c in cols.items()}
    formats = [f for f in axes.get("format", sorted(set(sel["format"]))) if f in set(sel["format"])]
    blocks = sorted(set(int(b) for b in sel["block_size"]))
    note = ", ".join(f"{k}={v}" for k, v in where.items())

    def mean(metric, fmt, block):
        m = (sel["format"] == fmt) & (sel["block_size"] == block)
        return float(np.mean(sel[metric][m])) if m.any() else np.nan

    stem = os.path.splitext(os.path.basename(a.input))[0]
    out_dir = a.out_dir or os.path.dirname(os.path.abspath(a.input))
    os.makedirs(out_dir, exist_ok=True)
    written = []

    # 1. metric vs bits at one block size.
    bs = a.block_size if a.block_size is not None else (32 if 32 in blocks else blocks[0])
    if bs not in blocks:
        sys.exit(f"plot.py: --block-size {bs}: not in the file ({blocks})")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for family, marker in (("float", "o"), ("int", "s")):
        fs = [f for f in formats if (sel["elem"][sel["format"] == f][0].startswith("int")) == (family == "int")]
        pts = sorted((int(sel["bits"][sel["format"] == f][0]), mean(a.metric, f, bs), f) for f in fs)
        if not pts:
            continue
        sc = ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=f"MX {family}")
        # The line joins the best format of the family at each width.
        best = {}
        for b, y, f in pts:
            if np.isfinite(y) and (b not in best or y > best[b]):
                best[b] = y
        ax.plot(sorted(best), [best[b] for b in sorted(best)], color=sc.get_facecolor()[0], alpha=0.6)
        for b, y, f in pts:
            ax.annotate(f, (b, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("bits per element")
    ax.set_ylabel(a.metric)
    ax.set_title(f"{a.metric} vs bits (block size {bs})\n{note}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend()
    p = os.path.join(out_dir, f"{stem}_sqnr_vs_bits.{a.format}")
    fig.tight_layout()
    fig.savefig(p)
    written.append(p)
    plt.close(fig)

    # 2. error vs block size, one line per format.
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for f in formats:
        ys = [mean(a.error_metric, f, b) for b in blocks]
        ax.plot(blocks, ys, marker="o", label=f)
    ax.set_xscale("log", base=2)
    ax.set_xticks(blocks)
    ax.set_xticklabels([str(b) for b in blocks])
    if not a.error_metric.endswith("_db") and all(
            v > 0 for v in sel[a.error_metric] if np.isfinite(v)):
        ax.set_yscale("log")
    ax.set_xlabel("block size")
    ax.set_ylabel(a.error_metric)
    ax.set_title(f"{a.error_metric} vs block size\n{note}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    p = os.path.join(out_dir, f"{stem}_error_vs_block_size.{a.format}")
    fig.tight_layout()
    fig.savefig(p)
    written.append(p)
    plt.close(fig)
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
