// ElemFormat: the constexpr descriptor of one element format (OCP MX v1.0 §5.3, plus
// IEEE fp16/bf16/fp32 and generic eXmY / intN built at run time).
//
// A float element is sign | exponent field | mantissa field. Values follow IEEE 754 for the
// finite part (subnormals at exponent field 0); what the all-ones exponent field means is
// `Nonfinite`. An integer element is a two's-complement code times 2^int_scale_exp.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mx {

enum class ElemKind : std::uint8_t {
  kFloat,  // sign, exponent, mantissa
  kInt,    // two's complement times 2^int_scale_exp
  kScale,  // unsigned power of two (E8M0): no sign, no zero, no subnormals
};

enum class Nonfinite : std::uint8_t {
  kIeee,        // all-ones exponent: mantissa 0 is Inf, other mantissas NaN (e5m2, fp16)
  kNanOnly,     // only the all-ones code is NaN, no Inf (e4m3 "fn", e8m0 0xFF)
  kFiniteOnly,  // every code is a finite number (e3m2, e2m3, e2m1, ints)
};

struct ElemFormat {
  std::array<char, 24> name{};  // canonical name, NUL-terminated
  ElemKind kind = ElemKind::kFloat;
  int bits = 0;      // storage bits per code
  int exp_bits = 0;  // float/scale: exponent field width
  int man_bits = 0;  // float/scale: stored mantissa bits; int: bits - 1
  int bias = 0;      // float/scale: exponent bias
  Nonfinite nonfinite = Nonfinite::kFiniteOnly;
  int int_scale_exp = 0;  // int: value = code * 2^int_scale_exp

  constexpr std::string_view name_view() const { return std::string_view(name.data()); }
  constexpr bool is_float() const { return kind == ElemKind::kFloat; }
  constexpr bool is_int() const { return kind == ElemKind::kInt; }
  constexpr bool is_scale() const { return kind == ElemKind::kScale; }
  constexpr bool has_sign() const { return kind != ElemKind::kScale; }
  constexpr bool has_nan() const { return nonfinite != Nonfinite::kFiniteOnly; }
  constexpr bool has_inf() const { return nonfinite == Nonfinite::kIeee; }
  // Floats keep -0; integers and E8M0 have no negative zero.
  constexpr bool has_negative_zero() const { return kind == ElemKind::kFloat; }
  constexpr bool has_subnormals() const { return kind == ElemKind::kFloat; }

  constexpr std::uint32_t code_mask() const {
    return bits >= 32 ? 0xFFFFFFFFu : ((std::uint32_t{1} << bits) - 1);
  }
  constexpr std::uint32_t sign_mask() const {
    return has_sign() ? (std::uint32_t{1} << (bits - 1)) : 0u;
  }
  // Smallest normal exponent (unbiased) of a float/scale format.
  constexpr int emin() const { return is_scale() ? -bias : 1 - bias; }
  // The largest finite magnitude, as a magnitude code (code without the sign bit).
  constexpr std::uint32_t max_magnitude_code() const {
    if (is_int()) return (std::uint32_t{1} << (bits - 1)) - 1;
    const std::uint32_t all_ones = (std::uint32_t{1} << (exp_bits + man_bits)) - 1;
    switch (nonfinite) {
      case Nonfinite::kIeee:
        return all_ones - (std::uint32_t{1} << man_bits);  // below Inf
      case Nonfinite::kNanOnly:
        return all_ones - 1;
      case Nonfinite::kFiniteOnly:
        return all_ones;
    }
    return 0;
  }
  // emax_elem of OCP MX §6.3: the exponent of the largest finite value (floor(log2(max))).
  constexpr int emax() const {
    if (is_int()) return bits - 2 + int_scale_exp;
    return static_cast<int>(max_magnitude_code() >> man_bits) - bias;
  }
  // Mantissa field of the largest finite value.
  constexpr std::uint32_t max_mantissa() const {
    return max_magnitude_code() & ((std::uint32_t{1} << man_bits) - 1);
  }
  constexpr std::uint32_t nan_code() const {  // canonical (positive) NaN
    if (nonfinite == Nonfinite::kIeee)
      return (((std::uint32_t{1} << exp_bits) - 1) << man_bits) |
             (std::uint32_t{1} << (man_bits - 1));
    return (std::uint32_t{1} << (exp_bits + man_bits)) - 1;
  }
  constexpr std::uint32_t inf_code() const {  // positive Inf (kIeee only)
    return ((std::uint32_t{1} << exp_bits) - 1) << man_bits;
  }
};

constexpr bool operator==(const ElemFormat& a, const ElemFormat& b) {
  return a.kind == b.kind && a.bits == b.bits && a.exp_bits == b.exp_bits &&
         a.man_bits == b.man_bits && a.bias == b.bias && a.nonfinite == b.nonfinite &&
         a.int_scale_exp == b.int_scale_exp;
}

namespace detail {
constexpr std::array<char, 24> make_name(std::string_view s) {
  std::array<char, 24> out{};
  for (std::size_t i = 0; i < s.size() && i + 1 < out.size(); ++i) out[i] = s[i];
  return out;
}
}  // namespace detail

constexpr ElemFormat make_float(std::string_view name, int exp_bits, int man_bits, Nonfinite nf) {
  ElemFormat f;
  f.name = detail::make_name(name);
  f.kind = ElemKind::kFloat;
  f.bits = 1 + exp_bits + man_bits;
  f.exp_bits = exp_bits;
  f.man_bits = man_bits;
  f.bias = (1 << (exp_bits - 1)) - 1;
  f.nonfinite = nf;
  return f;
}

// intN of OCP MX: two's complement with an implicit scale of 2^-(N-2), so its largest
// value is just below 2 (int8: 127/64) and emax_elem is 0.
constexpr ElemFormat make_int(std::string_view name, int bits) {
  ElemFormat f;
  f.name = detail::make_name(name);
  f.kind = ElemKind::kInt;
  f.bits = bits;
  f.man_bits = bits - 1;
  f.int_scale_exp = -(bits - 2);
  return f;
}

// The OCP element formats (MX v1.0 §5.3.1 / §5.3.2 / §5.4) and the IEEE companions.
inline constexpr ElemFormat kE4M3 = make_float("e4m3", 4, 3, Nonfinite::kNanOnly);
inline constexpr ElemFormat kE5M2 = make_float("e5m2", 5, 2, Nonfinite::kIeee);
inline constexpr ElemFormat kE3M2 = make_float("e3m2", 3, 2, Nonfinite::kFiniteOnly);
inline constexpr ElemFormat kE2M3 = make_float("e2m3", 2, 3, Nonfinite::kFiniteOnly);
inline constexpr ElemFormat kE2M1 = make_float("e2m1", 2, 1, Nonfinite::kFiniteOnly);
inline constexpr ElemFormat kInt8 = make_int("int8", 8);
inline constexpr ElemFormat kFp16 = make_float("fp16", 5, 10, Nonfinite::kIeee);
inline constexpr ElemFormat kBf16 = make_float("bf16", 8, 7, Nonfinite::kIeee);
inline constexpr ElemFormat kFp32 = make_float("fp32", 8, 23, Nonfinite::kIeee);
inline constexpr ElemFormat kE8M0 = [] {
  ElemFormat f;
  f.name = detail::make_name("e8m0");
  f.kind = ElemKind::kScale;
  f.bits = 8;
  f.exp_bits = 8;
  f.man_bits = 0;
  f.bias = 127;
  f.nonfinite = Nonfinite::kNanOnly;
  return f;
}();

// Spec constants (OCP MX v1.0 Tables 1-3) checked at compile time.
static_assert(kE4M3.emax() == 8 && kE4M3.max_mantissa() == 6);   // 448 = 1.75 * 2^8
static_assert(kE5M2.emax() == 15 && kE5M2.max_mantissa() == 3);  // 57344 = 1.75 * 2^15
static_assert(kE3M2.emax() == 4 && kE3M2.max_mantissa() == 3);   // 28 = 1.75 * 2^4
static_assert(kE2M3.emax() == 2 && kE2M3.max_mantissa() == 7);   // 7.5 = 1.875 * 2^2
static_assert(kE2M1.emax() == 2 && kE2M1.max_mantissa() == 1);   // 6 = 1.5 * 2^2
static_assert(kInt8.emax() == 0 && kInt8.int_scale_exp == -6);   // 127/64
static_assert(kE8M0.emin() == -127 && kE8M0.emax() == 127 && kE8M0.nan_code() == 0xFF);
static_assert(kE4M3.emin() == -6 && kE5M2.emin() == -14 && kE2M1.emin() == 0);

}  // namespace mx
