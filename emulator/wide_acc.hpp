// Exact sums, the one module the dot product, the GEMM finishing steps and the fused kernel
// add through before their single rounding (round_pack, formats/round_pack.hpp):
//   - split_double: a double as an exact (sign, integer, exponent) term;
//   - exact_sum: the exact sum of two terms as round_pack's input (sign, wide magnitude,
//     exponent, sticky): adding then rounding once replaces the old "TwoSum, round to odd at
//     53 bits, round again" chain;
//   - WideAcc: a Kulisch accumulator for many terms;
//   - sum_odd: the fast paths' specialised instance (TwoSum, round to odd at 53 bits).
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

// x + y rounded to odd at 53 bits, for finite x, y whose sum does not overflow: TwoSum gives
// the exact error, and an inexact even result moves one ulp toward it. Rounded to odd, the
// double rounds to any format of at most 51 bits as the exact sum would, so its hardware
// nearest-even conversion to fp32 is round_pack(fp32, exact_sum(x, y), nearest-even, IEEE):
// the GEMM fast paths' output step (tests/emulator/wide_acc_test.cpp checks the equality).
inline double sum_odd(double x, double y) {
  const double s = x + y;
  const double bb = s - x;
  const double err = (x - (s - bb)) + (y - bb);
  if (err == 0) return s;
  std::uint64_t bits = std::bit_cast<std::uint64_t>(s);
  if (bits & 1) return s;
  // one ulp toward the error: away from zero when err has s's sign, else toward zero
  bits += ((bits >> 63) == (std::bit_cast<std::uint64_t>(err) >> 63)) ? 1 : ~std::uint64_t{0};
  return std::bit_cast<double>(bits);
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
