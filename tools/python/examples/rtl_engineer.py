"""Kernel / RTL engineer: packed MX operands for a testbench and golden dot products with the
output bits an implementation must produce."""
import numpy as np

import mxlab

x = np.random.default_rng(2).standard_normal((4, 64)).astype(np.float32)
q = mxlab.encode(x, "mxfp4_e2m1", block_size=32)
print("first row: scales", [f"{s:02x}" for s in q.scales[0]], "packed", q.packed[:8].tobytes().hex())
assert np.array_equal(q.decode(), mxlab.quantize(x, "mxfp4_e2m1"))

g = mxlab.golden(format="mxfp8_e4m3", accum="h100-mma-fp8", cases=8, k=32)
for kind, exp in zip(g["kind"], g["expected"]):
    print(f"{kind:<10} expected output bits {exp:08x}")
