from typing import Any, Iterable

import torch
from torch import nn

def fake_quant(t: torch.Tensor, fmt: str, block_size: int | None = ..., axis: int = ...,
               rounding: str = ..., overflow: str = ..., scale_rule: str = ...,
               scale_format: str | None = ..., compat: str = ..., seed: int = ...,
               threads: int | None = ...) -> torch.Tensor: ...

class MXLinear(nn.Linear):
    weight_format: str
    act_format: str | None
    block_size: int
    accum: str | None
    def __init__(self, in_features: int, out_features: int, bias: bool = ...,
                 weight_format: str = ..., act_format: str | None = ..., block_size: int = ...,
                 accum: str | None = ..., threads: int | None = ..., device: Any = ...,
                 dtype: Any = ...) -> None: ...
    @classmethod
    def from_linear(cls, lin: nn.Linear, **kw: Any) -> MXLinear: ...

def quantize_model_(model: nn.Module, weight_format: str = ..., act_format: str | None = ...,
                    block_size: int = ..., accum: str | None = ...,
                    skip: Iterable[str] = ...) -> nn.Module: ...
