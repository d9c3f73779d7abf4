// Tensor-level quantization: blocking along any axis equals quantizing the gathered blocks
// with the oracle; thread count does not change a bit (stochastic rounding included).
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include <bit>

#include "emulator/pack.hpp"
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
            const auto want =
                mx_oracle::mx_block(of, mx_oracle::ScaleRule::kFloor, mx_oracle::Mode::kNearestEven,
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
  EXPECT_EQ(scales[0], 0x7Eu);       // e4m3 448: amax / 6 / T = 448 exactly here
  EXPECT_FLOAT_EQ(y.f32[0], 1.0f);   // 6 * S with S ~ 1/6: e2m1 max
  EXPECT_FLOAT_EQ(y.f32[1], -0.5f);  // 3 * S
  // 0.26 / S = 1.56 -> e2m1 1.5 -> 0.25
  EXPECT_FLOAT_EQ(y.f32[2], 0.25f);
}

}  // namespace
}  // namespace mx

namespace mx {
namespace {

// Packed storage round trip: quantize -> codes + scales -> pack -> unpack -> decode(code) x
// scale reproduces the dequantized tensor bit for bit, for every concrete format and a
// partial last block.
TEST(QuantizeTensor, PackedRoundTripReproducesValues) {
  const Tensor t = random_tensor({3, 70}, 5);
  for (const char* name : {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1",
                           "mxint8", "mxint4", "mxe3m4"}) {
    QuantizeOptions opt;
    opt.block.format = parse_mx_format(name);
    Tensor y;
    std::vector<std::uint32_t> codes, scales;
    quantize_tensor(opt, t, &y, &codes, &scales);
    const int bits = opt.block.format.elem.bits;
    const auto packed = pack_codes(codes, bits);
    const auto unpacked = unpack_codes(packed, codes.size(), bits);
    const auto sbytes = pack_scales(scales, 1);
    ASSERT_EQ(sbytes.size(), 3u * 3u);  // 3 rows x ceil(70 / 32) blocks
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t c = 0; c < 70; ++c) {
        const std::size_t i = r * 70 + c;
        const int s = static_cast<int>(sbytes[r * 3 + c / 32]) - 127;
        const float v =
            static_cast<float>(std::ldexp(decode(opt.block.format.elem, unpacked[i]), s));
        ASSERT_EQ(std::bit_cast<std::uint32_t>(v), std::bit_cast<std::uint32_t>(y.f32[i]))
            << name << " element " << i;
      }
  }
}

// Non-power-of-two scales against the oracle worked in exact rationals: S = amax / max_elem
// rounded (nearest-even) to the scale format, elements round(x / S), values code * S.
TEST(QuantizeTensor, Ue4m3AndFp32ScalesMatchExactModel) {
  const Tensor t = random_tensor({4, 64}, 6);
  for (const char* sf : {"ue4m3", "fp32"}) {
    for (const char* name : {"mxfp4_e2m1", "mxfp8_e4m3", "mxint8"}) {
      QuantizeOptions opt;
      opt.block.format = parse_mx_format(name);
      opt.block.format.scale = *parse_scale_format(sf);
      Tensor y;
      std::vector<std::uint32_t> scales;
      quantize_tensor(opt, t, &y, nullptr, &scales);
      const auto elem = mx_oracle::format_by_name(std::string(opt.block.format.elem.name_view()));
      const auto sfmt = mx_oracle::format_by_name(std::string(sf) == "ue4m3" ? "e4m3" : "fp32");
      const mx_oracle::Rational maxv = mx_oracle::max_value(elem);
      for (std::size_t b = 0; b < 8; ++b) {
        mx_oracle::Rational amax = 0;
        for (std::size_t k = 0; k < 32; ++k) {
          mx_oracle::Rational v = mx_oracle::rational_from_double(t.f32[b * 32 + k]);
          if (v < 0) v = -v;
          if (v > amax) amax = v;
        }
        mx_oracle::Rational target = amax;
        target /= maxv;
        const std::uint32_t scode = mx_oracle::round_rational(
            sfmt, false, target, mx_oracle::Mode::kNearestEven, mx_oracle::Overflow::kSaturate);
        ASSERT_EQ(scales[b], scode) << sf << " " << name << " block " << b;
        const mx_oracle::Rational S = mx_oracle::decode(sfmt, scode).value;
        for (std::size_t k = 0; k < 32; ++k) {
          mx_oracle::Rational q = mx_oracle::rational_from_double(t.f32[b * 32 + k]);
          const bool negative = q < 0;
          if (negative) q = -q;
          q /= S;
          const std::uint32_t c = mx_oracle::round_rational(
              elem, negative, q, mx_oracle::Mode::kNearestEven, mx_oracle::Overflow::kSaturate);
          mx_oracle::Rational value = mx_oracle::decode(elem, c).value;
          value *= S;
          const double want = mx_oracle::double_from_rational(value);
          ASSERT_EQ(y.f32[b * 32 + k], static_cast<float>(want)) << sf << " " << name;
        }
      }
    }
  }
}

}  // namespace
}  // namespace mx
