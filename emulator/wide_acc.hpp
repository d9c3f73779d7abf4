// Exact sums, the one module the dot product, the GEMM finishing steps and the fused kernel
// add through before their single rounding (round_pack, formats/round_pack.hpp):
//   - split_double: a double as an exact (sign, integer, exponent) term;
//   - exact_sum: the exact sum of two terms as round_pack's input (sign, wide magnitude,
//     exponent, sticky): adding then rounding once replaces the old "TwoSum, round to odd at
//     53 bits, round again" chain;
//   - WideAcc: a Kulisch accumulator for many terms.
#pragma once

#include <bit>
#include <cstdint>

#include "formats/round_pack.hpp"

namespace mx {

// (-1)^neg * sig * 2^exp.
struct Term {
  bool neg = false;
  std::uint64_t sig = 0;
  int exp = 0;
};

// The exact real (-1)^neg * (mag + sticky * delta) * 2^exp, 0 < delta < 1: round_pack's input.
struct ExactValue {
  bool neg = false;
  U128 mag = 0;
  int exp = 0;
  bool sticky = false;
  bool is_zero() const { return mag == 0 && !sticky; }
};

// A finite double as a term (exact; sig < 2^53, 0 for +-0 with the sign kept).
inline Term split_double(double d) {
  const auto b = std::bit_cast<std::uint64_t>(d);
  const int be = static_cast<int>((b >> 52) & 0x7FF);
  const std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
  return {(b >> 63) != 0, be ? (m | (std::uint64_t{1} << 52)) : m, (be ? be : 1) - 1075};
}

// The exact value x + y (an exact zero has mag 0, neg false). When the exponents are more
// than 64 bits apart the smaller term is jammed into a sticky bit (SoftFloat's
// shiftRightJam): the result keeps at least 63 significant bits above it, enough for
// round_pack into any format of up to 58 bits of precision.
ExactValue exact_sum(Term x, Term y);

// round_pack of an exact value.
inline Packed round_exact(const ElemFormat& f, const ExactValue& v, Rounding mode,
                          OverflowRule rule, std::uint64_t rnd = 0) {
  return round_pack(f, v.neg, v.mag, v.exp, v.sticky, mode, rule, rnd);
}

// Kulisch accumulator: the exact sum of sig * 2^exp terms over exponents [-768, 768).
class WideAcc {
 public:
  static constexpr int kMinExp = -768;
  static constexpr int kDigits = 48;  // 32-bit digits held in int64 (carry-save)
  void clear();
  void add(bool neg, std::uint64_t sig, int exp);
  void add(const Term& t) { add(t.neg, t.sig, t.exp); }
  void add_double(double d) { add(split_double(d)); }  // d finite
  // The exact value: mag < 2^96 holds the top bits (at least 65 of them when sticky); false
  // (and *out untouched) when the sum is zero.
  bool extract(ExactValue* out) const;

 private:
  std::int64_t d_[kDigits] = {};
};

}  // namespace mx
