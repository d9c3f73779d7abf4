#include "emulator/operand.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "formats/codec.hpp"

namespace mx {

MxMatrix quantize_gemm_operand(const Tensor& t, int k_axis, const BlockSpec& spec, int threads,
                               const char* what) {
  MxMatrix q = quantize_operand(t, k_axis, spec, threads, what);
  keep_infinities(t, k_axis, q);
  return q;
}

void keep_infinities(const Tensor& t, int k_axis, MxMatrix& q) {
  if (q.block > 0) return;
  const RoundSpec keep{Rounding::kNearestEven, Overflow::kToNanOrInf, 0};
  const std::uint32_t pos = encode(q.elem, HUGE_VAL, keep), neg = encode(q.elem, -HUGE_VAL, keep);
  if (!std::isinf(decode(q.elem, pos))) return;  // no infinities in this format
  const std::size_t cols = t.shape[1];
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double v = t.dtype == DType::kF32 ? double{t.f32[i]} : t.f64[i];
    if (!std::isinf(v)) continue;
    const std::size_t r = i / cols, c = i % cols;  // (row, col) of the input matrix
    const std::size_t at = k_axis == 1 ? r * q.k + c : c * q.k + r;
    q.codes[at] = v > 0 ? pos : neg;
  }
}

}  // namespace mx
