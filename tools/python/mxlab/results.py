"""Sweep result files (``mxlab sweep`` output, schema in results/README.md) as pandas tables."""
from __future__ import annotations

import os

from . import _core


def load(path, histograms: bool = False):
    """Reads a sweep result file with the library's reader and returns a pandas DataFrame.

    One row per point of /points (file order), one column per field (text fields as str, numbers
    as float64 or int64). ``df.attrs`` holds the file's root attributes (mxlab_version, config,
    schema_version, points_total, complete, ...) and ``df.attrs["axes"]`` the sweep axes. With
    histograms=True, a column ``hist`` holds each point's error histogram (uint64 array) and
    ``df.attrs["hist_edges"]`` the bin edges. Raises OSError naming the file when it is missing or
    not a result file.
    """
    import pandas as pd

    d = _core.read_results(os.fspath(path))
    cols = {}
    for name in d["names"]:
        cols[name] = d["columns"][name]
    df = pd.DataFrame(cols, columns=list(d["names"]))
    if histograms:
        df["hist"] = list(d["hist"])
    df.attrs.update(d["attrs"])
    df.attrs["axes"] = dict(d["axes"])
    df.attrs["hist_edges"] = list(d["hist_edges"])
    return df
