// The codecs against the independent oracle (tests/oracle): every code of every format
// decodes right, and midpoints, their neighbours and the overflow region round right in
// every deterministic mode under both overflow policies, through both the generic codec
// and the fast fp32 path.
#include <algorithm>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "formats/block_quant.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "tests/formats/test_support.hpp"

namespace mx {
namespace {

// Catalogue formats plus generic ones of every kind (NaN-only, IEEE, finite, ints).
const std::vector<std::string> kNames = {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1",     "int8",
                                         "e8m0", "fp16", "bf16", "e3m4", "e5m3ieee", "e2m2fn",
                                         "e1m2", "e4m0", "int4", "int2", "int16",    "e6m1fn"};

class PerFormat : public ::testing::TestWithParam<std::string> {};

TEST_P(PerFormat, EveryCodeDecodes) {
  const ElemFormat f = parse_elem_format(GetParam());
  const mx_oracle::Format of = mx_oracle::format_by_name(GetParam());
  ASSERT_EQ(f.bits, of.bits);
  for (std::uint32_t c = 0; c < (std::uint32_t{1} << f.bits); ++c) {
    const double got = decode(f, c);
    const mx_oracle::Decoded d = mx_oracle::decode(of, c);
    switch (d.cls) {
      case mx_oracle::Decoded::kNaN:
        EXPECT_TRUE(std::isnan(got)) << GetParam() << " code " << c;
        break;
      case mx_oracle::Decoded::kInf:
        EXPECT_TRUE(std::isinf(got) && std::signbit(got) == d.negative)
            << GetParam() << " code " << c;
        break;
      case mx_oracle::Decoded::kFinite:
        EXPECT_EQ(got, mx_oracle::double_from_rational(d.value)) << GetParam() << " code " << c;
        EXPECT_EQ(std::signbit(got), d.negative) << GetParam() << " code " << c;
        break;
    }
  }
}

// Interesting inputs: every finite value, the midpoints between neighbours and the doubles
// and floats just around them, values beyond the largest one, and the specials.
std::vector<double> probe_inputs(const ElemFormat& f) {
  std::vector<double> v;
  for (std::uint32_t c = 0; c < (std::uint32_t{1} << f.bits); ++c) {
    const double d = decode(f, c);
    if (std::isfinite(d)) v.push_back(d);
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::vector<double> out;
  const double top = v.back(), bottom = v.front();
  // 16-bit formats: every 29th neighbour pair here (the exhaustive fp32 test covers all
  // fp32 inputs); narrower formats: every pair.
  const std::size_t stride = f.bits > 12 ? 29 : 1;
  v.push_back(top * 1.0625);
  v.push_back(top * 1.125);
  v.push_back(top * 2);
  v.insert(v.begin(), bottom * 1.0625);
  v.insert(v.begin(), bottom * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i % stride != 0 && i + 4 < v.size()) continue;
    const double a = v[i];
    for (double x :
         {a, std::nextafter(a, -double(INFINITY)), std::nextafter(a, INFINITY),
          double(std::nextafter(float(a), -INFINITY)), double(std::nextafter(float(a), INFINITY))})
      out.push_back(x);
    if (i + 1 < v.size()) {
      const double m = a + (v[i + 1] - a) / 2;
      for (double x :
           {m, std::nextafter(m, -INFINITY), std::nextafter(m, INFINITY),
            double(std::nextafter(float(m), -INFINITY)), double(std::nextafter(float(m), INFINITY)),
            a + (v[i + 1] - a) / 4, a + (v[i + 1] - a) * 0.75})
        out.push_back(x);
    }
  }
  for (double x :
       {0.0, -0.0, double(INFINITY), -double(INFINITY), std::numeric_limits<double>::quiet_NaN(),
        -std::numeric_limits<double>::quiet_NaN(), 1e-300, -1e-300, 1e300, -1e300,
        double(std::numeric_limits<float>::denorm_min()),
        double(std::numeric_limits<float>::max())})
    out.push_back(x);
  return out;
}

TEST_P(PerFormat, MidpointsAndNeighboursRoundRight) {
  const ElemFormat f = parse_elem_format(GetParam());
  const mx_oracle::Format of = mx_oracle::format_by_name(GetParam());
  const std::vector<double> xs = probe_inputs(f);
  for (Overflow ovf : {Overflow::kSaturate, Overflow::kToNanOrInf}) {
    for (Rounding mode : test::deterministic_modes()) {
      const RoundSpec spec{mode, ovf, 0};
      int failures = 0;
      for (double x : xs) {
        const std::uint32_t want =
            mx_oracle::round_to_code(of, x, test::oracle_mode(mode), test::oracle_overflow(ovf));
        const std::uint32_t got = encode(f, x, spec);
        if (got != want && failures++ < 5)
          ADD_FAILURE() << GetParam() << " " << rounding_name(mode) << " " << overflow_name(ovf)
                        << " x=" << x << " got " << got << " want " << want;
        // The fast fp32 path, where x is an fp32 value (not for E8M0, which is a scale).
        const float xf = static_cast<float>(x);
        if (!f.is_scale() && static_cast<double>(xf) == x) {
          BlockSpec bs;
          bs.format.elem = f;
          bs.format.block_size = 0;
          bs.round = spec;
          std::uint32_t code = 0;
          float y = 0;
          quantize_elems_f32(bs, &xf, 1, &y, &code, 0);
          const double want_v = decode(f, want);
          if ((code != want || !test::same_float(y, static_cast<float>(want_v))) &&
              !(std::isnan(want_v) && std::isnan(y)) && failures++ < 5)
            ADD_FAILURE() << GetParam() << " fast path " << rounding_name(mode) << " "
                          << overflow_name(ovf) << " x=" << x << " code " << code << " want "
                          << want << " y=" << y;
        }
      }
      EXPECT_EQ(failures, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, PerFormat, ::testing::ValuesIn(kNames),
                         [](const auto& pinfo) { return pinfo.param; });

}  // namespace
}  // namespace mx
