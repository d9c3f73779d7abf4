#include "formats/fast_f32.hpp"

#include <cmath>

#include "formats/codec.hpp"

namespace mx {
namespace {

// fp32 magnitude bits of |v| for a value known to be on an fp32-representable grid;
// beyond the fp32 range it is Inf (no fp32 input can reach it).
std::uint32_t magnitude_bits(double v) {
  v = std::fabs(v);
  if (v >= 0x1p128) return 0x7F800000u;
  return std::bit_cast<std::uint32_t>(static_cast<float>(v));
}

}  // namespace

F32Grid make_f32_grid(const ElemFormat& elem, int scale_exp, const RoundSpec& spec) {
  F32Grid g;
  if (elem.is_int()) {
    g.man_bits = 1000;
    g.q_biased = elem.int_scale_exp + scale_exp + 150;
    g.keep_neg_zero = false;
  } else {
    g.man_bits = elem.man_bits;
    g.q_biased = elem.emin() + scale_exp - elem.man_bits + 150;
    g.keep_neg_zero = elem.has_negative_zero();
    g.exp_parity_offset = elem.bias - 127 - scale_exp;
  }
  const std::uint32_t max_code = elem.max_magnitude_code();
  g.max_pos = magnitude_bits(std::ldexp(decode(elem, max_code), scale_exp));
  g.max_neg = elem.is_int() ? magnitude_bits(std::ldexp(decode(elem, elem.sign_mask()), scale_exp))
                            : g.max_pos;
  const std::uint32_t special = elem.has_inf() ? 0x7F800000u : 0x7FC00000u;
  const bool saturate = spec.overflow == Overflow::kSaturate || !elem.has_nan();
  g.ovf_pos = (saturate || overflow_clamps(spec.mode, false)) ? g.max_pos : special;
  g.ovf_neg = (saturate || overflow_clamps(spec.mode, true)) ? g.max_neg : special;
  g.inf_pos = saturate ? g.max_pos : special;
  g.inf_neg = saturate ? g.max_neg : special;
  g.nan_out = elem.has_nan() ? 0x7FC00000u : 0u;
  return g;
}

std::uint32_t grid_bits_to_code(const ElemFormat& elem, int scale_exp, std::uint32_t bits) {
  const std::uint32_t sign = bits & 0x80000000u;
  const std::uint32_t r = bits ^ sign;
  const bool neg = sign != 0;
  const std::uint32_t code_sign = neg ? elem.sign_mask() : 0u;
  if (r >= 0x7F800000u) {  // Inf / NaN written by the overflow policy, or a NaN input
    if (r > 0x7F800000u) return elem.has_nan() ? (elem.nan_code() | code_sign) : 0u;
    return elem.has_inf() ? (elem.inf_code() | code_sign) : (elem.nan_code() | code_sign);
  }
  if (r == 0) return elem.has_negative_zero() ? code_sign : 0u;
  const int e = static_cast<int>(r >> 23);
  if (e == 0) {  // an fp32 subnormal grid value: rare, take the generic (exact) path
    return encode(elem, static_cast<double>(std::bit_cast<float>(bits)), RoundSpec{}, nullptr, 0,
                  scale_exp);
  }
  const std::uint32_t sig = (r & 0x7FFFFFu) | 0x800000u;  // value = sig * 2^(e - 150)
  if (elem.is_int()) {
    const int shift = elem.int_scale_exp + scale_exp - (e - 150);
    const std::uint64_t k = shift >= 0 ? (sig >> shift) : (std::uint64_t{sig} << -shift);
    const std::int64_t v = neg ? -static_cast<std::int64_t>(k) : static_cast<std::int64_t>(k);
    return static_cast<std::uint32_t>(v) & elem.code_mask();
  }
  const int m = elem.man_bits;
  const int lead = e - 127 - scale_exp;  // exponent in element units
  if (lead >= elem.emin()) {
    const std::uint32_t mant = (r >> (23 - m)) & ((std::uint32_t{1} << m) - 1);
    return ((static_cast<std::uint32_t>(lead + elem.bias) << m) | mant) | code_sign;
  }
  const int shift = (elem.emin() - m) - (e - 150 - scale_exp);
  return (sig >> shift) | code_sign;
}

}  // namespace mx
