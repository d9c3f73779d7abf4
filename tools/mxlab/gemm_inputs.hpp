// The inputs of a GEMM or dot product as the front ends take them: the operand formats, the
// accumulator model with its output format and rounding, and the +-Inf pass-through of
// element-format operands. Shared by the CLI (gemm, golden) and the C ABI (tools/capi), so
// both build the same model from the same strings and give the same bits by construction.
// No CLI11 here: the C ABI links this file without the command-line parser.
#pragma once

#include <string>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "emulator/tensor.hpp"
#include "formats/mx_format.hpp"

namespace mx::cli {

// An operand format (E8M0-scaled MX or element format, <= 16 bits) and the accumulator model
// with its output format and rounding. Throw std::runtime_error naming the flag.
MxFormat parse_operand_format(const std::string& flag, const std::string& name, int block);
AccumModel parse_model_flags(const std::string& accum, bool promote_given, int promote_every,
                             const std::string& output_format, const std::string& rounding);

// A representable value passes through unchanged: for an element format with infinities
// (e5m2, fp16, ...), an input of +-Inf stays +-Inf instead of saturating (the overflow policy
// is for finite values beyond the range). MX blocks are not touched: there, an Inf in a block
// gives the NaN scale (OCP MX v1.0 §6.3 as DESIGN.md states). `t` is the matrix `q` was
// quantized from along `k_axis` (quantize_operand).
void keep_infinities(const Tensor& t, int k_axis, MxMatrix& q);

}  // namespace mx::cli
