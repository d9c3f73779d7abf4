#include "formats/codec.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace mx {
namespace {

// The code of the largest finite value with the given sign (for intN the negative side
// reaches -2^(N-1)).
std::uint32_t max_code(const ElemFormat& f, bool negative) {
  if (f.is_int()) return negative ? f.sign_mask() : f.max_magnitude_code();
  return f.max_magnitude_code() | (negative ? f.sign_mask() : 0u);
}

std::uint32_t overflow_code(const ElemFormat& f, bool negative, const RoundSpec& spec, Status& st) {
  st |= kOverflow | kInexact;
  const bool clamp =
      spec.overflow == Overflow::kSaturate || overflow_clamps(spec.mode, negative) || !f.has_nan();
  if (clamp) {
    st |= kSaturated;
    return max_code(f, negative);
  }
  const std::uint32_t sign = negative ? f.sign_mask() : 0u;
  return (f.has_inf() ? f.inf_code() : f.nan_code()) | sign;
}

}  // namespace

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
  Status st = kStatusOk;
  const std::uint64_t xb = std::bit_cast<std::uint64_t>(x);
  const bool neg = (xb >> 63) != 0;
  const int xe = static_cast<int>((xb >> 52) & 0x7FF);
  const std::uint64_t xm = xb & ((std::uint64_t{1} << 52) - 1);
  const std::uint32_t sign = neg ? f.sign_mask() : 0u;
  auto done = [&](std::uint32_t c) {
    if (status) *status |= st;
    return c;
  };

  // 1. NaN, negatives into the unsigned E8M0, and +-Inf.
  if (f.is_scale() && neg && (xe != 0 || xm != 0) && !(xe == 0x7FF && xm != 0)) {
    st |= kInvalid;
    return done(f.nan_code());
  }
  if (xe == 0x7FF) {
    if (xm != 0) {  // NaN
      if (f.has_nan()) return done(f.nan_code() | sign);
      st |= kInvalid;
      return done(0);
    }
    // +-Inf: saturate, or Inf / NaN by policy.
    st |= kOverflow;
    if (spec.overflow == Overflow::kSaturate || !f.has_nan()) {
      st |= kSaturated;
      return done(max_code(f, neg));
    }
    return done((f.has_inf() ? f.inf_code() : f.nan_code()) | sign);
  }

  // 2. Zero.
  if (xe == 0 && xm == 0) {
    if (f.is_scale()) {  // no zero: the smallest scale
      st |= kUnderflow | kInexact;
      return done(0);
    }
    return done(f.has_negative_zero() ? sign : 0u);
  }

  // 3. Unpack |x| = sig * 2^e exactly, then apply the scale to the exponent.
  std::uint64_t sig = xe ? (xm | (std::uint64_t{1} << 52)) : xm;
  int e = (xe ? xe : 1) - 1075 - scale_exp;
  const int lead = e + 63 - std::countl_zero(sig);  // floor(log2 |x|)

  // 4. The quantum (spacing of the target grid) at |x|.
  int q;
  if (f.is_int()) {
    q = f.int_scale_exp;
  } else if (f.is_scale()) {
    if (lead < f.emin()) {  // below 2^-127 there is no smaller E8M0 value
      st |= kUnderflow | kInexact;
      return done(0);
    }
    q = lead;
  } else {
    q = (lead > f.emin() ? lead : f.emin()) - f.man_bits;
  }
  if (lead > f.emax() + 1) return done(overflow_code(f, neg, spec, st));

  // 5. Round sig * 2^e to a multiple of 2^q (the single rounding decision).
  std::uint64_t k;
  const int shift = q - e;
  if (shift <= 0) {
    k = sig << -shift;  // exact; lead <= emax + 1 bounds the size
  } else {
    const bool inexact = shift >= 64 || (sig & ((std::uint64_t{1} << shift) - 1)) != 0;
    std::uint64_t rsig = sig;
    if (!f.is_int() && f.man_bits == 0 && lead >= f.emin() && shift < 64) {
      // With no mantissa bits the kept value is always 1 (or 2^emin's 1); "even" means the
      // code's LSB, which here is the exponent field's: substitute that parity.
      const std::uint64_t parity = static_cast<std::uint64_t>(q + f.bias) & 1;
      rsig = (sig & ((std::uint64_t{1} << shift) - 1)) | (parity << shift);
    }
    k = (shift >= 64 ? 0 : sig >> shift) + (round_up(spec.mode, rsig, shift, neg, rnd) ? 1 : 0);
    if (inexact) {
      st |= kInexact;
      if (f.is_float() && lead < f.emin()) st |= kUnderflow;
    }
  }

  // 6. Pack.
  if (f.is_int()) {
    const std::int64_t v = neg ? -static_cast<std::int64_t>(k) : static_cast<std::int64_t>(k);
    const std::int64_t hi = (std::int64_t{1} << (f.bits - 1)) - 1;
    if (v > hi || v < -hi - 1) return done(overflow_code(f, neg, spec, st));
    return done(static_cast<std::uint32_t>(v) & f.code_mask());
  }
  if (k == 0) return done(sign);  // underflow to a signed zero (floats only reach here)
  const int m = f.man_bits;
  if (k >> (m + 1)) {  // rounding carried into the next binade
    k >>= 1;
    ++q;
  }
  std::uint64_t e_field = 0, mant = k;
  if (k >> m) {  // normal
    e_field = static_cast<std::uint64_t>(q + m + f.bias);
    mant = k - (std::uint64_t{1} << m);
  }
  const std::uint64_t mag = (e_field << m) | mant;
  if (mag > f.max_magnitude_code()) return done(overflow_code(f, neg, spec, st));
  return done(static_cast<std::uint32_t>(mag) | sign);
}

}  // namespace mx
