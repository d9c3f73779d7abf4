// The fast fp32 grid kernel equals the generic codec: for random fp32 bit patterns (all
// exponents, subnormals, specials), random scale exponents, every format kind, every mode
// (stochastic with the same random bits) and both overflow policies, the outputs and the
// codes agree bit for bit.
#include <bit>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/dispatch.hpp"
#include "formats/fast_f32.hpp"
#include "tests/formats/test_support.hpp"

namespace mx {
namespace {

template <Rounding R>
void check(const ElemFormat& f, const RoundSpec& spec, int s, std::mt19937_64& rng, int& failures) {
  const F32Grid g = make_f32_grid(f, s, spec);
  for (int i = 0; i < 4000; ++i) {
    std::uint32_t u = static_cast<std::uint32_t>(rng());
    if (i % 3 == 0) {  // concentrate on the exponents near the scaled grid
      const int e = std::clamp(s + f.emax() + 127 + static_cast<int>(rng() % 40) - 30, 0, 254);
      u = (u & 0x807FFFFFu) | (static_cast<std::uint32_t>(e) << 23);
    }
    if (i % 7 == 0) u &= 0xFFFFFF00u;  // exact ties are likelier with trailing zeros
    const std::uint64_t rnd = rng();
    const float x = std::bit_cast<float>(u);
    const std::uint32_t fast = quantize_bits_f32<R>(g, u, rnd);
    const std::uint32_t code = encode(f, static_cast<double>(x), spec, nullptr, rnd, s);
    const double dv = decode(f, code);
    const float want = static_cast<float>(std::isnan(dv) ? dv : std::ldexp(dv, s));
    // An output beyond the fp32 range (only reachable with artificial scales, see README)
    // is Inf on both paths; its code is then not recoverable from the fp32 value.
    if (std::isinf(want) && !std::isinf(dv)) continue;
    const std::uint32_t fast_code = grid_bits_to_code(f, s, fast);
    if (!test::same_float(std::bit_cast<float>(fast), want) ||
        (fast_code != code && !std::isnan(dv))) {
      if (failures++ < 5)
        ADD_FAILURE() << f.name_view() << " " << rounding_name(R) << " "
                      << overflow_name(spec.overflow) << " s=" << s << " x=" << x << " (0x"
                      << std::hex << u << std::dec << ") fast=" << std::bit_cast<float>(fast)
                      << " generic=" << want << " codes " << fast_code << "/" << code;
    }
  }
}

TEST(FastPath, EqualsGenericCodec) {
  std::mt19937_64 rng(7);
  int failures = 0;
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "fp16", "bf16", "fp32",
                           "e3m4", "e5m3ieee", "e2m2fn", "e1m2", "e4m0", "int4", "int2", "int16"}) {
    const ElemFormat f = parse_elem_format(name);
    for (int s : {0, 1, -1, 5, -9, 20, -30, 100, -100, 127, -127}) {
      for (Overflow o : {Overflow::kSaturate, Overflow::kToNanOrInf}) {
        for (Rounding r : {Rounding::kNearestEven, Rounding::kNearestAway, Rounding::kTowardZero,
                           Rounding::kTowardPositive, Rounding::kTowardNegative, Rounding::kOdd,
                           Rounding::kStochastic}) {
          const RoundSpec spec{r, o, 1};
          visit_rounding(r,
                         [&](auto tag) { check<decltype(tag)::value>(f, spec, s, rng, failures); });
        }
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace mx
