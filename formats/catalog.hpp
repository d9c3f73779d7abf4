// The catalogue of element formats and the one place where names become descriptors.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "formats/descriptor.hpp"

namespace mx {

// Raised for an unknown or malformed format / rounding / rule name. The message names it.
class FormatError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// e4m3 e5m2 e3m2 e2m3 e2m1 int8 e8m0 fp16 bf16 fp32, in that order.
std::span<const ElemFormat> catalog_formats();

// Parses an element format name. Accepted spellings:
//   catalogue names and aliases: e4m3 (fp8_e4m3, e4m3fn, float8_e4m3fn), e5m2 (fp8_e5m2),
//   e3m2 (fp6_e3m2), e2m3 (fp6_e2m3), e2m1 (fp4_e2m1, fp4), int8, e8m0, fp16 (half),
//   bf16, fp32 (float);
//   generic eXmY (X in 1..8, Y in 0..23), finite-only unless suffixed `fn` (only the
//   all-ones code is NaN) or `ieee` (Inf and NaN at the all-ones exponent);
//   generic intN (N in 2..16): two's complement with implicit scale 2^-(N-2).
// Throws FormatError naming `name` otherwise.
ElemFormat parse_elem_format(std::string_view name);

// A human-readable one-line description: "e4m3: 8 bits, E4M3 bias 7, NaN-only, max 448".
std::string describe(const ElemFormat& f);

}  // namespace mx
