#!/usr/bin/env python3
"""Cuts a probe.py capture down to a small file for the repository (tests, HARDWARE.md):
    python3 tools/hw/subset.py FULL.h5 OUT.h5 [--tiles 8] [--rows 16] [--rows-long 8]
Keeps, per group, the first --tiles tiles of each data kind and, for GEMM captures, the first
--rows rows of A and of B (--rows-long for K >= 1024) with the matching block of C and D.
Every kept output is still a complete dot product, so agreement is checked the same way."""
import argparse, json
import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("dst")
ap.add_argument("--tiles", type=int, default=8)
ap.add_argument("--rows", type=int, default=16)
ap.add_argument("--rows-long", type=int, default=8)
a = ap.parse_args()
with h5py.File(a.src) as f, h5py.File(a.dst + ".tmp", "w") as o:
    for k, v in f.attrs.items():
        o.attrs[k] = v
    prov = json.loads(f.attrs["provenance"])
    prov["subset"] = f"tools/hw/subset.py --tiles {a.tiles} --rows {a.rows} --rows-long {a.rows_long}"
    o.attrs["provenance"] = json.dumps(prov, indent=1)
    for name, g in f.items():
        kind = g["kind"][:]
        keep = np.concatenate([np.where(kind == x)[0][:a.tiles] for x in np.unique(kind)])
        K = g["a"].shape[2]
        r = a.rows if K < 1024 else a.rows_long
        m, n = min(r, g["a"].shape[1]), min(r, g["b"].shape[1])
        if g["a"].shape[1] == 16 and g["b"].shape[1] == 8:  # an mma.sync tile: keep it whole
            m, n = 16, 8
        h = o.create_group(name)
        for k, v in g.attrs.items():
            h.attrs[k] = v
        h.attrs["m"], h.attrs["n"] = m, n
        data = dict(a=g["a"][:][keep, :m], b=g["b"][:][keep, :n], c=g["c"][:][keep, :m, :n],
                    d=g["d"][:][keep, :m, :n], kind=kind[keep])
        for k, v in data.items():
            h.create_dataset(k, data=v, compression="gzip", compression_opts=9, shuffle=True)
import os
os.replace(a.dst + ".tmp", a.dst)
