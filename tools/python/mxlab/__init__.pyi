from typing import Any, Sequence
import os

import numpy as np
import numpy.typing as npt

from . import results as results

__version__: str
version_number: str

class AccumModel:
    def __init__(self, model: str = ...) -> None: ...
    def __str__(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @staticmethod
    def presets() -> list[str]: ...

def formats() -> list[dict[str, Any]]: ...
def quantize(x: npt.ArrayLike, format: str, block_size: int | None = ..., axis: int = ...,
             rounding: str = ..., overflow: str = ..., scale_rule: str = ...,
             scale_format: str | None = ..., compat: str = ..., seed: int = ...,
             threads: int | None = ..., out: np.ndarray | None = ...) -> np.ndarray: ...

class Encoded:
    buffer: np.ndarray
    codes: np.ndarray
    scales: np.ndarray
    packed: np.ndarray
    format: str
    element: str
    scale_format: str | None
    block_size: int
    axis: int
    shape: tuple[int, ...]
    bits: int
    def decode(self) -> np.ndarray: ...

def encode(x: npt.ArrayLike, format: str, block_size: int | None = ..., axis: int = ...,
           rounding: str = ..., overflow: str = ..., scale_rule: str = ...,
           scale_format: str | None = ..., compat: str = ..., seed: int = ...,
           threads: int | None = ...) -> Encoded: ...
def gemm(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike | None = ...,
         format: str = ..., format_b: str | None = ..., block_size: int = ...,
         accum: str | AccumModel = ..., promote_every: int | None = ...,
         output_format: str = ..., rounding: str = ..., threads: int | None = ...) -> np.ndarray: ...
def golden(format: str, accum: str | AccumModel = ..., cases: int = ..., seed: int = ...,
           k: int = ..., format_b: str | None = ..., block_size: int = ...,
           promote_every: int | None = ..., output_format: str = ...,
           rounding: str = ...) -> dict[str, Any]: ...
def ptq(weights: npt.ArrayLike, activations: npt.ArrayLike, algorithm: str = ...,
        weight_format: str = ..., act_format: str = ..., block_size: int = ...,
        alpha: float = ..., group_size: int = ..., damp: float = ..., act_order: bool = ...,
        gptq_block: int = ..., awq_grid: int = ..., awq_tokens: int = ...,
        no_awq_clip: bool = ..., pow2_scales: bool = ..., rounding: str = ...,
        scale_rule: str = ..., return_smooth: bool = ...) -> tuple[Any, ...]: ...
def eval_model(model: str | os.PathLike[str], text: str | os.PathLike[str], windows: int = ...,
               window_size: int = ..., weight_format: str = ..., act_format: str = ...,
               block_size: int = ..., accum: str = ..., threads: int | None = ...,
               stats_windows: int = ..., algorithm: str = ...,
               calib: str | os.PathLike[str] | None = ..., calib_windows: int = ...,
               bits_budget: float = ..., levels: Sequence[str] = ...,
               alpha: float = ...) -> dict[str, Any]: ...
