// The exact-sum module (emulator/wide_acc.hpp): exact_sum is exact (checked with the oracle's
// rationals), WideAcc agrees with it, and the fast paths' specialised fp32 output step
// (sum_odd, then the hardware's nearest-even conversion) is round_pack of the exact sum.
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "emulator/wide_acc.hpp"
#include "tests/oracle/oracle.hpp"

namespace mx {
namespace {

namespace mo = mx_oracle;

// Random doubles with exponent gaps from 0 to beyond 64 bits, cancellations and ties.
std::pair<double, double> random_pair(std::mt19937_64& rng, int i) {
  auto one = [&](int e) {
    std::uint64_t sig = (rng() >> 11) | (std::uint64_t{1} << 52);
    if (rng() % 3 == 0) sig &= ~((std::uint64_t{1} << (rng() % 53)) - 1);
    const double v = std::ldexp(static_cast<double>(sig), e - 52);
    return (rng() & 1) ? -v : v;
  };
  const int e = static_cast<int>(rng() % 300) - 150;
  const double x = one(e);
  double y;
  switch (i % 4) {
    case 0:  // close: cancellation
      y = -x * (1 + std::ldexp(static_cast<double>(rng() % 1000), -40));
      break;
    case 1:  // a gap of up to 120 bits
      y = one(e - static_cast<int>(rng() % 120));
      break;
    case 2:  // near fp32's subnormal and overflow ends
      y = one((rng() & 1) ? -149 + static_cast<int>(rng() % 30)
                          : 100 + static_cast<int>(rng() % 28));
      break;
    default:
      y = one(static_cast<int>(rng() % 300) - 150);
  }
  return {x, i % 17 == 0 ? 0.0 : y};
}

mo::Rational value_of(const ExactValue& v, const mo::Rational& delta) {
  mo::Rational m(mo::Integer(static_cast<std::uint64_t>(v.mag >> 64)));
  m = m * mo::pow2(64) + mo::Rational(mo::Integer(static_cast<std::uint64_t>(v.mag)));
  if (v.sticky) m += delta;
  m *= mo::pow2(v.exp);
  return v.neg ? mo::Rational(-m) : m;
}

TEST(WideAcc, ExactSumIsExact) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const auto [x, y] = random_pair(rng, i);
    const ExactValue s = exact_sum(split_double(x), split_double(y));
    const mo::Rational want = mo::rational_from_double(x) + mo::rational_from_double(y);
    if (!s.sticky) {
      ASSERT_EQ(value_of(s, 0), want) << std::hexfloat << x << " + " << y;
    } else {  // the true sum lies strictly inside (mag, mag + 1) * 2^exp, above 2^62 units
      ASSERT_GE(s.mag, U128(1) << 62) << std::hexfloat << x << " + " << y;
      const mo::Rational lo = value_of(ExactValue{s.neg, s.mag, s.exp, false}, 0);
      const mo::Rational hi = value_of(ExactValue{s.neg, s.mag + 1, s.exp, false}, 0);
      ASSERT_TRUE(s.neg ? (want < lo && want > hi) : (want > lo && want < hi))
          << std::hexfloat << x << " + " << y;
    }
    // WideAcc, the other exact adder, rounds the same way.
    WideAcc w;
    w.clear();
    w.add_double(x);
    w.add_double(y);
    ExactValue v;
    const bool nonzero = w.extract(&v);
    ASSERT_EQ(nonzero, !s.is_zero());
    if (nonzero) {
      for (const Rounding r : {Rounding::kNearestEven, Rounding::kTowardZero, Rounding::kOdd}) {
        const Packed a = round_exact(kFp16, s, r, OverflowRule::kIeee);
        const Packed b = round_exact(kFp16, v, r, OverflowRule::kIeee);
        ASSERT_EQ(a.code, b.code) << std::hexfloat << x << " + " << y;
        ASSERT_EQ(a.status, b.status) << std::hexfloat << x << " + " << y;
      }
    }
  }
}

TEST(WideAcc, SumOddThenFp32IsRoundPack) {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 200000; ++i) {
    const auto [x, y] = random_pair(rng, i);
    const double d = sum_odd(x, y);
    const auto fast = std::bit_cast<std::uint32_t>(static_cast<float>(d == 0 ? 0.0 : d));
    const ExactValue s = exact_sum(split_double(x), split_double(y));
    const std::uint32_t want =
        s.is_zero() ? 0u : round_exact(kFp32, s, Rounding::kNearestEven, OverflowRule::kIeee).code;
    ASSERT_EQ(fast, want) << std::hexfloat << x << " + " << y;
  }
}

}  // namespace
}  // namespace mx
