#include "formats/fast_f32_simd.hpp"

#include "formats/dispatch.hpp"

#include <immintrin.h>

#include <bit>

namespace mx {
namespace {

bool have_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok;
}

// One vector of eight lanes of quantize_bits_f32, step for step (see fast_f32.hpp). All
// quantities that are compared stay below 2^31, so signed 32-bit compares are exact.
// kFinite: the caller knows every input is finite (an MX block whose amax is finite), so the
// NaN/Inf selects are skipped.
template <Rounding R, bool kFinite = false>
__attribute__((target("avx2"))) inline __m256i quantize8(const F32Grid& g, __m256i u) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i sign = _mm256_and_si256(u, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
  const __m256i a = _mm256_xor_si256(u, sign);
  const __m256i neg = _mm256_cmpeq_epi32(sign, _mm256_set1_epi32(static_cast<int>(0x80000000u)));
  const __m256i e = _mm256_srli_epi32(a, 23);
  const __m256i e_zero = _mm256_cmpeq_epi32(e, zero);
  const __m256i ee = _mm256_max_epi32(e, one);
  // Leading-bit position of a subnormal significand: the exponent of its exact conversion.
  const __m256i sub_lead = _mm256_sub_epi32(
      _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(a)), 23), _mm256_set1_epi32(127));
  const __m256i lead_pos = _mm256_blendv_epi8(_mm256_set1_epi32(23), sub_lead, e_zero);
  const __m256i drop = _mm256_max_epi32(_mm256_sub_epi32(_mm256_set1_epi32(g.q_biased), ee),
                                        _mm256_sub_epi32(lead_pos, _mm256_set1_epi32(g.man_bits)));
  const __m256i sig = _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0x7FFFFF)),
                                      _mm256_andnot_si256(e_zero, _mm256_set1_epi32(0x800000)));
  // sh = clamp(drop, 1, 31): exact for sig < 2^24 (see round_up).
  const __m256i sh = _mm256_min_epi32(_mm256_max_epi32(drop, one), _mm256_set1_epi32(31));
  const __m256i unit = _mm256_sllv_epi32(one, sh);
  const __m256i kept = _mm256_srlv_epi32(sig, sh);
  const __m256i rem = _mm256_and_si256(sig, _mm256_sub_epi32(unit, one));
  const __m256i half = _mm256_srli_epi32(unit, 1);
  const __m256i inexact = _mm256_xor_si256(_mm256_cmpeq_epi32(rem, zero), _mm256_set1_epi32(-1));
  const __m256i odd = _mm256_cmpeq_epi32(_mm256_and_si256(kept, one), one);
  __m256i up;
  switch (R) {
    case Rounding::kNearestEven:
      up = _mm256_or_si256(_mm256_cmpgt_epi32(rem, half),
                           _mm256_and_si256(_mm256_cmpeq_epi32(rem, half), odd));
      break;
    case Rounding::kNearestAway:
      up = _mm256_xor_si256(_mm256_cmpgt_epi32(half, rem), _mm256_set1_epi32(-1));
      break;
    case Rounding::kTowardZero:
      up = zero;
      break;
    case Rounding::kTowardPositive:
      up = _mm256_andnot_si256(neg, inexact);
      break;
    case Rounding::kTowardNegative:
      up = _mm256_and_si256(neg, inexact);
      break;
    case Rounding::kOdd:
      up = _mm256_andnot_si256(odd, inexact);
      break;
    default:
      up = zero;
      break;
  }
  const __m256i positive_drop = _mm256_cmpgt_epi32(drop, zero);
  up = _mm256_and_si256(up, positive_drop);
  const __m256i in_binade = _mm256_cmpgt_epi32(_mm256_set1_epi32(24), drop);  // drop <= 23
  const __m256i masked = _mm256_andnot_si256(_mm256_sub_epi32(unit, one), a);
  __m256i trunc = _mm256_and_si256(masked, in_binade);
  trunc = _mm256_blendv_epi8(a, trunc, positive_drop);
  const __m256i far_step =
      _mm256_slli_epi32(_mm256_sub_epi32(_mm256_add_epi32(ee, drop), _mm256_set1_epi32(23)), 23);
  const __m256i step_up = _mm256_blendv_epi8(far_step, _mm256_add_epi32(trunc, unit), in_binade);
  __m256i r = _mm256_blendv_epi8(trunc, step_up, up);
  const __m256i limit = _mm256_blendv_epi8(_mm256_set1_epi32(static_cast<int>(g.max_pos)),
                                           _mm256_set1_epi32(static_cast<int>(g.max_neg)), neg);
  const __m256i ovf = _mm256_blendv_epi8(_mm256_set1_epi32(static_cast<int>(g.ovf_pos)),
                                         _mm256_set1_epi32(static_cast<int>(g.ovf_neg)), neg);
  r = _mm256_blendv_epi8(r, ovf, _mm256_cmpgt_epi32(r, limit));
  // Signs: integers lose the sign of zero.
  __m256i out_sign = sign;
  if (!g.keep_neg_zero) out_sign = _mm256_andnot_si256(_mm256_cmpeq_epi32(r, zero), sign);
  const __m256i normal = _mm256_or_si256(r, out_sign);
  if constexpr (kFinite) return normal;
  // Non-finite inputs.
  const __m256i inf_bits = _mm256_set1_epi32(0x7F800000);
  const __m256i is_nan = _mm256_cmpgt_epi32(a, inf_bits);
  const __m256i is_special = _mm256_or_si256(is_nan, _mm256_cmpeq_epi32(a, inf_bits));
  const __m256i nan_r =
      g.nan_out ? _mm256_or_si256(_mm256_set1_epi32(static_cast<int>(g.nan_out)), sign) : zero;
  const __m256i inf_r =
      _mm256_or_si256(_mm256_blendv_epi8(_mm256_set1_epi32(static_cast<int>(g.inf_pos)),
                                         _mm256_set1_epi32(static_cast<int>(g.inf_neg)), neg),
                      sign);
  const __m256i special = _mm256_blendv_epi8(inf_r, nan_r, is_nan);
  return _mm256_blendv_epi8(normal, special, is_special);
}

template <Rounding R>
__attribute__((target("avx2"))) void run8(const F32Grid& g, const float* x, std::size_t n,
                                          float* y) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), quantize8<R>(g, u));
  }
  for (; i < n; ++i)
    y[i] = std::bit_cast<float>(quantize_bits_f32<R>(g, std::bit_cast<std::uint32_t>(x[i]), 0));
}

// Codes of eight grid values; lanes the vector formula does not cover (zero, fp32
// subnormal, Inf/NaN) are redone with the scalar grid_bits_to_code.
__attribute__((target("avx2"))) void codes_avx2(const ElemFormat& elem, int s, const float* y,
                                                std::size_t n, std::uint32_t* codes) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i sign_bit = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const bool is_int = elem.is_int();
  const int m = elem.man_bits;
  // Floats: a normal element has code (r >> (23 - m)) - ((127 + s - bias) << m); a
  // subnormal one has sig >> (Ksub - e). Ints: k = sig >> (Kint - e) (or << when negative).
  const __m256i rshift = _mm256_set1_epi32(is_int ? 0 : 23 - m);
  const __m256i c_norm = _mm256_set1_epi32(is_int ? 0 : (127 + s - elem.bias) * (1 << m));
  const __m256i e_norm = _mm256_set1_epi32(is_int ? 1 << 20 : elem.emin() + 127 + s);
  const __m256i k_shift =
      _mm256_set1_epi32(is_int ? elem.int_scale_exp + s + 150 : elem.emin() - m + 150 + s);
  const __m256i code_mask = _mm256_set1_epi32(static_cast<int>(elem.code_mask()));
  const __m256i sign_code = _mm256_set1_epi32(static_cast<int>(elem.sign_mask()));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + i));
    const __m256i sign = _mm256_and_si256(u, sign_bit);
    const __m256i r = _mm256_xor_si256(u, sign);
    const __m256i neg = _mm256_cmpeq_epi32(sign, sign_bit);
    const __m256i e = _mm256_srli_epi32(r, 23);
    const __m256i sig = _mm256_or_si256(_mm256_and_si256(r, _mm256_set1_epi32(0x7FFFFF)),
                                        _mm256_set1_epi32(0x800000));
    const __m256i sh = _mm256_sub_epi32(k_shift, e);
    const __m256i k = _mm256_blendv_epi8(_mm256_srlv_epi32(sig, _mm256_max_epi32(sh, zero)),
                                         _mm256_sllv_epi32(sig, _mm256_sub_epi32(zero, sh)),
                                         _mm256_cmpgt_epi32(zero, sh));
    __m256i code;
    if (is_int) {
      const __m256i negk = _mm256_sub_epi32(zero, k);
      code = _mm256_and_si256(_mm256_blendv_epi8(k, negk, neg), code_mask);
    } else {
      const __m256i normal = _mm256_sub_epi32(_mm256_srlv_epi32(r, rshift), c_norm);
      const __m256i is_normal =
          _mm256_cmpgt_epi32(e, _mm256_sub_epi32(e_norm, _mm256_set1_epi32(1)));
      code = _mm256_blendv_epi8(k, normal, is_normal);
      code = _mm256_or_si256(code, _mm256_and_si256(neg, sign_code));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), code);
    // Lanes outside the formula: r == 0, fp32-subnormal r (e == 0), r >= Inf (e == 255).
    const __m256i odd_lane =
        _mm256_or_si256(_mm256_cmpeq_epi32(e, zero), _mm256_cmpeq_epi32(e, _mm256_set1_epi32(255)));
    int mask = _mm256_movemask_ps(_mm256_castsi256_ps(odd_lane));
    while (mask) {
      const int lane = __builtin_ctz(static_cast<unsigned>(mask));
      mask &= mask - 1;
      codes[i + static_cast<std::size_t>(lane)] = grid_bits_to_code(
          elem, s, std::bit_cast<std::uint32_t>(y[i + static_cast<std::size_t>(lane)]));
    }
  }
  for (; i < n; ++i) codes[i] = grid_bits_to_code(elem, s, std::bit_cast<std::uint32_t>(y[i]));
}

__attribute__((target("avx2"))) std::uint32_t amax_avx2(const float* x, std::size_t n) {
  __m256i m = _mm256_setzero_si256();
  const __m256i mask = _mm256_set1_epi32(0x7FFFFFFF);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    m = _mm256_max_epu32(
        m, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), mask));
  alignas(32) std::uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), m);
  std::uint32_t r = 0;
  for (std::uint32_t v : lanes) r = v > r ? v : r;
  for (; i < n; ++i) {
    const std::uint32_t v = std::bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu;
    r = v > r ? v : r;
  }
  return r;
}

template <Rounding R>
__attribute__((target("avx2"))) void blocks8(const F32Grid* grids, const ElemFormat& elem,
                                             ScaleRule rule, const float* x, std::size_t n,
                                             std::size_t block, float* y, std::uint32_t* scales) {
  const int emax = elem.emax();
  for (std::size_t start = 0, b = 0; start < n; start += block, ++b) {
    const std::size_t len = block < n - start ? block : n - start;
    const float* xb = x + start;
    float* yb = y + start;
    const std::uint32_t amax = amax_avx2(xb, len);
    if (amax >= 0x7F800000u) {  // NaN or Inf in the block: NaN scale, NaN elements
      for (std::size_t i = 0; i < len; ++i) yb[i] = std::bit_cast<float>(0x7FC00000u);
      scales[b] = 0xFF;
      continue;
    }
    int s;
    if (rule == ScaleRule::kFloor && amax >= 0x00800000u) {  // normal amax: its exponent
      s = static_cast<int>(amax >> 23) - 127 - emax;
      s = s < -127 ? -127 : (s > 127 ? 127 : s);
    } else {
      s = shared_scale_exponent(elem, rule, amax);
    }
    const F32Grid& g = grids[s + 127];
    std::size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(yb + i), quantize8<R, true>(g, u));
    }
    for (; i < len; ++i)
      yb[i] = std::bit_cast<float>(quantize_bits_f32<R>(g, std::bit_cast<std::uint32_t>(xb[i]), 0));
    scales[b] = static_cast<std::uint32_t>(s + 127);
  }
}

}  // namespace

bool quantize_blocks_f32_simd(const F32Grid* grids, const ElemFormat& elem, ScaleRule rule,
                              Rounding mode, const float* x, std::size_t n, std::size_t block,
                              float* y, std::uint32_t* scales) {
  if (!have_avx2() || elem.man_bits == 0 || elem.is_scale() || mode == Rounding::kStochastic)
    return false;
  visit_rounding(mode, [&](auto tag) {
    blocks8<decltype(tag)::value>(grids, elem, rule, x, n, block, y, scales);
  });
  return true;
}

bool quantize_values_f32_simd(const F32Grid& g, Rounding mode, const float* x, std::size_t n,
                              float* y) {
  if (!have_avx2() || g.man_bits == 0) return false;
  if (mode == Rounding::kStochastic) return false;
  visit_rounding(mode, [&](auto tag) { run8<decltype(tag)::value>(g, x, n, y); });
  return true;
}

bool grid_codes_f32_simd(const ElemFormat& elem, int s, const float* y, std::size_t n,
                         std::uint32_t* codes) {
  if (!have_avx2() || elem.is_scale()) return false;
  codes_avx2(elem, s, y, n, codes);
  return true;
}

std::uint32_t amax_bits_f32(const float* x, std::size_t n) {
  if (have_avx2()) return amax_avx2(x, n);
  std::uint32_t r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = std::bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu;
    r = v > r ? v : r;
  }
  return r;
}

}  // namespace mx
