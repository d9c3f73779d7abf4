// The inputs of a GEMM or dot product as the front ends take them (gemm_inputs.hpp).
#include "tools/mxlab/gemm_inputs.hpp"

#include <algorithm>
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

AccumModel parse_accum_flag(const std::string& flag, const std::string& value,
                            std::vector<std::string>* given) {
  try {
    return parse_accum_model(value, given);
  } catch (const AccumModelError& e) {
    throw std::runtime_error(fmt::format("{}: {}", flag, e.what()));
  }
}

AccumModel parse_model_flags(const ModelFlags& f) {
  std::vector<std::string> given;
  AccumModel model = parse_accum_flag("--accum", f.accum, &given);
  auto in_accum = [&](const char* key) {
    return std::find(given.begin(), given.end(), key) != given.end();
  };
  // A flag and its key in --accum must agree; the flag alone sets the field.
  auto reconcile = [&](const char* flag, const std::string& flag_value, const char* key,
                       auto&& apply) {
    const AccumField* field = find_accum_field(key);
    const std::string from_accum = field->get(model);
    AccumModel with_flag = model;
    apply(with_flag);
    if (in_accum(key) && field->get(with_flag) != from_accum)
      throw UsageError(fmt::format("{} {} conflicts with {}={} in --accum {} (give one of them)",
                                   flag, flag_value, key, from_accum, f.accum));
    model = with_flag;
  };
  if (f.promote_every) {
    const int n = *f.promote_every;
    if (n < 0) throw std::runtime_error(fmt::format("--promote-every must be >= 0 (got {})", n));
    if (model.kind != AccumKind::kFused)
      throw std::runtime_error("--promote-every applies to fused models only");
    reconcile("--promote-every", std::to_string(n), "promote",
              [&](AccumModel& m) { m.promote_every = n; });
  }
  if (f.output_format) {
    ElemFormat out;
    try {
      out = parse_elem_format(*f.output_format);
    } catch (const FormatError& e) {
      throw std::runtime_error(fmt::format("--output-format: {}", e.what()));
    }
    if (out.bits > 32 || out.is_scale())
      throw std::runtime_error(
          fmt::format("--output-format {}: not an output format", *f.output_format));
    reconcile("--output-format", *f.output_format, "out", [&](AccumModel& m) { m.out = out; });
  }
  if (f.rounding) {
    const auto rnd = parse_rounding(*f.rounding);
    if (!rnd || *rnd == Rounding::kStochastic)
      throw std::runtime_error(
          fmt::format("--rounding: unknown or unsupported rounding mode '{}'", *f.rounding));
    reconcile("--rounding", *f.rounding, "out-round",
              [&](AccumModel& m) { m.out_round.mode = *rnd; });
  }
  try {
    validate(model);
  } catch (const AccumModelError& e) {
    throw std::runtime_error(f.promote_every ? fmt::format("--accum: {} (with --promote-every {})",
                                                           e.what(), *f.promote_every)
                                             : fmt::format("--accum: {}", e.what()));
  }
  return model;
}

}  // namespace mx::cli
