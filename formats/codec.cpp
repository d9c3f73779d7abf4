#include "formats/codec.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "formats/round_pack.hpp"

namespace mx {

double decode(const ElemFormat& f, std::uint32_t code) {
  code &= f.code_mask();
  if (f.is_int()) {
    // Sign-extend the N-bit two's complement code.
    const std::int64_t k = static_cast<std::int64_t>(code) -
                           ((code & f.sign_mask()) ? (std::int64_t{1} << f.bits) : 0);
    return std::ldexp(static_cast<double>(k), f.int_scale_exp);
  }
  if (f.is_scale()) {
    if (code == f.nan_code()) return std::numeric_limits<double>::quiet_NaN();
    return std::ldexp(1.0, static_cast<int>(code) - f.bias);
  }
  const bool neg = (code & f.sign_mask()) != 0;
  const std::uint32_t mag = code & ~f.sign_mask();
  const std::uint32_t e_field = mag >> f.man_bits;
  const std::uint32_t mant = mag & ((std::uint32_t{1} << f.man_bits) - 1);
  const std::uint32_t e_all_ones = (std::uint32_t{1} << f.exp_bits) - 1;
  double v;
  if (f.nonfinite == Nonfinite::kIeee && e_field == e_all_ones) {
    v = mant == 0 ? std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::quiet_NaN();
  } else if (f.nonfinite == Nonfinite::kNanOnly && mag == f.nan_code()) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (e_field == 0) {
    v = std::ldexp(static_cast<double>(mant), f.emin() - f.man_bits);  // subnormal
  } else {
    v = std::ldexp(static_cast<double>((std::uint64_t{1} << f.man_bits) | mant),
                   static_cast<int>(e_field) - f.bias - f.man_bits);
  }
  return neg ? -v : v;
}

std::uint32_t encode(const ElemFormat& f, double x, const RoundSpec& spec, Status* status,
                     std::uint64_t rnd, int scale_exp) {
  // Unpack |x| = sig * 2^e exactly and apply the scale to the exponent; round_pack does the
  // rest (formats/round_pack.hpp).
  const std::uint64_t xb = std::bit_cast<std::uint64_t>(x);
  const bool neg = (xb >> 63) != 0;
  const int xe = static_cast<int>((xb >> 52) & 0x7FF);
  const std::uint64_t xm = xb & ((std::uint64_t{1} << 52) - 1);
  const OverflowRule rule = overflow_rule(spec.overflow);
  Packed p;
  if (xe == 0x7FF) {
    p = xm != 0 ? pack_nan(f, neg) : pack_inf(f, neg, rule);
  } else {
    const std::uint64_t sig = xe ? (xm | (std::uint64_t{1} << 52)) : xm;
    const int e = (xe ? xe : 1) - 1075 - scale_exp;
    p = round_pack(f, neg, sig, e, false, spec.mode, rule, rnd);
  }
  if (status) *status |= p.status;
  return p.code;
}

}  // namespace mx
