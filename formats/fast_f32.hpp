// The fast fp32 path: fake-quantization of fp32 values onto an element grid scaled by 2^s,
// done on the fp32 bit patterns with integer operations (no division, no float rounding).
//
// Rounding x to the element format after dividing by 2^s is the same as rounding x to the
// scaled grid {v * 2^s}: a float grid with the element's mantissa width whose smallest
// normal exponent is emin + s (ints: a uniform grid with spacing 2^(int_scale_exp + s)).
// For an fp32 input with biased exponent E the grid spacing in units of x's ulp is 2^drop,
// drop = max(L - m, Q - max(E, 1)) where L is the position of x's leading significand bit
// (23 for normal fp32, lower for subnormals); rounding to it is the integer rounding of the
// significand by `drop` bits (round_up), and for drop <= 23 re-packing is a masked add on
// the bit pattern whose carry moves into the exponent field exactly as the value does.
// tests/formats/fast_path_test.cpp proves this equal to the generic codec.
//
// An instance of round_pack (formats/round_pack.hpp) specialised for fp32 inputs and a fixed
// scaled grid: steps 1-2 are the drop computation, step 3 the same round_up, steps 4-6 the
// masked add whose carry moves into the exponent field and the clamp to max_pos / max_neg.
// tests/formats/round_pack_kernels_test.cpp checks its codes against round_pack directly.
// It computes values (and, through grid_bits_to_code, codes) only: no Status flags; callers
// that need flags use encode().
#pragma once

#include <bit>
#include <cstdint>

#include "formats/descriptor.hpp"
#include "formats/rounding.hpp"

namespace mx {

struct F32Grid {
  int man_bits = 0;           // floats: m; ints: a large number (the grid has no normal range)
  int q_biased = 0;           // smallest grid spacing exponent + 150
  std::uint32_t max_pos = 0;  // fp32 bits of the largest positive value (times 2^s)
  std::uint32_t max_neg = 0;  // magnitude bits of the most negative value (times 2^s)
  std::uint32_t ovf_pos = 0;  // magnitude bits written on positive overflow
  std::uint32_t ovf_neg = 0;
  std::uint32_t nan_out = 0;  // output for a NaN input (element-wise use)
  std::uint32_t inf_pos = 0;  // magnitude bits output for +Inf / -Inf inputs
  std::uint32_t inf_neg = 0;
  bool keep_neg_zero = true;
  int exp_parity_offset = 0;  // m == 0 floats: code exponent field = E + offset (+ const)
};

// Precomputes the grid of `elem` scaled by 2^scale_exp for the rounding spec.
F32Grid make_f32_grid(const ElemFormat& elem, int scale_exp, const RoundSpec& spec);

// Rounds one fp32 value (bit pattern) onto the grid. Non-finite inputs follow the
// element-wise rules (NaN -> NaN or +0, Inf -> by policy).
template <Rounding R>
inline std::uint32_t quantize_bits_f32(const F32Grid& g, std::uint32_t u, std::uint64_t rnd) {
  // Written as selects, without data-dependent branches: signs, exactness and round-up
  // decisions are random in real data, so branches would mispredict half the time.
  const std::uint32_t sign = u & 0x80000000u;
  const bool neg = sign != 0;
  const std::uint32_t a = u ^ sign;
  const int e = static_cast<int>(a >> 23);
  const int ee = e + (e == 0);
  const int lead_pos = e ? 23 : 31 - std::countl_zero(a | 1u);
  const int drop_sub = g.q_biased - ee;
  const int drop_norm = lead_pos - g.man_bits;
  const int drop = drop_sub > drop_norm ? drop_sub : drop_norm;
  std::uint32_t sig = (a & 0x7FFFFFu) | (e ? 0x800000u : 0u);
  const int sh = drop < 1 ? 1 : drop;  // drop <= 0 is exact (masked below)
  if (g.man_bits == 0 && drop == drop_norm && drop <= 23) [[unlikely]] {
    // No mantissa bits: "even"/"odd" is the parity of the code's exponent field.
    const std::uint32_t parity =
        static_cast<std::uint32_t>(ee + lead_pos - 23 + g.exp_parity_offset) & 1u;
    sig = (sig & ((std::uint32_t{1} << sh) - 1)) | (parity << sh);
  }
  const bool up = (drop > 0) & round_up(R, sig, sh, neg, rnd);
  const std::uint32_t unit = std::uint32_t{1} << (sh < 31 ? sh : 31);
  const std::uint32_t trunc = drop <= 0 ? a : (drop <= 23 ? (a & ~(unit - 1)) : 0u);
  // Rounding up: add one grid step; below one step the step itself is 2^(ee - 150 + drop).
  const std::uint32_t step_up =
      drop <= 23 ? trunc + unit : static_cast<std::uint32_t>(ee + drop - 23) << 23;
  std::uint32_t r = up ? step_up : trunc;
  const std::uint32_t limit = neg ? g.max_neg : g.max_pos;
  const std::uint32_t ovf = neg ? g.ovf_neg : g.ovf_pos;
  r = r > limit ? ovf : r;
  // Non-finite inputs: NaN -> NaN (keeping its sign) or +0; Inf -> by policy.
  const std::uint32_t nan_r = g.nan_out ? (g.nan_out | sign) : 0u;
  const std::uint32_t inf_r = (neg ? g.inf_neg : g.inf_pos) | sign;
  const std::uint32_t special = a > 0x7F800000u ? nan_r : inf_r;
  const std::uint32_t out_sign = (r == 0 && !g.keep_neg_zero) ? 0u : sign;
  return a >= 0x7F800000u ? special : (r | out_sign);
}

// Code of `elem` for a value already on the grid (output of quantize_bits_f32 with the same
// scale). Exact: no rounding happens here.
std::uint32_t grid_bits_to_code(const ElemFormat& elem, int scale_exp, std::uint32_t bits);

}  // namespace mx
