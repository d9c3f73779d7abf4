// The GEMM operand policy of the library (emulator/operand.hpp): a representable value passes
// unchanged. Expected codes are written from the format definitions (OCP MX v1.0 §5.3 for
// e5m2/e4m3, IEEE 754 binary16), not taken from the codec.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "emulator/operand.hpp"
#include "formats/mx_format.hpp"

namespace mx {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

BlockSpec spec_of(const char* name) {
  BlockSpec s;
  s.format = parse_mx_format(name);
  return s;
}

Tensor matrix(std::size_t rows, std::size_t cols, std::vector<float> v) {
  Tensor t;
  t.shape = {rows, cols};
  t.f32 = std::move(v);
  return t;
}

TEST(GemmOperand, InfinitiesPassThroughElementFormatsWithInf) {
  // A (k_axis 1): 2 x 3, row-major codes.
  const Tensor a = matrix(2, 3, {1.0f, kInf, -kInf, 0.5f, 1e30f, -1e30f});
  const MxMatrix q = quantize_gemm_operand(a, 1, spec_of("e5m2"), 1, "A");
  ASSERT_EQ(q.codes.size(), 6u);
  EXPECT_EQ(q.codes[1], 0x7Cu);  // e5m2 +Inf: S=0 E=11111 M=00
  EXPECT_EQ(q.codes[2], 0xFCu);  // e5m2 -Inf
  // Finite values beyond the range follow the overflow policy (saturate: 57344 = 0x7B).
  EXPECT_EQ(q.codes[4], 0x7Bu);
  EXPECT_EQ(q.codes[5], 0xFBu);
  EXPECT_EQ(q.codes[0], 0x3Cu);  // 1.0 = 2^(15-15)
  EXPECT_EQ(q.codes[3], 0x38u);  // 0.5

  const MxMatrix h = quantize_gemm_operand(a, 1, spec_of("fp16"), 1, "A");
  EXPECT_EQ(h.codes[1], 0x7C00u);
  EXPECT_EQ(h.codes[2], 0xFC00u);
}

TEST(GemmOperand, BOperandIsStoredTransposed) {
  // B (k_axis 0): K = 3 rows, R = 2 columns; stored as R x K.
  const Tensor b = matrix(3, 2, {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, -kInf});
  const MxMatrix q = quantize_gemm_operand(b, 0, spec_of("e5m2"), 1, "B");
  ASSERT_EQ(q.rows, 2u);
  ASSERT_EQ(q.k, 3u);
  EXPECT_EQ(q.codes[1 * 3 + 2], 0xFCu);  // (k 2, column 1)
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(q.codes[i], 0x3Cu) << i;
}

TEST(GemmOperand, FormatsWithoutInfinitiesSaturate) {
  // e4m3 has no Inf (only S.1111.111 is NaN): +-Inf saturates to +-448 = 0x7E / 0xFE.
  const Tensor a = matrix(1, 2, {kInf, -kInf});
  const MxMatrix q = quantize_gemm_operand(a, 1, spec_of("e4m3"), 1, "A");
  EXPECT_EQ(q.codes[0], 0x7Eu);
  EXPECT_EQ(q.codes[1], 0xFEu);
}

TEST(GemmOperand, MxBlocksKeepTheNanScale) {
  // An Inf in an MX block gives the NaN scale (E8M0 0xFF); the rule does not apply.
  std::vector<float> v(32, 1.0f);
  v[3] = kInf;
  const Tensor a = matrix(1, 32, v);
  const MxMatrix q = quantize_gemm_operand(a, 1, spec_of("mxfp8_e5m2"), 1, "A");
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 0xFFu);
  const MxMatrix plain = quantize_operand(a, 1, spec_of("mxfp8_e5m2"), 1, "A");
  EXPECT_EQ(q.codes, plain.codes);
}

}  // namespace
}  // namespace mx
