// The AVX2 kernel equals the scalar kernel bit for bit (random patterns, specials,
// subnormals, every format kind with mantissa bits, every deterministic mode, both
// overflow policies, scales across the E8M0 range).
#include <bit>
#include <random>

#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/dispatch.hpp"
#include "formats/fast_f32_simd.hpp"
#include "tests/formats/test_support.hpp"

namespace mx {
namespace {

template <Rounding R>
std::vector<float> scalar(const F32Grid& g, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    y[i] = std::bit_cast<float>(quantize_bits_f32<R>(g, std::bit_cast<std::uint32_t>(x[i]), 0));
  return y;
}

std::vector<float> scalar_any(const F32Grid& g, Rounding r, const std::vector<float>& x) {
  return visit_rounding(r, [&](auto tag) { return scalar<decltype(tag)::value>(g, x); });
}

TEST(Simd, EqualsScalarKernel) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937_64 rng(11);
  std::vector<float> x(4099);  // not a multiple of 8: the tail runs too
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "int4", "int2", "fp16",
                           "bf16", "fp32", "e3m4", "e5m3ieee", "e2m2fn", "int16"}) {
    const ElemFormat f = parse_elem_format(name);
    for (int s : {0, 3, -7, 40, -60, 127, -127}) {
      for (std::size_t i = 0; i < x.size(); ++i) {
        std::uint32_t u = static_cast<std::uint32_t>(rng());
        if (i % 2) {
          const int e = std::clamp(s + f.emax() + 127 + static_cast<int>(rng() % 40) - 30, 0, 255);
          u = (u & 0x807FFFFFu) | (static_cast<std::uint32_t>(e) << 23);
        }
        if (i % 5 == 0) u &= 0xFFFFF000u;
        x[i] = std::bit_cast<float>(u);
      }
      for (Overflow o : {Overflow::kSaturate, Overflow::kToNanOrInf}) {
        for (Rounding r : test::deterministic_modes()) {
          const F32Grid g = make_f32_grid(f, s, RoundSpec{r, o, 0});
          std::vector<float> y(x.size());
          ASSERT_TRUE(quantize_values_f32_simd(g, r, x.data(), x.size(), y.data()));
          const std::vector<float> want = scalar_any(g, r, x);
          for (std::size_t i = 0; i < x.size(); ++i)
            ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(want[i]))
                << name << " s=" << s << " " << rounding_name(r) << " x=0x" << std::hex
                << std::bit_cast<std::uint32_t>(x[i]);
        }
      }
    }
  }
}

TEST(Simd, AmaxBits) {
  std::vector<float> x = {1.0f, -3.0f, 2.0f, -0.0f, 0.5f, 1e-40f, -2.9f, 2.99f, 1.0f, -3.5f};
  EXPECT_EQ(amax_bits_f32(x.data(), x.size()), std::bit_cast<std::uint32_t>(3.5f));
  EXPECT_EQ(amax_bits_f32(x.data(), 9), std::bit_cast<std::uint32_t>(3.0f));
  EXPECT_EQ(amax_bits_f32(x.data(), 0), 0u);
}

}  // namespace
}  // namespace mx
