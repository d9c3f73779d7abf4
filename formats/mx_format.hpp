// MX block formats (OCP MX v1.0 §5, §6.3): an element format, a shared scale per block of
// `block_size` consecutive elements, and the rule that picks the scale.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "formats/descriptor.hpp"

namespace mx {

enum class ScaleRule : std::uint8_t {
  kFloor,  // OCP: X = 2^(floor(log2 amax) - emax_elem)
  kCeil,   // X = 2^(ceil(log2 amax) - emax_elem)
  kEven,   // amax rounded (nearest-even) to the element's mantissa width, then kFloor
  kRceil,  // the smallest power of two X with amax / X <= the element's largest value
};

enum class ScaleFormat : std::uint8_t {
  kE8m0,   // OCP: a power of two 2^-127 .. 2^127, 0xFF = NaN
  kUe4m3,  // unsigned e4m3 scale = amax / max_elem rounded to e4m3 (non-power-of-two)
  kF32,    // fp32 scale = amax / max_elem rounded to fp32
  kNvfp4,  // two-level: ue4m3 block scale times a per-tensor fp32 scale (NVFP4)
};

struct MxFormat {
  ElemFormat elem;
  ScaleFormat scale = ScaleFormat::kE8m0;
  int block_size = 32;
  ScaleRule rule = ScaleRule::kFloor;
  std::string name;  // canonical name, e.g. "mxfp8_e4m3"
};

std::optional<ScaleRule> parse_scale_rule(std::string_view s);
std::string_view scale_rule_name(ScaleRule r);
std::optional<ScaleFormat> parse_scale_format(std::string_view s);
std::string_view scale_format_name(ScaleFormat s);

// Parses an MX block format name: mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3,
// mxfp4_e2m1, mxint8, mx<elem> for any element name (mxint4, mxe3m4, mxbf16), and nvfp4
// (e2m1, blocks of 16, two-level scale). A bare element name (e4m3, int8, ...) gives a
// format with no shared scale: block_size 0 means "element-wise".
// Throws FormatError naming the culprit.
MxFormat parse_mx_format(std::string_view name);

// The six concrete OCP MX formats, in spec order.
std::span<const std::string_view> concrete_mx_format_names();

// Shared-scale exponent of a block from the bit pattern of its amax (|x| as fp32 bits,
// finite), by rule, clamped to the E8M0 range [-127, 127]. amax == 0 gives -127.
// Computed exactly on the bits, never with a floating-point log2.
int shared_scale_exponent(const ElemFormat& elem, ScaleRule rule, std::uint32_t amax_bits);

// The same for an fp64 amax (bit pattern of |x| as double, finite).
int shared_scale_exponent_f64(const ElemFormat& elem, ScaleRule rule, std::uint64_t amax_bits);

}  // namespace mx
