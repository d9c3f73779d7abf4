// MX blocks against the oracle's spec model (OCP MX v1.0 §6.3): scale code, element codes
// and dequantized values, for every scale rule, deterministic mode and overflow policy, on
// random blocks of several distributions and on the structured edge cases.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "formats/block_quant.hpp"
#include "formats/mx_format.hpp"
#include "tests/formats/test_support.hpp"

namespace mx {
namespace {

mx_oracle::ScaleRule oracle_rule(ScaleRule r) {
  switch (r) {
    case ScaleRule::kFloor:
      return mx_oracle::ScaleRule::kFloor;
    case ScaleRule::kCeil:
      return mx_oracle::ScaleRule::kCeil;
    case ScaleRule::kEven:
      return mx_oracle::ScaleRule::kEven;
    case ScaleRule::kRceil:
      return mx_oracle::ScaleRule::kRceil;
  }
  return mx_oracle::ScaleRule::kFloor;
}

// Blocks: random normal at several magnitudes, wide exponent spread, fp32 subnormals,
// values near FLT_MAX, exact grid points and midpoints, and the structured edge cases.
std::vector<std::vector<float>> make_blocks() {
  std::mt19937_64 rng(12345);
  std::normal_distribution<float> nd;
  std::uniform_int_distribution<int> ed(-140, 127);
  std::vector<std::vector<float>> blocks;
  for (float mag : {1.0f, 1e-3f, 3e4f, 1e-39f, 1e38f}) {
    for (int r = 0; r < 6; ++r) {
      std::vector<float> b(32);
      for (float& v : b) v = nd(rng) * mag;
      blocks.push_back(b);
    }
  }
  for (int r = 0; r < 12; ++r) {  // exponents spread over the whole fp32 range
    std::vector<float> b(32);
    for (float& v : b) v = std::ldexp(nd(rng), ed(rng) / (r % 3 + 1));
    blocks.push_back(b);
  }
  for (int r = 0; r < 8; ++r) {  // multiples of small powers of two: many exact ties
    std::vector<float> b(32);
    std::uniform_int_distribution<int> k(-64, 64);
    for (float& v : b) v = std::ldexp(static_cast<float>(k(rng)), -3 - r);
    blocks.push_back(b);
  }
  const float fmax = std::numeric_limits<float>::max();
  const float dmin = std::numeric_limits<float>::denorm_min();
  blocks.push_back(std::vector<float>(32, 0.0f));                           // all zero
  blocks.push_back({0.0f, -0.0f, 0.0f, -0.0f});                             // signed zeros
  blocks.push_back({fmax, -fmax, 1.0f, -3.0f, dmin});                       // amax = FLT_MAX
  blocks.push_back({dmin, -dmin, 0.0f, 2 * dmin, 3 * dmin});                // amax subnormal
  blocks.push_back({1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f});  // NaN
  blocks.push_back({1.0f, -std::numeric_limits<float>::infinity(), 2.0f});  // -Inf
  blocks.push_back({std::nextafter(2.0f, 0.0f), 1.0f, -0.75f});             // amax just below 2^k
  blocks.push_back({448.0f, 464.0f, 480.0f, -472.0f});                      // saturation region
  blocks.push_back({std::ldexp(1.0f, -127), std::ldexp(1.0f, -140)});       // E8M0 lower limit
  blocks.push_back({7.0f});                                                 // a block of one
  blocks.push_back({6.5f, -7.25f, 7.75f, 0.1f, 1e-10f, -2.0f, 2.0f});       // partial block
  return blocks;
}

class MxBlock : public ::testing::TestWithParam<std::string> {};

TEST_P(MxBlock, MatchesOracle) {
  const MxFormat f = parse_mx_format(GetParam());
  const mx_oracle::Format of = mx_oracle::format_by_name(std::string(f.elem.name_view()));
  const auto blocks = make_blocks();
  int failures = 0;
  for (ScaleRule rule :
       {ScaleRule::kFloor, ScaleRule::kCeil, ScaleRule::kEven, ScaleRule::kRceil}) {
    for (Overflow ovf : {Overflow::kSaturate, Overflow::kToNanOrInf}) {
      for (Rounding mode : test::deterministic_modes()) {
        BlockSpec spec;
        spec.format = f;
        spec.format.rule = rule;
        spec.round = RoundSpec{mode, ovf, 0};
        for (const auto& b : blocks) {
          std::vector<float> y(b.size());
          std::vector<std::uint32_t> codes(b.size());
          const std::uint32_t sc =
              quantize_block_f32(spec, b.data(), b.size(), y.data(), codes.data(), 0);
          const mx_oracle::BlockResult want =
              mx_oracle::mx_block(of, oracle_rule(rule), test::oracle_mode(mode),
                                  test::oracle_overflow(ovf), b.data(), b.size());
          bool ok = sc == want.scale_code;
          for (std::size_t i = 0; ok && i < b.size(); ++i) {
            ok = test::same_float(y[i], want.dequantized[i]) &&
                 (sc == 0xFF || codes[i] == want.elem_codes[i]);
          }
          if (!ok && failures++ < 5) {
            std::string detail;
            for (std::size_t i = 0; i < b.size() && i < 8; ++i)
              detail += " [" + std::to_string(b[i]) + " -> " + std::to_string(y[i]) + "/" +
                        std::to_string(want.dequantized[i]) + " code " + std::to_string(codes[i]) +
                        "/" + std::to_string(want.elem_codes[i]) + "]";
            ADD_FAILURE() << GetParam() << " rule " << scale_rule_name(rule) << " "
                          << rounding_name(mode) << " " << overflow_name(ovf) << " scale " << sc
                          << "/" << want.scale_code << detail;
          }
        }
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, MxBlock,
                         ::testing::Values("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3",
                                           "mxfp4_e2m1", "mxint8", "mxint4", "mxe3m4", "mxe5m3ieee",
                                           "mxe2m2fn", "mxbf16"),
                         [](const auto& pinfo) { return pinfo.param; });

// The fp64 path (generic codec) agrees with the fp32 path on fp32 data.
TEST(MxBlockF64, AgreesWithF32Path) {
  const auto blocks = make_blocks();
  for (auto name : concrete_mx_format_names()) {
    BlockSpec spec;
    spec.format = parse_mx_format(name);
    for (Rounding mode : test::deterministic_modes()) {
      spec.round.mode = mode;
      for (const auto& b : blocks) {
        std::vector<float> y(b.size());
        std::vector<double> xd(b.begin(), b.end()), yd(b.size());
        const auto s1 = quantize_block_f32(spec, b.data(), b.size(), y.data(), nullptr, 0);
        const auto s2 = quantize_block_f64(spec, xd.data(), b.size(), yd.data(), nullptr, 0);
        ASSERT_EQ(s1, s2) << name;
        for (std::size_t i = 0; i < b.size(); ++i)
          ASSERT_TRUE(test::same_float(y[i], static_cast<float>(yd[i])))
              << name << " " << rounding_name(mode) << " x=" << b[i];
      }
    }
  }
}

}  // namespace
}  // namespace mx
