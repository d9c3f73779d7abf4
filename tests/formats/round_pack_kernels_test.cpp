// The specialised rounding kernels are instances of round_pack (formats/round_pack.hpp): for
// random fp32 inputs (all exponents, subnormals, ties, specials), random scale exponents,
// every format kind and every mode (stochastic with the same random bits) and both overflow
// policies, the codes of the scalar fp32 fast path (quantize_bits_f32 + grid_bits_to_code)
// and of the AVX2 kernels (quantize_values_f32_simd, grid_codes_f32_simd) equal round_pack's
// codes, called directly on the exact input. These kernels compute codes only: they have no
// Status to compare (formats/rounding.hpp says so).
#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/dispatch.hpp"
#include "formats/fast_f32.hpp"
#include "formats/fast_f32_simd.hpp"
#include "formats/round_pack.hpp"

namespace mx {
namespace {

// round_pack on an fp32 input divided by 2^s (exact: the scale goes to the exponent).
std::uint32_t reference_code(const ElemFormat& f, std::uint32_t u, int s, const RoundSpec& spec,
                             std::uint64_t rnd) {
  const bool neg = (u >> 31) != 0;
  const std::uint32_t a = u & 0x7FFFFFFFu;
  const OverflowRule rule = overflow_rule(spec.overflow);
  if (a > 0x7F800000u) return pack_nan(f, neg).code;
  if (a == 0x7F800000u) return pack_inf(f, neg, rule).code;
  const int e = static_cast<int>(a >> 23);
  const std::uint32_t sig = (a & 0x7FFFFFu) | (e ? 0x800000u : 0u);
  return round_pack(f, neg, sig, (e ? e : 1) - 150 - s, false, spec.mode, rule, rnd).code;
}

std::uint32_t random_input(std::mt19937_64& rng, const ElemFormat& f, int s, int i) {
  std::uint32_t u = static_cast<std::uint32_t>(rng());
  if (i % 2) {  // near the scaled grid
    const int e = std::clamp(s + f.emax() + 127 + static_cast<int>(rng() % 40) - 30, 0, 255);
    u = (u & 0x807FFFFFu) | (static_cast<std::uint32_t>(e) << 23);
  }
  if (i % 5 == 0) u &= 0xFFFFF000u;  // ties
  return u;
}

// An output beyond the fp32 range (artificial scales) is Inf on the fast path and its code
// is not recoverable from the fp32 value: such inputs are left out, as in fast_path_test.
bool representable(const ElemFormat& f, std::uint32_t code, int s) {
  const double v = decode(f, code);
  return !std::isfinite(v) || std::isfinite(static_cast<float>(std::ldexp(v, s)));
}

constexpr int kScales[] = {0, 1, -1, 5, -9, 20, -30, 100, -100, 127, -127};

template <Rounding R>
int check_scalar(const ElemFormat& f, int s, const RoundSpec& spec, std::mt19937_64& rng) {
  const F32Grid g = make_f32_grid(f, s, spec);
  int failures = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::uint32_t u = random_input(rng, f, s, i);
    const std::uint64_t rnd = rng();
    const std::uint32_t want = reference_code(f, u, s, spec, rnd);
    if (!representable(f, want, s)) continue;
    const std::uint32_t got = grid_bits_to_code(f, s, quantize_bits_f32<R>(g, u, rnd));
    if (got != want && failures++ < 3)
      ADD_FAILURE() << f.name_view() << " " << rounding_name(R) << " "
                    << overflow_name(spec.overflow) << " s=" << s << " x=0x" << std::hex << u
                    << " fast code 0x" << got << " round_pack 0x" << want;
  }
  return failures;
}

TEST(RoundPackKernels, ScalarFastPathIsRoundPack) {
  std::mt19937_64 rng(21);
  int failures = 0;
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "fp16", "bf16", "fp32",
                           "e3m4", "e5m3ieee", "e2m2fn", "e1m2", "e4m0", "int4", "int2", "int16"}) {
    const ElemFormat f = parse_elem_format(name);
    for (const int s : kScales)
      for (const Overflow o : {Overflow::kSaturate, Overflow::kToNanOrInf})
        for (int r = 0; r <= static_cast<int>(Rounding::kStochastic); ++r) {
          const RoundSpec spec{static_cast<Rounding>(r), o, 1};
          failures += visit_rounding(spec.mode, [&](auto tag) {
            return check_scalar<decltype(tag)::value>(f, s, spec, rng);
          });
        }
  }
  EXPECT_EQ(failures, 0);
}

TEST(RoundPackKernels, Avx2KernelsAreRoundPack) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937_64 rng(22);
  std::vector<std::uint32_t> u(1027);  // not a multiple of 8: the tail runs too
  std::vector<float> x(u.size()), y(u.size());
  std::vector<std::uint32_t> codes(u.size());
  int failures = 0;
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "int4", "int2", "fp16",
                           "bf16", "fp32", "e3m4", "e5m3ieee", "e2m2fn", "int16"}) {
    const ElemFormat f = parse_elem_format(name);
    for (const int s : kScales) {
      for (std::size_t i = 0; i < u.size(); ++i) {
        u[i] = random_input(rng, f, s, static_cast<int>(i));
        x[i] = std::bit_cast<float>(u[i]);
      }
      for (const Overflow o : {Overflow::kSaturate, Overflow::kToNanOrInf})
        for (int r = 0; r < static_cast<int>(Rounding::kStochastic); ++r) {
          const RoundSpec spec{static_cast<Rounding>(r), o, 0};
          const F32Grid g = make_f32_grid(f, s, spec);
          ASSERT_TRUE(quantize_values_f32_simd(g, spec.mode, x.data(), x.size(), y.data()));
          const bool have_codes = grid_codes_f32_simd(f, s, y.data(), y.size(), codes.data());
          for (std::size_t i = 0; i < u.size(); ++i) {
            const std::uint32_t want = reference_code(f, u[i], s, spec, 0);
            if (!representable(f, want, s)) continue;
            const std::uint32_t got = grid_bits_to_code(f, s, std::bit_cast<std::uint32_t>(y[i]));
            const std::uint32_t got_simd = have_codes ? codes[i] : want;
            if ((got != want || got_simd != want) && failures++ < 5)
              ADD_FAILURE() << name << " " << rounding_name(spec.mode) << " " << overflow_name(o)
                            << " s=" << s << " x=0x" << std::hex << u[i] << " avx2 value code 0x"
                            << got << " avx2 codes 0x" << got_simd << " round_pack 0x" << want;
          }
        }
    }
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace mx
