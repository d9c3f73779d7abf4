#!/usr/bin/env python3
"""Turns a probe.py capture written without h5py (DIR/manifest.json + DIR/<group>.<key>.npy)
into the HDF5 layout mxlab reads:  python3 tools/hw/npy2h5.py DIR OUT.h5"""
import json, os, sys
import h5py
import numpy as np

src, dst = sys.argv[1], sys.argv[2]
man = json.load(open(os.path.join(src, "manifest.json")))
with h5py.File(dst + ".tmp", "w") as f:
    f.attrs["layout"] = man["layout"]
    f.attrs["provenance"] = json.dumps(man["provenance"], indent=1)
    for name, g in man["groups"].items():
        h = f.create_group(name)
        for k, v in g["attrs"].items():
            h.attrs[k] = v
        for k in ("a", "b", "c", "d", "kind"):
            h.create_dataset(k, data=np.load(os.path.join(src, f"{name}.{k}.npy")),
                             compression="gzip", compression_opts=4)
os.replace(dst + ".tmp", dst)
