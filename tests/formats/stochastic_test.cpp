// Stochastic rounding: unbiased (the mean of many roundings converges to the input) and
// reproducible (a pure function of seed and element index).
#include <cmath>

#include <gtest/gtest.h>

#include "formats/block_quant.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"

namespace mx {
namespace {

TEST(Stochastic, MeanConvergesToInput) {
  const RoundSpec spec{Rounding::kStochastic, Overflow::kSaturate, 42};
  for (const char* name : {"e4m3", "e2m1", "int8", "e5m2"}) {
    const ElemFormat f = parse_elem_format(name);
    for (double x : {1.0 + 1.0 / 3, 0.3, -1.71828, 1.1, 0.0137}) {  // inside every range
      const int n = 200000;
      double sum = 0;
      for (int i = 0; i < n; ++i)
        sum += decode(f, encode(f, x, spec, nullptr,
                                stochastic_bits(spec.seed, static_cast<std::uint64_t>(i))));
      const double lo = decode(f, encode(f, x, RoundSpec{Rounding::kTowardNegative}));
      const double hi = decode(f, encode(f, x, RoundSpec{Rounding::kTowardPositive}));
      // Bernoulli(p) between lo and hi: the standard error is (hi-lo)*sqrt(p(1-p)/n).
      const double tol = 5 * (hi - lo) * 0.5 / std::sqrt(static_cast<double>(n));
      EXPECT_NEAR(sum / n, x, tol + 1e-15) << name << " x=" << x;
    }
  }
}

TEST(Stochastic, SameSeedSameBitsDifferentSeedDifferentBits) {
  BlockSpec spec;
  spec.format = parse_mx_format("mxfp4_e2m1");
  spec.round = RoundSpec{Rounding::kStochastic, Overflow::kSaturate, 9};
  std::vector<float> x(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 3.3f;
  std::vector<float> a(64), b(64), c(64);
  quantize_block_f32(spec, x.data(), 32, a.data(), nullptr, 0);
  quantize_block_f32(spec, x.data() + 32, 32, a.data() + 32, nullptr, 32);
  quantize_block_f32(spec, x.data() + 32, 32, b.data() + 32, nullptr, 32);  // order swapped
  quantize_block_f32(spec, x.data(), 32, b.data(), nullptr, 0);
  EXPECT_EQ(a, b);
  spec.round.seed = 10;
  quantize_block_f32(spec, x.data(), 32, c.data(), nullptr, 0);
  quantize_block_f32(spec, x.data() + 32, 32, c.data() + 32, nullptr, 32);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace mx
