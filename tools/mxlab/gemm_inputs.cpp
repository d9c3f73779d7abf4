// The inputs of a GEMM or dot product as the front ends take them (gemm_inputs.hpp).
#include "tools/mxlab/gemm_inputs.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"

namespace mx::cli {

MxFormat parse_operand_format(const std::string& flag, const std::string& name, int block) {
  MxFormat f;
  try {
    f = parse_mx_format(name);
  } catch (const FormatError& e) {
    throw std::runtime_error(fmt::format("{}: {}", flag, e.what()));
  }
  if (f.block_size > 0 && f.scale != ScaleFormat::kE8m0)
    throw std::runtime_error(fmt::format(
        "{} {}: gemm supports E8M0-scaled MX formats and element formats only", flag, name));
  if (f.elem.bits > 16 || f.elem.is_scale())
    throw std::runtime_error(
        fmt::format("{} {}: element formats of up to 16 bits only", flag, name));
  if (f.block_size > 0) f.block_size = block;
  return f;
}

AccumModel parse_model_flags(const std::string& accum, bool promote_given, int promote_every,
                             const std::string& output_format, const std::string& rounding) {
  AccumModel model = parse_accum_model(accum);  // AccumModelError names --accum
  if (promote_given) {
    if (promote_every < 0)
      throw std::runtime_error(fmt::format("--promote-every must be >= 0 (got {})", promote_every));
    if (model.kind != AccumKind::kFused)
      throw std::runtime_error("--promote-every applies to fused models only");
    model.promote_every = promote_every;
  }
  try {
    model.out = parse_elem_format(output_format);
  } catch (const FormatError& e) {
    throw std::runtime_error(fmt::format("--output-format: {}", e.what()));
  }
  if (model.out.bits > 32 || model.out.is_scale())
    throw std::runtime_error(
        fmt::format("--output-format {}: not an output format", output_format));
  const auto rnd = parse_rounding(rounding);
  if (!rnd || *rnd == Rounding::kStochastic)
    throw std::runtime_error(
        fmt::format("--rounding: unknown or unsupported rounding mode '{}'", rounding));
  model.out_round.mode = *rnd;
  try {
    validate(model);
  } catch (const AccumModelError& e) {
    throw std::runtime_error(fmt::format("{} (with --promote-every {})", e.what(), promote_every));
  }
  return model;
}

}  // namespace mx::cli
