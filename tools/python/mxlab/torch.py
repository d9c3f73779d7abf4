"""mxlab for PyTorch: MX fake quantization with a straight-through estimator, MXLinear and
quantize_model_. CPU tensors; they reach the library through the numpy bridge without copies
(float32 / float64 contiguous tensors; others are converted to float32 first).

Straight-through estimator (STE) used by :func:`fake_quant`, :class:`MXLinear`: the gradient of
y = Q(x) is taken as 1 where x lies inside the range of its block (|x| at most the block's
largest representable magnitude, scale x element max; for integer elements [scale x min,
scale x max]) and 0 where x was clipped (it saturated to that largest magnitude). Rounding
inside the range is treated as the identity. NaN and Inf inputs (whose blocks decode to NaN)
pass the gradient unchanged.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import mxlab

__all__ = ["fake_quant", "MXLinear", "quantize_model_"]

_ELEM = {d["name"]: d for d in mxlab.formats() if d["type"] == "element"}


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    """A numpy view of a CPU tensor (float32/float64 contiguous: no copy)."""
    if t.device.type != "cpu":
        raise ValueError(f"mxlab.torch: tensors must be on the CPU (got {t.device})")
    t = t.detach()
    if t.dtype not in (torch.float32, torch.float64):
        t = t.to(torch.float32)
    return t.contiguous().numpy()


def _not_clipped(x: np.ndarray, q: mxlab.Encoded, kind: str, bits: int, max_code: int,
                 sign_mask: int) -> np.ndarray:
    """True where x was not clipped (the STE passes its gradient), from the codes and values."""
    y = q._values
    codes = q.codes.astype(np.int64)
    if kind == "int":
        v = np.where(codes >= (1 << (bits - 1)), codes - (1 << bits), codes)
        clipped = ((v == max_code) & (x > y)) | ((v == -(1 << (bits - 1))) & (x < y))
    else:
        mag = codes & ~sign_mask
        clipped = (mag == max_code) & (np.abs(x) > np.abs(y))
    return ~clipped


def _elem_constants(fmt: str):
    """(kind, bits, max_code, sign_mask) of the element format of `fmt`."""
    info = _CONSTANTS.get(fmt)
    if info is None:
        probe = mxlab.encode(np.zeros(1, np.float32), fmt, block_size=1)
        e = _ELEM.get(probe.element)
        if e is None:
            bits = probe.bits
            # Generic formats: derive the constants from the catalogue line of the element.
            e = _generic_constants(probe.element, bits)
        info = (e["kind"], e["bits"], e["max_code"], e["sign_mask"])
        _CONSTANTS[fmt] = info
    return info


_CONSTANTS: dict = {}


def _generic_constants(name: str, bits: int) -> dict:
    # Largest magnitude code: encode a huge value with saturation and read its code back.
    probe = mxlab.encode(np.array([3.0e38], np.float32), name)
    code = int(probe.codes.reshape(-1)[0])
    kind = "int" if name.startswith("int") else "float"
    return {"kind": kind, "bits": bits, "max_code": code,
            "sign_mask": 1 << (bits - 1)}


class _FakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, fmt, kw):
        xn = _to_numpy(x)
        q = mxlab.encode(xn, fmt, **kw)
        kind, bits, max_code, sign_mask = _elem_constants(fmt)
        mask = _not_clipped(xn, q, kind, bits, max_code, sign_mask)
        ctx.save_for_backward(torch.from_numpy(mask))
        return torch.from_numpy(q.decode()).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask.to(grad.dtype), None, None


def fake_quant(t: torch.Tensor, fmt: str, block_size: int | None = None, axis: int = -1,
               rounding: str = "nearest-even", overflow: str = "saturate",
               scale_rule: str = "floor", scale_format: str | None = None, compat: str = "ocp",
               seed: int = 0, threads: int | None = None) -> torch.Tensor:
    """MX fake quantization of a CPU tensor (values as :func:`mxlab.quantize`) as an autograd
    function with the straight-through estimator of this module's docstring: the gradient is
    passed where the value was not clipped and is zero where it saturated. The result has t's
    dtype (float16/bfloat16 tensors are quantized from float32 and rounded back)."""
    kw = dict(block_size=block_size, axis=axis, rounding=rounding, overflow=overflow,
              scale_rule=scale_rule, scale_format=scale_format, compat=compat, seed=seed,
              threads=threads)
    return _FakeQuant.apply(t, fmt, kw)


class _EmulatedLinear(torch.autograd.Function):
    """y = x W^T through mxlab.gemm (operands quantized along K, accumulated under `accum`);
    backward: the STE gradients of the fake-quantized product."""

    @staticmethod
    def forward(ctx, x2, w, act_format, weight_format, block_size, accum, threads):
        xn, wn = _to_numpy(x2), _to_numpy(w)
        y = mxlab.gemm(xn, wn.T, format=act_format, format_b=weight_format,
                       block_size=block_size, accum=accum, threads=threads)
        xq = fake_quant(x2.detach(), act_format, block_size=block_size)
        wq = fake_quant(w.detach(), weight_format, block_size=block_size)
        mx = _mask(x2, act_format, block_size)
        mw = _mask(w, weight_format, block_size)
        ctx.save_for_backward(xq, wq, mx, mw)
        return torch.from_numpy(y).to(x2.dtype)

    @staticmethod
    def backward(ctx, g):
        xq, wq, mx, mw = ctx.saved_tensors
        gx = (g @ wq.to(g.dtype)) * mx.to(g.dtype)
        gw = (g.t() @ xq.to(g.dtype)) * mw.to(g.dtype)
        return gx, gw, None, None, None, None, None


def _mask(t, fmt, block_size):
    tn = _to_numpy(t)
    q = mxlab.encode(tn, fmt, block_size=block_size)
    return torch.from_numpy(_not_clipped(tn, q, *_elem_constants(fmt)))


class MXLinear(nn.Linear):
    """A drop-in nn.Linear whose weight and input are MX fake-quantized along the input dimension.

    weight_format / act_format: MX or element formats (act_format None: activations stay fp32).
    accum None: the product of the fake-quantized operands runs in PyTorch (fp32); accum set (an
    accumulator model, e.g. "h100-cublas-fp8"): the product runs through the emulator
    (mxlab.gemm, operands quantized in weight/act formats, E8M0-scaled or element formats), bit
    for bit as ``mxlab gemm``, and the bias is added afterwards in the tensor's dtype. Gradients:
    the straight-through estimator (module docstring) in both cases.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 weight_format: str = "mxfp8_e4m3", act_format: str | None = "mxfp8_e4m3",
                 block_size: int = 32, accum: str | None = None, threads: int | None = None,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        if accum is not None and act_format is None:
            raise ValueError("MXLinear: accum needs act_format (both operands are quantized)")
        if accum is not None:
            mxlab.AccumModel(accum)  # fail early, with the parser's message
        self.weight_format = weight_format
        self.act_format = act_format
        self.block_size = block_size
        self.accum = accum
        self.threads = threads

    @classmethod
    def from_linear(cls, lin: nn.Linear, **kw) -> "MXLinear":
        """An MXLinear sharing `lin`'s weight and bias Parameters."""
        m = cls(lin.in_features, lin.out_features, bias=lin.bias is not None,
                device=lin.weight.device, dtype=lin.weight.dtype, **kw)
        m.weight = lin.weight
        m.bias = lin.bias
        return m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.accum is None:
            w = fake_quant(self.weight, self.weight_format, block_size=self.block_size)
            xa = x if self.act_format is None else fake_quant(x, self.act_format,
                                                              block_size=self.block_size)
            return nn.functional.linear(xa, w, self.bias)
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])
        y = _EmulatedLinear.apply(x2, self.weight, self.act_format, self.weight_format,
                                  self.block_size, self.accum, self.threads)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", weight_format={self.weight_format}, "
                f"act_format={self.act_format}, block_size={self.block_size}, accum={self.accum}")


def quantize_model_(model: nn.Module, weight_format: str = "mxfp8_e4m3",
                    act_format: str | None = "mxfp8_e4m3", block_size: int = 32,
                    accum: str | None = None, skip=()) -> nn.Module:
    """Replaces every nn.Linear of `model` (in place; names in `skip` are kept) by an MXLinear
    sharing its parameters. Returns the model."""
    for name, child in list(model.named_children()):
        if name in skip:
            continue
        if isinstance(child, nn.Linear) and not isinstance(child, MXLinear):
            setattr(model, name, MXLinear.from_linear(child, weight_format=weight_format,
                                                      act_format=act_format,
                                                      block_size=block_size, accum=accum))
        else:
            quantize_model_(child, weight_format, act_format, block_size, accum, skip)
    return model
