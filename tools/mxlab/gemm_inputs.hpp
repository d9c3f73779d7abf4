// The inputs of a GEMM or dot product as the front ends take them: the operand formats, the
// accumulator model with its output format and rounding. Shared by the CLI (gemm, golden) and the C
// ABI (tools/capi), so both build the same model from the same strings and give the same bits by
// construction. No CLI11 here: the C ABI links this file without the command-line parser.
#pragma once

#include <string>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "emulator/operand.hpp"
#include "emulator/tensor.hpp"
#include "formats/mx_format.hpp"

namespace mx::cli {

// An operand format (E8M0-scaled MX or element format, <= 16 bits) and the accumulator model
// with its output format and rounding. Throw std::runtime_error naming the flag.
MxFormat parse_operand_format(const std::string& flag, const std::string& name, int block);
AccumModel parse_model_flags(const std::string& accum, bool promote_given, int promote_every,
                             const std::string& output_format, const std::string& rounding);

// The +-Inf pass-through of element-format operands is numeric policy, in the library:
// mx::keep_infinities / mx::quantize_gemm_operand (emulator/operand.hpp).
using mx::keep_infinities;

}  // namespace mx::cli
