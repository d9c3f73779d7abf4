// The inputs of a GEMM or dot product as the front ends take them: the operand formats, the
// accumulator model with its output format and rounding. Shared by the CLI (gemm, golden) and the C
// ABI (tools/capi), so both build the same model from the same strings and give the same bits by
// construction. No CLI11 here: the C ABI links this file without the command-line parser.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "emulator/operand.hpp"
#include "emulator/tensor.hpp"
#include "formats/mx_format.hpp"

namespace mx::cli {

// Thrown for a bad combination of flags (the CLI exits with status 2); other errors exit 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An operand format (E8M0-scaled MX or element format, <= 16 bits). Throws
// std::runtime_error naming the flag.
MxFormat parse_operand_format(const std::string& flag, const std::string& name, int block);

// An accumulator model string given with `flag`; the error (std::runtime_error) names the
// flag. `given`: as in parse_accum_model.
AccumModel parse_accum_flag(const std::string& flag, const std::string& value,
                            std::vector<std::string>* given = nullptr);

// --accum with --promote-every, --output-format and --rounding, each set only when given.
// A flag and the same key in --accum (promote=, out=, out-round=) with different values is a
// UsageError naming both; a flag alone sets the field; with neither, the model's own value
// (the preset's or kind's default) stays. Other errors: std::runtime_error naming the flag.
struct ModelFlags {
  std::string accum;
  std::optional<int> promote_every;
  std::optional<std::string> output_format, rounding;
};
AccumModel parse_model_flags(const ModelFlags& f);

// The +-Inf pass-through of element-format operands is numeric policy, in the library:
// mx::keep_infinities / mx::quantize_gemm_operand (emulator/operand.hpp).
using mx::keep_infinities;

}  // namespace mx::cli
