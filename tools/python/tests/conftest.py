"""Shared fixtures: the golden sets (../shared, or MXLAB_SHARED) and the CLI (MXLAB_BIN)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def shared_dir() -> Path:
    env = os.environ.get("MXLAB_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared():
    d = shared_dir()
    if not (d / "golden").is_dir():
        pytest.skip(f"golden sets not found under {d} (set MXLAB_SHARED to the shared/ folder)")
    return d


def _find_cli():
    env = os.environ.get("MXLAB_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    for cand in (REPO / "build/release/tools/mxlab", REPO / "build/tools/mxlab"):
        if os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("mxlab")


@pytest.fixture(scope="session")
def cli():
    exe = _find_cli()
    if exe is None:
        pytest.skip("the mxlab CLI was not found: set MXLAB_BIN to the built binary "
                    "(e.g. build/release/tools/mxlab) to compare the module with it")

    def run(*args, check=True):
        r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"mxlab {' '.join(map(str, args))} failed: {r.stderr.strip()}")
        return r

    run.exe = exe
    return run


def same_bits(a, b, any_nan: bool = False) -> bool:
    """Bitwise equality of float arrays (NaN payloads included, unless any_nan: then a NaN
    matches any NaN, as tests/emulator/golden_test.cpp compares the golden sets)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    u = {4: np.uint32, 8: np.uint64, 2: np.uint16}[a.dtype.itemsize]
    if any_nan:
        na, nb = np.isnan(a), np.isnan(b)
        return np.array_equal(na, nb) and np.array_equal(a[~na].view(u), b[~nb].view(u))
    return np.array_equal(a.view(u), b.view(u))


def load_manifest(d: Path):
    return json.loads((d / "manifest.json").read_text())
