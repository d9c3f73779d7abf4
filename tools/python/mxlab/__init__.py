"""mxlab: a bit-accurate emulator of OCP Microscaling (MX v1.0) arithmetic, from Python.

Every function calls the same C++ library functions as the ``mxlab`` command line, so the module
and the CLI give the same bits. Arrays go in and come out as numpy arrays; float32 / float64
C-contiguous inputs are used in place (no copy), anything else array-like is converted (see
:func:`quantize`). The GIL is released while the library works; ``threads=None`` uses every core,
like the CLI's default ``--threads``. Keyword names are the CLI's flag names with ``_`` for
``-`` and accept the same values; bad arguments raise ValueError or TypeError with the CLI's
one-line message.
"""
from __future__ import annotations

import json as _json

import numpy as _np

from . import _core
from ._convert import (as_values as _values, float_arg as _float, int_arg as _int,
                       seed_value as _seed, str_arg as _str, threads_arg as _threads)
from . import results

__all__ = ["__version__", "formats", "quantize", "encode", "Encoded", "gemm", "AccumModel",
           "golden", "ptq", "eval_model", "results"]

#: The same string as ``mxlab --version``: "mxlab 0.1.0 (<git revision>)".
__version__: str = _core.__version__
version_number: str = _core.version_number
AccumModel = _core.AccumModel
AccumModel.__doc__ = """An accumulator model (``--accum``): ``AccumModel("h100-cublas-fp8")``.

Parses and validates the model syntax of ``mxlab gemm --accum`` (exact, fp32-seq, fp32-pairwise,
fused:k=..., the hardware presets); ``str(model)`` is the canonical descriptor, which parses back
to an equal model. ``AccumModel.presets()`` lists the preset names. Invalid text raises
ValueError naming the culprit."""


def formats() -> list[dict]:
    """The format catalogue, as ``mxlab formats`` lists it.

    One dict per element format (``type`` "element": name, kind, bits, exp_bits, man_bits, bias,
    nonfinite, emax, emin, max, description) and per concrete MX format (``type`` "mx", with
    element, block_size and scale added). ``description`` is the line ``mxlab formats`` prints.
    """
    return _core.formats()


def _qargs(format, block_size, axis, rounding, overflow, scale_rule, scale_format, compat, seed,
           threads):
    return dict(format=_str(format, "--format"), block_size=_int(block_size, "--block-size", True),
                axis=_int(axis, "--axis"), rounding=_str(rounding, "--rounding"),
                overflow=_str(overflow, "--overflow"), scale_rule=_str(scale_rule, "--scale-rule"),
                scale_format=_str(scale_format, "--scale-format", True),
                compat=_str(compat, "--compat"), seed=_seed(seed), threads=_threads(threads))


def quantize(x, format: str, block_size: int | None = None, axis: int = -1,
             rounding: str = "nearest-even", overflow: str = "saturate", scale_rule: str = "floor",
             scale_format: str | None = None, compat: str = "ocp", seed: int = 0,
             threads: int | None = None, out: _np.ndarray | None = None) -> _np.ndarray:
    """MX fake-quantization (quantize, then dequantize), as ``mxlab quantize --output``.

    x: any array of numbers. float32 and float64 C-contiguous arrays are read in place and the
    result has x's shape and dtype. Other inputs are converted first: float16, bfloat16 and the
    other ml_dtypes floats to float32 (exactly), integers and booleans to float64, Fortran-ordered
    and strided arrays to C order; the result is then float32 resp. float64 (a narrower dtype
    could not hold every dequantized value, and rounding into it would quantize a second time).
    format: mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4_e2m1, mxint8, mx<elem>, nvfp4,
    or an element format (e4m3, bf16, int8, ...) for element-wise rounding.
    block_size: elements per shared scale (None: 32; nvfp4: 16). axis: the axis the blocks run
    along. rounding, overflow, scale_rule, scale_format, compat, seed: as the CLI flags of the
    same names (README, "quantize"). out: optional float32/float64 C-contiguous array of x's shape
    and dtype to write into (may be x itself). Returns the dequantized values.
    """
    a = _values(x)
    return _core.quantize(a, out=out, **_qargs(format, block_size, axis, rounding, overflow,
                                               scale_rule, scale_format, compat, seed, threads))


class Encoded:
    """The result of :func:`encode`: one buffer and numpy views of it (no copies).

    codes: one element code per input element, x's shape, the narrowest unsigned dtype that holds
    them (uint8 up to 8 bits, uint16 up to 16). scales: one scale code per block (uint8 for E8M0
    and ue4m3, uint32 for fp32 scales), shaped like x with the blocked axis replaced by the number
    of blocks; empty for element formats. packed: the codes packed at their bit width, exactly the
    bytes of ``mxlab quantize --codes-output``. buffer: the uint8 array they all view
    (``np.shares_memory(q.codes, q.buffer)`` holds). format, element, scale_format, block_size,
    axis, shape, bits describe the encoding.
    """

    __slots__ = ("buffer", "codes", "scales", "packed", "format", "element", "scale_format",
                 "block_size", "axis", "shape", "bits", "_values")

    def __init__(self, buffer, layout, shape, axis, dtype):
        self.buffer = buffer
        self.shape = tuple(shape)
        self.format = layout["format"]
        self.element = layout["element"]
        self.scale_format = layout["scale_format"] or None
        self.block_size = layout["block_size"]
        self.bits = layout["bits"]
        self.axis = axis
        rank = len(self.shape)
        ax = axis + rank if axis < 0 else axis
        codes_dt = {1: _np.uint8, 2: _np.uint16, 4: _np.uint32}

        def view(key, dt, shp):
            off, count, width = layout[key]
            v = buffer[off:off + count * width].view(dt)
            return v.reshape(shp)

        self._values = view("values", dtype, self.shape)
        self.codes = view("codes", codes_dt[layout["codes"][2]], self.shape)
        if self.block_size > 0 and rank > 0:
            sshape = list(self.shape)
            sshape[ax] = -(-sshape[ax] // self.block_size)
            self.scales = view("scales", codes_dt[layout["scales"][2]], tuple(sshape))
        elif self.block_size > 0:
            self.scales = view("scales", codes_dt[layout["scales"][2]], ())
        else:
            self.scales = view("scales", _np.uint8, (0,))
        self.packed = view("packed", _np.uint8, (layout["packed"][1],))
        for a in (self._values, self.codes, self.scales, self.packed):
            a.flags.writeable = False

    def decode(self) -> _np.ndarray:
        """The dequantized values (float32, or float64 for float64 input), bit for bit what
        :func:`quantize` returns with the same arguments. The library computes them with the codes
        (in microxcaling mode a negative value rounding to zero gives -0 even in integer
        formats, which the codes alone cannot record). Returns a new writable array."""
        return self._values.copy()

    def __repr__(self):
        return (f"Encoded(format={self.format!r}, shape={self.shape}, block_size={self.block_size},"
                f" axis={self.axis}, bits={self.bits})")


def encode(x, format: str, block_size: int | None = None, axis: int = -1,
           rounding: str = "nearest-even", overflow: str = "saturate", scale_rule: str = "floor",
           scale_format: str | None = None, compat: str = "ocp", seed: int = 0,
           threads: int | None = None) -> Encoded:
    """Quantizes x and returns its element codes, scale codes and packed stream (:class:`Encoded`).

    Same arguments and conversions as :func:`quantize`; the codes are those of
    ``mxlab quantize --codes-output / --scales-output``.
    """
    a = _values(x)
    kw = _qargs(format, block_size, axis, rounding, overflow, scale_rule, scale_format, compat,
                seed, threads)
    buffer, layout = _core.encode(a, **kw)
    return Encoded(buffer, layout, a.shape, kw["axis"], a.dtype)


def gemm(a, b, c=None, format: str = "mxfp8_e4m3", format_b: str | None = None,
         block_size: int = 32, accum: str | AccumModel = "exact", promote_every: int | None = None,
         output_format: str = "fp32", rounding: str = "nearest-even",
         threads: int | None = None) -> _np.ndarray:
    """C = A B (+ C0) as ``mxlab gemm``: a (M x K) and b (K x N) quantized along K in `format`
    (`format_b` for b; E8M0-scaled MX or element formats), multiplied under the accumulator model
    `accum` (a string or :class:`AccumModel`), rounded into `output_format`. c: optional M x N
    addend (float64 is rounded to float32). Returns float32 M x N. Inputs are converted as in
    :func:`quantize`; the result does not depend on `threads`."""
    A = _values(a, "--a")
    B = _values(b, "--b")
    C = None if c is None else _values(c, "--c")
    if isinstance(accum, AccumModel):
        accum = str(accum)
    return _core.gemm(A, B, C, format=_str(format, "--format"),
                      format_b=_str(format_b, "--format-b", True),
                      block_size=_int(block_size, "--block-size"),
                      accum=_str(accum, "--accum"),
                      promote_every=_int(promote_every, "--promote-every", True),
                      output_format=_str(output_format, "--output-format"),
                      rounding=_str(rounding, "--rounding"), threads=_threads(threads))


def golden(format: str, accum: str | AccumModel = "exact", cases: int = 64, seed: int = 0,
           k: int = 32, format_b: str | None = None, block_size: int = 32,
           promote_every: int | None = None, output_format: str = "fp32",
           rounding: str = "nearest-even") -> dict:
    """Golden test vectors as ``mxlab golden`` makes them (same cases for the same seed).

    Returns a dict of numpy arrays: a, b (cases x k float32 inputs), c (addends), a_codes, b_codes
    (uint32 element codes), a_scales, b_scales (uint8 E8M0 codes, cases x blocks), expected (uint32
    output codes in output_format), expected_value (them decoded, float64); kind (list of case
    kinds) and accum (the canonical model string)."""
    if isinstance(accum, AccumModel):
        accum = str(accum)
    return _core.golden(format=_str(format, "--format"), accum=_str(accum, "--accum"),
                        cases=_int(cases, "--cases"), seed=_seed(seed), k=_int(k, "--k"),
                        format_b=_str(format_b, "--format-b", True),
                        block_size=_int(block_size, "--block-size"),
                        promote_every=_int(promote_every, "--promote-every", True),
                        output_format=_str(output_format, "--output-format"),
                        rounding=_str(rounding, "--rounding"))


def ptq(weights, activations, algorithm: str = "rtn", weight_format: str = "mxint4",
        act_format: str = "none", block_size: int = 32, alpha: float = 0.5, group_size: int = 0,
        damp: float = 0.01, act_order: bool = False, gptq_block: int = 128, awq_grid: int = 20,
        awq_tokens: int = 512, no_awq_clip: bool = False, pow2_scales: bool = False,
        rounding: str = "nearest-even", scale_rule: str = "floor", return_smooth: bool = False):
    """Post-training quantization of one linear layer, as ``mxlab ptq``.

    weights: W (out x in), activations: X (samples x in). Returns (Wq, report): the quantized
    weights (W's dtype after conversion, original input basis) and the report dict, equal key for
    key to the CLI's ``--report`` JSON (non-finite numbers are None there, as in the JSON). With
    return_smooth=True, also the per-input smoothing factors s (``--smooth-output``)."""
    W = _values(weights, "--weights")
    X = _values(activations, "--activations")
    for flag, v in (("--act-order", act_order), ("--no-awq-clip", no_awq_clip),
                    ("--pow2-scales", pow2_scales)):
        if not isinstance(v, (bool, _np.bool_)):
            raise TypeError(f"{flag}: expected True or False, got {v!r}")
    wq, text, smooth = _core.ptq(
        W, X, algorithm=_str(algorithm, "--algorithm"),
        weight_format=_str(weight_format, "--weight-format"),
        act_format=_str(act_format, "--act-format"), block_size=_int(block_size, "--block-size"),
        alpha=_float(alpha, "--alpha"), group_size=_int(group_size, "--group-size"),
        damp=_float(damp, "--damp"), act_order=bool(act_order),
        gptq_block=_int(gptq_block, "--gptq-block"), awq_grid=_int(awq_grid, "--awq-grid"),
        awq_tokens=_int(awq_tokens, "--awq-tokens"), no_awq_clip=bool(no_awq_clip),
        pow2_scales=bool(pow2_scales), rounding=_str(rounding, "--rounding"),
        scale_rule=_str(scale_rule, "--scale-rule"), version=__version__)
    report = _json.loads(text)
    return (wq, report, smooth) if return_smooth else (wq, report)


def eval_model(model, text, windows: int = 16, window_size: int = 512,
               weight_format: str = "none", act_format: str = "none", block_size: int = 32,
               accum: str = "fp32", threads: int | None = None, stats_windows: int = 1,
               algorithm: str = "rtn", calib=None, calib_windows: int = 0,
               bits_budget: float = 0.0, levels=("mxint2", "mxint3", "mxint4", "mxint8"),
               alpha: float = 0.5) -> dict:
    """A Hugging Face Llama checkpoint (folder `model`) on a byte text file, as ``mxlab eval``.

    Returns the report dict of ``mxlab eval --report`` (bits_per_byte, perplexity, predictions,
    windows, per_layer, ptq, ...). The result does not depend on `threads` (None: every core)."""
    import os
    t = _threads(threads)
    if t is None:
        t = os.cpu_count() or 1
    lv = list(levels)
    if not all(isinstance(s, str) for s in lv):
        raise TypeError("--levels: expected format names")
    text_out = _core.eval_model(
        model=_str(os.fspath(model), "--model"), text=_str(os.fspath(text), "--text"),
        windows=_int(windows, "--windows"), window_size=_int(window_size, "--window-size"),
        weight_format=_str(weight_format, "--weight-format"),
        act_format=_str(act_format, "--act-format"), block_size=_int(block_size, "--block-size"),
        accum=_str(accum, "--accum"), threads=t, stats_windows=_int(stats_windows,
                                                                    "--stats-windows"),
        algorithm=_str(algorithm, "--algorithm"),
        calib=None if calib is None else _str(os.fspath(calib), "--calib"),
        calib_windows=_int(calib_windows, "--calib-windows"),
        bits_budget=_float(bits_budget, "--bits-budget"), levels=lv,
        alpha=_float(alpha, "--alpha"), version=__version__)
    return _json.loads(text_out)
