#include "formats/mx_format.hpp"

#include <array>
#include <bit>

#include <fmt/format.h>

#include "formats/catalog.hpp"

namespace mx {
namespace {

constexpr std::array<std::string_view, 6> kConcrete = {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
                                                       "mxfp6_e2m3", "mxfp4_e2m1", "mxint8"};

// Mantissa width that `even` rounds amax to, and the largest finite value written as
// max_sig * 2^(emax - width) with max_sig an integer (e4m3: 0b1110 * 2^(8-3) = 448;
// int8: 127 * 2^(0-6)).
struct ElemShape {
  int width;
  std::uint64_t max_sig;
};
ElemShape elem_shape(const ElemFormat& f) {
  if (f.is_int()) return {f.bits - 2, (std::uint64_t{1} << (f.bits - 1)) - 1};
  return {f.man_bits, (std::uint64_t{1} << f.man_bits) | f.max_mantissa()};
}

// amax = sig * 2^(lead - p) with sig normalized to exactly p+1 bits (p = 52).
int exponent_from_normalized(const ElemFormat& elem, ScaleRule rule, std::uint64_t sig, int lead) {
  constexpr int p = 52;
  const ElemShape sh = elem_shape(elem);
  int e = lead;
  switch (rule) {
    case ScaleRule::kFloor:
      break;
    case ScaleRule::kCeil:
      if (sig != (std::uint64_t{1} << p)) ++e;  // not a power of two
      break;
    case ScaleRule::kEven: {
      // Round sig to width+1 significant bits, nearest-even; a carry moves to the next
      // binade.
      const int drop = p - sh.width;
      if (drop > 0) {
        const std::uint64_t half = std::uint64_t{1} << (drop - 1);
        const std::uint64_t rem = sig & ((std::uint64_t{1} << drop) - 1);
        std::uint64_t kept = sig >> drop;
        if (rem > half || (rem == half && (kept & 1))) ++kept;
        if (kept >> (sh.width + 1)) ++e;
      }
      break;
    }
    case ScaleRule::kRceil:
      // amax / 2^(lead - emax) = sig / 2^p * 2^emax lies in [2^emax, 2^(emax+1)); it fits
      // iff sig / 2^p <= max_sig / 2^width.
      if ((sig >> (p - sh.width)) > sh.max_sig ||
          ((sig >> (p - sh.width)) == sh.max_sig &&
           (sig & ((std::uint64_t{1} << (p - sh.width)) - 1)) != 0))
        ++e;
      break;
  }
  int s = e - elem.emax();
  if (s < -127) s = -127;
  if (s > 127) s = 127;
  return s;
}

}  // namespace

std::optional<ScaleRule> parse_scale_rule(std::string_view s) {
  if (s == "floor") return ScaleRule::kFloor;
  if (s == "ceil") return ScaleRule::kCeil;
  if (s == "even") return ScaleRule::kEven;
  if (s == "rceil") return ScaleRule::kRceil;
  return std::nullopt;
}
std::string_view scale_rule_name(ScaleRule r) {
  switch (r) {
    case ScaleRule::kFloor:
      return "floor";
    case ScaleRule::kCeil:
      return "ceil";
    case ScaleRule::kEven:
      return "even";
    case ScaleRule::kRceil:
      return "rceil";
  }
  return "?";
}
std::optional<ScaleFormat> parse_scale_format(std::string_view s) {
  if (s == "e8m0") return ScaleFormat::kE8m0;
  if (s == "ue4m3") return ScaleFormat::kUe4m3;
  if (s == "fp32") return ScaleFormat::kF32;
  if (s == "nvfp4") return ScaleFormat::kNvfp4;
  return std::nullopt;
}
std::string_view scale_format_name(ScaleFormat s) {
  switch (s) {
    case ScaleFormat::kE8m0:
      return "e8m0";
    case ScaleFormat::kUe4m3:
      return "ue4m3";
    case ScaleFormat::kF32:
      return "fp32";
    case ScaleFormat::kNvfp4:
      return "nvfp4";
  }
  return "?";
}

std::span<const std::string_view> concrete_mx_format_names() { return kConcrete; }

MxFormat parse_mx_format(std::string_view name) {
  MxFormat f;
  f.name = std::string(name);
  if (name == "nvfp4") {
    f.elem = kE2M1;
    f.scale = ScaleFormat::kNvfp4;
    f.block_size = 16;
    return f;
  }
  if (name.size() > 2 && name.substr(0, 2) == "mx") {
    std::string_view elem = name.substr(2);
    // mxfp8_e4m3 -> e4m3; mxint8 -> int8; mxe3m4 -> e3m4
    if (elem.starts_with("fp") && elem.find('_') != std::string_view::npos)
      elem = elem.substr(elem.find('_') + 1);
    ElemFormat e;
    try {
      e = parse_elem_format(elem);
    } catch (const FormatError& err) {
      throw FormatError(fmt::format("unknown format '{}' (element part: {})", name, err.what()));
    }
    if (e.is_scale())
      throw FormatError(fmt::format("unknown format '{}': e8m0 is a scale, not an element", name));
    f.elem = e;
    return f;
  }
  f.elem = parse_elem_format(name);
  f.block_size = 0;  // element-wise, no shared scale
  return f;
}

int shared_scale_exponent_f64(const ElemFormat& elem, ScaleRule rule, std::uint64_t amax_bits) {
  amax_bits &= ~(std::uint64_t{1} << 63);
  if (amax_bits == 0) return -127;
  const int be = static_cast<int>(amax_bits >> 52);
  std::uint64_t sig = amax_bits & ((std::uint64_t{1} << 52) - 1);
  int lead;
  if (be == 0) {  // subnormal: normalize
    const int lz = std::countl_zero(sig) - 11;
    sig <<= lz;
    lead = -1022 - lz;
  } else {
    sig |= std::uint64_t{1} << 52;
    lead = be - 1023;
  }
  return exponent_from_normalized(elem, rule, sig, lead);
}

int shared_scale_exponent(const ElemFormat& elem, ScaleRule rule, std::uint32_t amax_bits) {
  amax_bits &= 0x7FFFFFFFu;
  if (amax_bits == 0) return -127;
  const int be = static_cast<int>(amax_bits >> 23);
  std::uint64_t sig = amax_bits & 0x7FFFFFu;
  int lead;
  if (be == 0) {
    const int lz = std::countl_zero(static_cast<std::uint32_t>(sig)) - 8;
    sig <<= lz;
    lead = -126 - lz;
  } else {
    sig |= 0x800000u;
    lead = be - 127;
  }
  return exponent_from_normalized(elem, rule, sig << 29, lead);
}

}  // namespace mx
