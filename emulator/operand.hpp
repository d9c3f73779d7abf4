// GEMM operands as every front end quantizes them (the mxlab CLI, the C ABI, the Python
// module): one place for the numeric policy, so that all of them give the same bits.
#pragma once

#include "emulator/gemm.hpp"
#include "emulator/tensor.hpp"
#include "formats/block_quant.hpp"

namespace mx {

// quantize_operand() followed by keep_infinities(): the operand a GEMM front end multiplies.
// k_axis, threads and `what` as for quantize_operand.
MxMatrix quantize_gemm_operand(const Tensor& t, int k_axis, const BlockSpec& spec, int threads,
                               const char* what);

// A representable value passes through unchanged: for a bare element format with infinities
// (e5m2, fp16, ...) an input of +-Inf stays +-Inf instead of saturating (the overflow policy
// is for finite values beyond the range). Formats without infinities and MX blocks are left
// as quantized: in an MX block an Inf gives the NaN scale (OCP MX v1.0 §6.3, DESIGN.md).
// `t` is the tensor `q` was quantized from along `k_axis`.
void keep_infinities(const Tensor& t, int k_axis, MxMatrix& q);

}  // namespace mx
