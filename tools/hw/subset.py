#!/usr/bin/env python3
"""Cuts a probe.py capture down to a small file for the repository (tests, HARDWARE.md):
    python3 tools/hw/subset.py FULL.h5 OUT.h5 [--tiles 8] [--rows 16] [--rows-long 8]
Keeps, per group, the first --tiles tiles of each data kind and, for GEMM captures, the first
--rows rows of A and of B (--rows-long for K >= 1024) with the matching block of C and D.
Every kept output is still a complete dot product, so agreement is checked the same way.
--group SUBSTR (repeatable) keeps only the groups whose name contains one of them, --kinds
only the listed data kinds; scale_a / scale_b (scaled_mm_probe.py captures) are cut with A
and B."""
import argparse, json
import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("dst")
ap.add_argument("--tiles", type=int, default=8)
ap.add_argument("--rows", type=int, default=16)
ap.add_argument("--rows-long", type=int, default=8)
ap.add_argument("--rows-xlong", type=int, default=0, help="rows for K >= 8192 (default: --rows-long)")
ap.add_argument("--group", action="append", default=[], help="keep groups whose name has SUBSTR")
ap.add_argument("--kinds", default="", help="comma-separated data kinds to keep (default: all)")
a = ap.parse_args()
with h5py.File(a.src) as f, h5py.File(a.dst + ".tmp", "w") as o:
    for k, v in f.attrs.items():
        o.attrs[k] = v
    prov = json.loads(f.attrs["provenance"])
    prov["subset"] = f"tools/hw/subset.py --tiles {a.tiles} --rows {a.rows} --rows-long {a.rows_long}"
    if a.rows_xlong or a.group or a.kinds:  # the options added for the scaled_mm captures
        prov["subset"] += (f" --rows-xlong {a.rows_xlong} --kinds {a.kinds or 'all'} " +
                           " ".join(f"--group {x}" for x in a.group))
    o.attrs["provenance"] = json.dumps(prov, indent=1)
    for name, g in f.items():
        if a.group and not any(s in name for s in a.group):
            continue
        kind = g["kind"][:]
        names = g.attrs["kinds"]
        names = (names.decode() if isinstance(names, bytes) else names).split("\n")
        wanted = [x for x in np.unique(kind) if not a.kinds or names[x] in a.kinds.split(",")]
        if not wanted:
            continue
        keep = np.concatenate([np.where(kind == x)[0][:a.tiles] for x in wanted])
        K = g["a"].shape[2]
        r = a.rows if K < 1024 else a.rows_long
        if K >= 8192 and a.rows_xlong:
            r = a.rows_xlong
        m, n = min(r, g["a"].shape[1]), min(r, g["b"].shape[1])
        if g["a"].shape[1] == 16 and g["b"].shape[1] == 8:  # an mma.sync tile: keep it whole
            m, n = 16, 8
        h = o.create_group(name)
        for k, v in g.attrs.items():
            h.attrs[k] = v
        h.attrs["m"], h.attrs["n"] = m, n
        data = dict(a=g["a"][:][keep, :m], b=g["b"][:][keep, :n], c=g["c"][:][keep, :m, :n],
                    d=g["d"][:][keep, :m, :n], kind=kind[keep])
        if "scale_a" in g:  # torch._scaled_mm captures (tools/hw/scaled_mm_probe.py)
            data["scale_a"] = g["scale_a"][:][keep, :m]
            data["scale_b"] = g["scale_b"][:][keep, :n]
        for k, v in data.items():
            h.create_dataset(k, data=v, compression="gzip", compression_opts=9, shuffle=True)
import os
os.replace(a.dst + ".tmp", a.dst)
