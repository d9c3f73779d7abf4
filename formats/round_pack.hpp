// round_pack: the one rounding core of mxlab (DESIGN.md). Every conversion of an exact value
// to an element format goes through it: encode() (formats/codec.hpp), the dot/GEMM step,
// promotion and output roundings (emulator/dot.cpp, emulator/gemm.cpp, the fused kernel's
// promotion), and the integer quantizers (algorithms/quantizer.cpp, via round_to_quantum).
//
// The input is an exact real (-1)^neg * (mag + sticky * delta) * 2^exp with a wide integer
// magnitude and 0 < delta < 1 (the sticky bit stands for non-zero bits below mag's LSB). The
// steps are SoftFloat's roundPackToF32 and ml_dtypes' ConvertImpl, for any ElemFormat:
//   1. normalise: with a sticky bit, widen mag to 61 significant bits so the sticky bit lies
//      below every rounding position (formats of up to 58 bits of precision);
//   2. the rounding position (quantum 2^q) from the exponent: floats 2^(max(lead, emin) - m)
//      (subnormals included), intN 2^int_scale_exp, E8M0 2^lead;
//   3. round at 2^q with the kept LSB, the half bit and the sticky bits (round_up,
//      formats/rounding.hpp); formats without mantissa bits use the code's LSB (the exponent
//      field's parity) as "even";
//   4. a carry out of the significand moves into the next binade;
//   5. overflow rule when the result, rounded with an unbounded exponent, exceeds the largest
//      finite value; 6. pack sign, exponent field and mantissa into the code.
//
// Status flags (IEEE 754-2019 §7, with mxlab's additions; the oracle in tests/oracle computes
// them independently from exact rationals):
//   kInexact   the result differs from the exact value (always set with kOverflow);
//   kOverflow  the value rounded with an unbounded exponent exceeds the largest finite value
//              (intN: leaves [-2^(N-1), 2^(N-1) - 1] * 2^int_scale_exp);
//   kUnderflow tiny and inexact, tininess detected BEFORE rounding (|x| < 2^emin) for float
//              formats; E8M0: every value below 2^-127 (zero included) becomes 2^-127 with
//              kUnderflow | kInexact; intN never underflows (a uniform grid);
//   kSaturated the result was clamped to the largest finite value (overflow, or an infinity
//              into a format or policy without one);
//   kInvalid   NaN into a format without NaN (gives +0), a negative value into E8M0 (gives
//              NaN), an infinity into a format without Inf (gives NaN or the clamp).
// Zeros, finite exact values and NaN into a format with NaN raise nothing; an infinity into a
// format with Inf under an Inf policy is exact.
//
// Specialised instances (tested equal to this one): the fp32 fast path quantize_bits_f32
// (formats/fast_f32.hpp) and its AVX2 twin (formats/fast_f32_simd.cpp); the GEMM kernels'
// fp32 roundings (emulator/gemm_kernel_*.cpp).
#pragma once

#include <bit>
#include <cstdint>

#include "formats/descriptor.hpp"
#include "formats/rounding.hpp"

namespace mx {

__extension__ typedef unsigned __int128 U128;
__extension__ typedef __int128 I128;

// What an overflowing finite result becomes.
enum class OverflowRule : std::uint8_t {
  kSaturate,  // the largest finite value (Overflow::kSaturate)
  kIeee,      // IEEE 754 §7.4 (Overflow::kToNanOrInf, the accumulators' ovf=ieee): Inf, or
              // NaN without Inf, except where the mode rounds toward the largest finite value
              // (toward zero, toward the other infinity, odd: overflow_clamps), which clamp
  kInf,       // the accumulators' ovf=inf: Inf (NaN without Inf) in every mode
};
// Formats with neither Inf nor NaN clamp under every rule.

constexpr OverflowRule overflow_rule(Overflow o) {
  return o == Overflow::kSaturate ? OverflowRule::kSaturate : OverflowRule::kIeee;
}

struct Packed {
  std::uint32_t code = 0;
  Status status = kStatusOk;
};

// A magnitude rounded to a multiple of 2^q: k * 2^q, and whether that changed it.
struct Quantized {
  std::uint64_t k = 0;
  bool inexact = false;
};

namespace detail {
constexpr int bit_length(U128 x) {
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  if (hi) return 128 - std::countl_zero(hi);
  return 64 - std::countl_zero(static_cast<std::uint64_t>(x));
}
}  // namespace detail

// Step 3 alone: rounds (mag + sticky * delta) * 2^exp to a multiple of 2^q with `mode`
// (`neg` is the value's sign, `rnd` the random bits of stochastic rounding). `parity`, when
// 0 or 1, replaces the kept LSB in the ties-to-even and odd decisions (formats whose code
// LSB is not the significand's). Preconditions: the result k < 2^61; with a sticky bit,
// q > exp (the sticky bits lie below the rounding position). Bits of mag beyond 61 are
// folded into the sticky bit below the half bit (exact for every deterministic mode;
// stochastic rounding then sees them as one bit at that position).
constexpr Quantized round_to_quantum(bool neg, U128 mag, int exp, bool sticky, int q, Rounding mode,
                                     std::uint64_t rnd = 0, int parity = -1) {
  int shift = q - exp;
  if (shift <= 0) return {static_cast<std::uint64_t>(mag << -shift), sticky};
  const int n = detail::bit_length(mag);
  if (n > 61) {
    const int s = n - 61;  // < shift by the precondition on k
    sticky |= (mag & ((U128(1) << s) - 1)) != 0;
    mag >>= s;
    shift -= s;
  }
  std::uint64_t sig = static_cast<std::uint64_t>(mag);
  if (sticky) {  // the sticky bit as the lowest bit, below the half bit (sig < 2^62)
    sig = (sig << 1) | 1u;
    ++shift;
  }
  const std::uint64_t kept = shift >= 64 ? 0 : sig >> shift;
  const bool inexact = shift >= 64 ? sig != 0 : (sig & ((std::uint64_t{1} << shift) - 1)) != 0;
  std::uint64_t dsig = sig;
  if (parity >= 0 && shift < 62)
    dsig =
        (sig & ((std::uint64_t{1} << shift) - 1)) | (static_cast<std::uint64_t>(parity) << shift);
  return {kept + (round_up(mode, dsig, shift, neg, rnd) ? 1u : 0u), inexact};
}

// The code of the largest finite value with the given sign (intN: -2^(N-1) below zero).
constexpr std::uint32_t max_finite_code(const ElemFormat& f, bool neg) {
  if (f.is_int()) return neg ? f.sign_mask() : f.max_magnitude_code();
  return f.max_magnitude_code() | (neg ? f.sign_mask() : 0u);
}

// Step 5: a finite value whose rounding exceeds the largest finite value.
constexpr Packed pack_overflow(const ElemFormat& f, bool neg, Rounding mode, OverflowRule rule) {
  bool clamp = !f.has_nan();
  switch (rule) {
    case OverflowRule::kSaturate:
      clamp = true;
      break;
    case OverflowRule::kIeee:
      clamp |= overflow_clamps(mode, neg);
      break;
    case OverflowRule::kInf:
      break;
  }
  const Status st = kOverflow | kInexact;
  if (clamp) return {max_finite_code(f, neg), static_cast<Status>(st | kSaturated)};
  const std::uint32_t sign = neg ? f.sign_mask() : 0u;
  return {(f.has_inf() ? f.inf_code() : f.nan_code()) | sign, st};
}

// A NaN input: the format's NaN with the input's sign, or +0 and kInvalid without one.
constexpr Packed pack_nan(const ElemFormat& f, bool neg) {
  if (f.has_nan()) return {f.nan_code() | (neg ? f.sign_mask() : 0u), kStatusOk};
  return {0u, kInvalid};
}

// An infinite input (whatever the rounding mode): Inf where the format has it and the rule
// allows it (exact), else NaN (kInvalid) or the largest finite value (kInvalid | kSaturated);
// -Inf into E8M0 is NaN.
constexpr Packed pack_inf(const ElemFormat& f, bool neg, OverflowRule rule) {
  if (f.is_scale() && neg) return {f.nan_code(), kInvalid};
  if (rule == OverflowRule::kSaturate || !f.has_nan())
    return {max_finite_code(f, neg), static_cast<Status>(kInvalid | kSaturated)};
  const std::uint32_t sign = neg ? f.sign_mask() : 0u;
  if (f.has_inf()) return {f.inf_code() | sign, kStatusOk};
  return {f.nan_code() | sign, kInvalid};
}

// The round-and-pack of a finite value (-1)^neg * (mag + sticky * delta) * 2^exp into f.
// Precondition: mag > 0 when sticky. Zero keeps its sign in float formats (+0 in intN;
// E8M0 has no zero: its smallest value, kUnderflow | kInexact).
constexpr Packed round_pack(const ElemFormat& f, bool neg, U128 mag, int exp, bool sticky,
                            Rounding mode, OverflowRule rule, std::uint64_t rnd = 0) {
  const std::uint32_t sign = neg ? f.sign_mask() : 0u;
  if (mag == 0 && !sticky) {
    if (f.is_scale()) return {0u, static_cast<Status>(kUnderflow | kInexact)};
    return {f.has_negative_zero() ? sign : 0u, kStatusOk};
  }
  if (f.is_scale() && neg) return {f.nan_code(), kInvalid};

  // 1. Normalise.
  int n = detail::bit_length(mag);
  if (sticky && n < 61) {
    mag <<= 61 - n;
    exp -= 61 - n;
    n = 61;
  }
  const int lead = exp + n - 1;  // floor(log2 |x|)

  // 2. The rounding position.
  int q = 0, parity = -1;
  if (f.is_int()) {
    q = f.int_scale_exp;
  } else if (f.is_scale()) {
    if (lead < f.emin()) return {0u, static_cast<Status>(kUnderflow | kInexact)};
    q = lead;
  } else {
    q = (lead > f.emin() ? lead : f.emin()) - f.man_bits;
  }
  if (!f.is_int() && f.man_bits == 0 && lead >= f.emin()) parity = (q + f.bias) & 1;
  if (lead > f.emax() + 1) return pack_overflow(f, neg, mode, rule);

  // 3. Round.
  const Quantized r = round_to_quantum(neg, mag, exp, sticky, q, mode, rnd, parity);
  Status st = r.inexact ? kInexact : kStatusOk;
  std::uint64_t k = r.k;

  // 5-6 for intN: two's complement of the signed multiple of 2^int_scale_exp.
  if (f.is_int()) {
    const auto hi = static_cast<std::uint64_t>(f.max_magnitude_code());
    if (k > hi + (neg ? 1u : 0u)) return pack_overflow(f, neg, mode, rule);
    const std::uint64_t v = neg ? (0u - k) : k;
    return {static_cast<std::uint32_t>(v) & f.code_mask(), st};
  }
  if (r.inexact && f.is_float() && lead < f.emin()) st |= kUnderflow;
  if (k == 0) return {sign, st};  // a float underflowed to a signed zero

  // 4. Carry into the next binade.
  const int m = f.man_bits;
  if (k >> (m + 1)) {
    k >>= 1;
    ++q;
  }
  // 5-6. Pack (a subnormal keeps exponent field 0), then the overflow rule.
  std::uint64_t e_field = 0, mant = k;
  if (k >> m) {
    e_field = static_cast<std::uint64_t>(q + m + f.bias);
    mant = k - (std::uint64_t{1} << m);
  }
  const std::uint64_t mag_code = (e_field << m) | mant;
  if (mag_code > f.max_magnitude_code()) return pack_overflow(f, neg, mode, rule);
  return {static_cast<std::uint32_t>(mag_code) | sign, st};
}

// A few spec values at compile time (OCP MX v1.0 Tables 1-3).
static_assert(
    round_pack(kE4M3, false, 448, 0, false, Rounding::kNearestEven, OverflowRule::kSaturate).code ==
    0x7E);
static_assert(round_pack(kE4M3, false, 464, 0, false, Rounding::kNearestEven,
                         OverflowRule::kIeee)
                  .code == 0x7E);  // the tie above 448 goes to the even 448
static_assert(round_pack(kE4M3, false, 480, 0, false, Rounding::kNearestEven,
                         OverflowRule::kIeee)
                  .code == 0x7F);  // beyond: NaN (no Inf)
static_assert(round_pack(kE2M1, true, 5, 0, false, Rounding::kNearestEven,
                         OverflowRule::kSaturate)
                  .code == 0xE);  // -5 is a tie between -4 (even) and -6
static_assert(round_pack(kE8M0, false, 3, 0, false, Rounding::kNearestEven,
                         OverflowRule::kSaturate)
                  .code == 128);  // 3 ties between 2 (128, even) and 4
static_assert(round_pack(kInt8, true, 1, 1, false, Rounding::kNearestEven,
                         OverflowRule::kSaturate)
                  .code == 0x80);  // -2 is int8's most negative value

}  // namespace mx
