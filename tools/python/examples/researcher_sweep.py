"""Quantization researcher: SQNR of the MX formats over block sizes on heavy-tailed data, and
one linear layer through AWQ+GPTQ (the numbers of a paper's table, in a notebook cell)."""
import numpy as np

import mxlab

rng = np.random.default_rng(0)
x = rng.standard_t(df=3, size=(512, 1024)).astype(np.float32)


def sqnr_db(ref, q):
    return 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref - q) ** 2))


print("format        " + "".join(f"{b:>8}" for b in (8, 16, 32, 64)))
for fmt in ("mxfp8_e4m3", "mxfp6_e2m3", "mxfp4_e2m1", "mxint8", "mxint4"):
    row = [sqnr_db(x, mxlab.quantize(x, fmt, block_size=b)) for b in (8, 16, 32, 64)]
    print(f"{fmt:<14}" + "".join(f"{v:8.2f}" for v in row))

w = rng.standard_normal((256, 1024)).astype(np.float32) / 32
wq, report = mxlab.ptq(w, x, algorithm="awq+gptq", weight_format="mxint4", act_format="mxint8")
print(f"awq+gptq mxint4/mxint8: output SQNR {report['sqnr_db']:.2f} dB, "
      f"cosine {report['cosine']:.5f}")
