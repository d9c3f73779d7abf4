// Tensor-level quantization: blocking along any axis equals quantizing the gathered blocks
// with the oracle; thread count does not change a bit (stochastic rounding included).
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "emulator/quantize.hpp"
#include "formats/codec.hpp"
#include "tests/oracle/oracle.hpp"

namespace mx {
namespace {

Tensor random_tensor(std::vector<std::size_t> shape, unsigned seed) {
  Tensor t;
  t.shape = std::move(shape);
  t.f32.resize(t.size());
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  for (auto& v : t.f32) v = nd(rng) * std::exp2(static_cast<float>(rng() % 12) - 6.0f);
  return t;
}

TEST(QuantizeTensor, AnyAxisMatchesOracleBlocks) {
  const Tensor t = random_tensor({5, 37, 3}, 1);
  const auto of = mx_oracle::format_by_name("e2m1");
  for (int axis : {0, 1, 2, -1, -2, -3}) {
    QuantizeOptions opt;
    opt.block.format = parse_mx_format("mxfp4_e2m1");
    opt.block.format.block_size = 8;
    opt.axis = axis;
    Tensor y;
    std::vector<std::uint32_t> scales;
    quantize_tensor(opt, t, &y, nullptr, &scales);
    const int a = axis < 0 ? axis + 3 : axis;
    const std::size_t dims[3] = {5, 37, 3};
    const std::size_t stride[3] = {37 * 3, 3, 1};
    // Walk every lane along `a`, cut into blocks of 8, compare with the oracle.
    std::size_t blocks = 0;
    for (std::size_t i0 = 0; i0 < (a == 0 ? 1 : dims[0]); ++i0)
      for (std::size_t i1 = 0; i1 < (a == 1 ? 1 : dims[1]); ++i1)
        for (std::size_t i2 = 0; i2 < (a == 2 ? 1 : dims[2]); ++i2)
          for (std::size_t start = 0; start < dims[a]; start += 8) {
            const std::size_t len = std::min<std::size_t>(8, dims[a] - start);
            std::vector<float> xb(len);
            std::vector<std::size_t> idx(len);
            for (std::size_t k = 0; k < len; ++k) {
              idx[k] = i0 * stride[0] + i1 * stride[1] + i2 * stride[2] + (start + k) * stride[a];
              xb[k] = t.f32[idx[k]];
            }
            const auto want = mx_oracle::mx_block(of, mx_oracle::ScaleRule::kFloor,
                                                  mx_oracle::Mode::kNearestEven,
                                                  mx_oracle::Overflow::kSaturate, xb.data(), len);
            for (std::size_t k = 0; k < len; ++k)
              ASSERT_EQ(y.f32[idx[k]], want.dequantized[k]) << "axis " << axis;
            ++blocks;
          }
    EXPECT_EQ(scales.size(), blocks);
  }
}

TEST(QuantizeTensor, ThreadCountDoesNotChangeBits) {
  const Tensor t = random_tensor({64, 100}, 2);
  for (const char* rnd : {"nearest-even", "stochastic"}) {
    for (int axis : {-1, 0}) {
      QuantizeOptions opt;
      opt.block.format = parse_mx_format("mxfp6_e2m3");
      opt.block.round = RoundSpec{*parse_rounding(rnd), Overflow::kSaturate, 77};
      opt.axis = axis;
      Tensor y1, y4;
      std::vector<std::uint32_t> c1, c4, s1, s4;
      opt.threads = 1;
      quantize_tensor(opt, t, &y1, &c1, &s1);
      opt.threads = 4;
      quantize_tensor(opt, t, &y4, &c4, &s4);
      EXPECT_EQ(y1.f32, y4.f32) << rnd;
      EXPECT_EQ(c1, c4);
      EXPECT_EQ(s1, s4);
    }
  }
}

TEST(QuantizeTensor, AxisOutOfRangeIsAnError) {
  const Tensor t = random_tensor({4, 4}, 3);
  QuantizeOptions opt;
  opt.block.format = parse_mx_format("mxint8");
  opt.axis = 2;
  Tensor y;
  EXPECT_THROW(quantize_tensor(opt, t, &y, nullptr, nullptr), std::invalid_argument);
  opt.axis = -3;
  EXPECT_THROW(quantize_tensor(opt, t, &y, nullptr, nullptr), std::invalid_argument);
}

TEST(QuantizeTensor, Nvfp4TwoLevelScale) {
  // One block of 16: amax 6 * 448 * T with T the tensor scale; the block scale is then 448.
  Tensor t;
  t.shape = {16};
  t.f32.assign(16, 0.0f);
  t.f32[0] = 1.0f;
  t.f32[1] = -0.5f;
  t.f32[2] = 0.26f;
  QuantizeOptions opt;
  opt.block.format = parse_mx_format("nvfp4");
  Tensor y;
  std::vector<std::uint32_t> scales;
  quantize_tensor(opt, t, &y, nullptr, &scales);
  ASSERT_EQ(scales.size(), 1u);
  EXPECT_EQ(scales[0], 0x7Eu);  // e4m3 448: amax / 6 / T = 448 exactly here
  EXPECT_FLOAT_EQ(y.f32[0], 1.0f);  // 6 * S with S ~ 1/6: e2m1 max
  EXPECT_FLOAT_EQ(y.f32[1], -0.5f);  // 3 * S
  // 0.26 / S = 1.56 -> e2m1 1.5 -> 0.25
  EXPECT_FLOAT_EQ(y.f32[2], 0.25f);
}

}  // namespace
}  // namespace mx
