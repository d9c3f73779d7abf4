"""Hardware architect: how much does the accumulator of a tensor core change a GEMM? Compare the
exact sum with the H100 presets and a narrower fused alignment on the same MX operands."""
import numpy as np

import mxlab

rng = np.random.default_rng(1)
a = rng.standard_normal((64, 4096)).astype(np.float32)
b = rng.standard_normal((4096, 64)).astype(np.float32)
exact = mxlab.gemm(a, b, format="mxfp8_e4m3", accum="exact").astype(np.float64)
for accum in ("fp32-seq", "h100-mma-fp8", "h100-cublas-fp8", "h100-cublas-fp8-fast",
              "fused:k=32,w=14,acc=fp32,round=toward-zero"):
    c = mxlab.gemm(a, b, format="mxfp8_e4m3", accum=accum)
    err = np.abs(c - exact).max() / np.abs(exact).max()
    differ = np.mean(c != exact.astype(np.float32))
    print(f"{accum:<44} max |err| / max |C| {err:.3e}, outputs differing from exact "
          f"{100 * differ:.1f} %")
print("canonical h100-cublas-fp8:", mxlab.AccumModel("h100-cublas-fp8"))
