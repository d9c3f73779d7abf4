"""mxlab Python benchmark (beside tools/bench's Google Benchmark binaries).

1. mxlab.quantize on a 4096 x 4096 float32 array against the C++ kernel on the same buffers,
   timed in the same process (mxlab._core.time_kernel: the library's quantize_buffer, no
   argument handling, no allocation): into a numpy array (out=) and as a new array. The
   module's large results are huge-page mappings (tools/python/src/module.cpp), so the kernel
   is also timed into such a buffer. Target: module / kernel <= 1.1.
2. mxlab.quantize on a 256 x 1024 array against the CLI round trip (write .npy, run
   `mxlab quantize`, read .npy), the way a user without the module would call it. Target: >= 10x.
3. encode's arrays are views of one buffer (np.shares_memory), and encode costs about one
   quantize, not a quantize plus copies.

Usage: python3 tools/python/bench/quantize_bench.py [--cli build/release/tools/mxlab]
       [--threads N] [--repeats R]. Prints a Markdown table. Best-of-R timings: the machine is
shared, so the minimum is the least disturbed measurement.
"""
import argparse
import os
import subprocess
import tempfile
import time

import numpy as np

import mxlab
from mxlab import _core


def best(fn, repeats):
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default=os.environ.get("MXLAB_BIN", "build/release/tools/mxlab"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--format", default="mxfp8_e4m3")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    x = rng.standard_normal((4096, 4096)).astype(np.float32)
    y = np.empty_like(x)
    # interleave the two so that load changes hit both alike
    mod, ker = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        mxlab.quantize(x, a.format, threads=a.threads, out=y)
        mod.append(time.perf_counter() - t0)
        ker.append(_core.time_kernel(x, y, a.format, 32, a.threads, 1))
    t_new = best(lambda: mxlab.quantize(x, a.format, threads=a.threads), a.repeats)
    # the kernel again, into a buffer the module allocated (huge pages, as a new result gets)
    yh = mxlab.quantize(x, a.format, threads=a.threads)
    ker_h = _core.time_kernel(x, yh, a.format, 32, a.threads, a.repeats)
    rows.append(("quantize 4096x4096 f32, out=", min(mod) * 1e3, min(ker) * 1e3,
                 min(mod) / min(ker), "<= 1.1"))
    rows.append(("quantize 4096x4096 f32, new array", t_new * 1e3, min(ker) * 1e3,
                 t_new / min(ker), "<= 1.1"))
    rows.append(("quantize 4096x4096 f32, new array / kernel into a module-allocated array",
                 t_new * 1e3, ker_h * 1e3, t_new / ker_h, "<= 1.1"))

    s = rng.standard_normal((256, 1024)).astype(np.float32)
    t_mod = best(lambda: mxlab.quantize(s, a.format, threads=a.threads), a.repeats)
    if os.access(a.cli, os.X_OK):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")

            def round_trip():
                np.save(src, s)
                subprocess.run([a.cli, "quantize", "--input", src, "--output", dst, "--format",
                                a.format, "--threads", str(a.threads)], check=True)
                return np.load(dst)

            assert np.array_equal(round_trip().view(np.uint32),
                                  mxlab.quantize(s, a.format).view(np.uint32))
            t_cli = best(round_trip, max(5, a.repeats // 2))
        rows.append(("quantize 256x1024: CLI round trip / module", t_cli * 1e3, t_mod * 1e3,
                     t_cli / t_mod, ">= 10"))
    else:
        print(f"(no CLI at {a.cli}: round-trip comparison skipped)")

    q = mxlab.encode(x, a.format, threads=a.threads)
    shared = all(np.shares_memory(v, q.buffer) for v in (q.codes, q.scales, q.packed))
    t_enc = best(lambda: mxlab.encode(x, a.format, threads=a.threads), max(3, a.repeats // 3))
    rows.append(("encode 4096x4096 / quantize", t_enc * 1e3, t_new * 1e3, t_enc / t_new,
                 f"views of one buffer: {shared}"))

    print(f"format {a.format}, threads {a.threads}, best of {a.repeats}")
    print("| measurement | A (ms) | B (ms) | A / B | target |")
    print("|---|---:|---:|---:|---|")
    for name, ta, tb, r, target in rows:
        print(f"| {name} | {ta:.2f} | {tb:.2f} | {r:.3f} | {target} |")


if __name__ == "__main__":
    main()
