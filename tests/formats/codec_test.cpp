// Hand-typed spec constants and conversions (OCP MX v1.0 §5, OFP8 §3). The expected values
// below are written from the spec tables, not computed by the code under test.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"

namespace mx {
namespace {

const RoundSpec kRne{};
const RoundSpec kRneNan{Rounding::kNearestEven, Overflow::kToNanOrInf, 0};

TEST(Decode, SpecTableValues) {
  EXPECT_EQ(decode(kE4M3, 0x7E), 448.0);         // S.1111.110
  EXPECT_EQ(decode(kE4M3, 0x01), 0x1p-9);        // smallest subnormal
  EXPECT_EQ(decode(kE4M3, 0x08), 0x1p-6);        // smallest normal
  EXPECT_TRUE(std::isnan(decode(kE4M3, 0x7F)));  // S.1111.111
  EXPECT_EQ(decode(kE4M3, 0x78), 256.0);         // 1111.000 is a number in e4m3
  EXPECT_EQ(decode(kE5M2, 0x7B), 57344.0);
  EXPECT_EQ(decode(kE5M2, 0x7C), INFINITY);
  EXPECT_TRUE(std::isnan(decode(kE5M2, 0x7D)));
  EXPECT_EQ(decode(kE5M2, 0x01), 0x1p-16);
  EXPECT_EQ(decode(kE3M2, 0x1F), 28.0);
  EXPECT_EQ(decode(kE3M2, 0x01), 0.0625);
  EXPECT_EQ(decode(kE2M3, 0x1F), 7.5);
  EXPECT_EQ(decode(kE2M3, 0x01), 0.125);
  const double e2m1[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (unsigned c = 0; c < 8; ++c) {
    EXPECT_EQ(decode(kE2M1, c), e2m1[c]);
    EXPECT_EQ(decode(kE2M1, c | 8), -e2m1[c]);
  }
  EXPECT_EQ(decode(kInt8, 0x7F), 127.0 / 64);
  EXPECT_EQ(decode(kInt8, 0x80), -2.0);
  EXPECT_EQ(decode(kInt8, 0xFF), -1.0 / 64);
  EXPECT_EQ(decode(kE8M0, 0), 0x1p-127);
  EXPECT_EQ(decode(kE8M0, 127), 1.0);
  EXPECT_EQ(decode(kE8M0, 254), 0x1p127);
  EXPECT_TRUE(std::isnan(decode(kE8M0, 255)));
  EXPECT_EQ(decode(kFp16, 0x7BFF), 65504.0);
  EXPECT_EQ(decode(kBf16, 0x3F80), 1.0);
  EXPECT_TRUE(std::signbit(decode(kE4M3, 0x80)));  // -0
}

TEST(Encode, RoundingAtTheTop) {
  // e4m3: 448 = 1.110b * 2^8; the next grid point 480 is the NaN code. 464 is the tie.
  EXPECT_EQ(encode(kE4M3, 464.0, kRneNan), 0x7Eu);  // tie to even (448)
  EXPECT_EQ(encode(kE4M3, 464.5, kRneNan), 0x7Fu);  // overflow -> NaN
  EXPECT_EQ(encode(kE4M3, 464.5, kRne), 0x7Eu);     // saturate
  EXPECT_EQ(encode(kE4M3, -1e6, kRne), 0xFEu);
  EXPECT_EQ(encode(kE5M2, 61440.0, kRneNan), 0x7Cu);  // tie to even 65536 -> Inf
  EXPECT_EQ(encode(kE5M2, 61439.0, kRneNan), 0x7Bu);
  RoundSpec rz{Rounding::kTowardZero, Overflow::kToNanOrInf, 0};
  EXPECT_EQ(encode(kE5M2, 1e9, rz), 0x7Bu);  // IEEE 754 §7.4: RZ overflow gives max
  RoundSpec ru{Rounding::kTowardPositive, Overflow::kToNanOrInf, 0};
  EXPECT_EQ(encode(kE5M2, 1e9, ru), 0x7Cu);
  EXPECT_EQ(encode(kE5M2, -1e9, ru), 0xFBu);
  EXPECT_EQ(encode(kE2M1, 7.0, kRneNan), 0x7u);      // no NaN/Inf: saturates
  EXPECT_EQ(encode(kInt8, 1.9921875, kRne), 0x7Fu);  // 127.5/64 -> 128/64 overflows
  EXPECT_EQ(encode(kInt8, -2.0, kRne), 0x80u);
  EXPECT_EQ(encode(kInt8, -2.0078125, kRne), 0x80u);  // -128.5/64 ties to even -128
}

TEST(Encode, ModesOnASimpleCase) {
  // 1.0625 lies between e4m3 1.0 (0x38) and 1.125 (0x39), a quarter of the way.
  auto enc = [](Rounding r, double x) {
    return encode(kE4M3, x, RoundSpec{r, Overflow::kSaturate, 0});
  };
  EXPECT_EQ(enc(Rounding::kNearestEven, 1.03125), 0x38u);
  EXPECT_EQ(enc(Rounding::kNearestEven, 1.0625), 0x38u);  // tie -> even 1.0
  EXPECT_EQ(enc(Rounding::kNearestEven, 1.1875), 0x3Au);  // tie -> even 1.25
  EXPECT_EQ(enc(Rounding::kNearestAway, 1.0625), 0x39u);
  EXPECT_EQ(enc(Rounding::kTowardZero, 1.1), 0x38u);
  EXPECT_EQ(enc(Rounding::kTowardPositive, 1.01), 0x39u);
  EXPECT_EQ(enc(Rounding::kTowardNegative, -1.01), 0xB9u);
  EXPECT_EQ(enc(Rounding::kOdd, 1.01), 0x39u);
  EXPECT_EQ(enc(Rounding::kOdd, 1.126), 0x39u);
}

TEST(Encode, ZerosNanInfAndFlags) {
  Status st = 0;
  EXPECT_EQ(encode(kE4M3, -1e-9, kRne, &st), 0x80u);  // negative underflow keeps -0
  EXPECT_TRUE(st & kUnderflow);
  EXPECT_EQ(encode(kInt8, -1e-9, kRne), 0x00u);  // integers have no -0
  st = 0;
  EXPECT_EQ(encode(kE2M1, std::numeric_limits<double>::quiet_NaN(), kRne, &st), 0u);
  EXPECT_TRUE(st & kInvalid);
  EXPECT_EQ(encode(kE4M3, -std::numeric_limits<double>::quiet_NaN(), kRne), 0xFFu);
  EXPECT_EQ(encode(kE5M2, INFINITY, kRne), 0x7Bu);      // saturate: Inf -> max
  EXPECT_EQ(encode(kE5M2, -INFINITY, kRneNan), 0xFCu);  // to-nan-or-inf keeps -Inf
  EXPECT_EQ(encode(kE4M3, INFINITY, kRneNan), 0x7Fu);   // e4m3 has no Inf: NaN
  EXPECT_EQ(encode(kE8M0, -1.0, kRne), 0xFFu);
  EXPECT_EQ(encode(kE8M0, 0.0, kRne), 0x00u);
  EXPECT_EQ(encode(kE8M0, 1.5, kRne), 128u);  // tie 1.5 between 1 (127, odd) and 2 (128)
  EXPECT_EQ(encode(kE8M0, 3.0, kRne), 128u);  // tie 3 between 2 (128) and 4 (129)
}

TEST(Encode, ScaleExponentIsExact) {
  // x / 2^s without a floating-point division: 448 * 2^100 with s = 100 is e4m3 max.
  EXPECT_EQ(encode(kE4M3, std::ldexp(448.0, 100), kRne, nullptr, 0, 100), 0x7Eu);
  // Subnormal element after a large scale: 2^-9 * 2^-120 with s = -120.
  EXPECT_EQ(encode(kE4M3, std::ldexp(1.0, -129), kRne, nullptr, 0, -120), 0x01u);
}

}  // namespace
}  // namespace mx
