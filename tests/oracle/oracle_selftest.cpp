// Self-tests of mx_oracle.  Every expected value below is typed in from the
// specifications (OCP MX v1.0 §5.3 / §5.4.1 / §6.3, OFP8 §3, IEEE 754 §3.4)
// or worked out by hand (the working is in the comments); none is produced by
// the oracle.  Further tests compare the oracle with independent machinery:
// the hardware double->float conversion under each IEEE rounding direction,
// the compiler's _Float16 conversion, and fill_expected_codes vs round_to_code.
#include "tests/oracle/oracle.hpp"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using mx_oracle::decode;
using mx_oracle::Decoded;
using mx_oracle::Format;
using mx_oracle::format_by_name;
using mx_oracle::Integer;
using mx_oracle::Mode;
using mx_oracle::Overflow;
using mx_oracle::Rational;
using mx_oracle::round_to_code;
using mx_oracle::ScaleRule;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Overflow kSat = Overflow::kSaturate;
constexpr Overflow kNonI = Overflow::kToNanOrInf;

// Modes in the column order used by the rounding tables below.
constexpr Mode kModes[6] = {Mode::kNearestEven,    Mode::kNearestAway,    Mode::kTowardZero,
                            Mode::kTowardPositive, Mode::kTowardNegative, Mode::kOdd};
constexpr const char* kModeNames[6] = {"NE", "NA", "TZ", "TP", "TN", "ODD"};

// 2^k typed as an integer/fraction (independent of mx_oracle::pow2).
Rational P2(int k) {
  return k >= 0 ? Rational(Integer(1) << k) : Rational(Integer(1), Integer(1) << -k);
}
Rational Q(long long n, long long d = 1) { return Rational(Integer(n), Integer(d)); }

void ExpectFinite(const Format& f, uint32_t code, const Rational& v) {
  const Decoded d = decode(f, code);
  EXPECT_EQ(d.cls, Decoded::kFinite) << f.name << " code 0x" << std::hex << code;
  EXPECT_EQ(d.value, v) << f.name << " code 0x" << std::hex << code << " got " << d.value;
}
void ExpectNaN(const Format& f, uint32_t code, bool negative) {
  const Decoded d = decode(f, code);
  EXPECT_EQ(d.cls, Decoded::kNaN) << f.name << " code 0x" << std::hex << code;
  EXPECT_EQ(d.negative, negative) << f.name << " code 0x" << std::hex << code;
}
void ExpectInf(const Format& f, uint32_t code, bool negative) {
  const Decoded d = decode(f, code);
  EXPECT_EQ(d.cls, Decoded::kInf) << f.name << " code 0x" << std::hex << code;
  EXPECT_EQ(d.negative, negative) << f.name << " code 0x" << std::hex << code;
}

int CountClass(const Format& f, Decoded::Class cls) {
  int n = 0;
  for (int c = 0; c < mx_oracle::num_codes(f); ++c)
    if (decode(f, static_cast<uint32_t>(c)).cls == cls) ++n;
  return n;
}

// ---------------------------------------------------------------------------
// Decoding: spec constants
// ---------------------------------------------------------------------------

TEST(OracleDecode, E4M3) {  // OFP8 §3 / MX §5.3.1: bias 7, max 448, S.1111.111 NaN, no Inf
  const Format f = format_by_name("e4m3");
  EXPECT_EQ(f.bits, 8);
  EXPECT_EQ(f.bias, 7);
  ExpectFinite(f, 0x7E, Q(448));
  ExpectFinite(f, 0xFE, Q(-448));
  ExpectFinite(f, 0x7D, Q(416));
  ExpectFinite(f, 0x78, Q(256));
  ExpectFinite(f, 0x01, P2(-9));     // min subnormal 2^-9
  ExpectFinite(f, 0x07, Q(7, 512));  // max subnormal 0.875 * 2^-6
  ExpectFinite(f, 0x08, P2(-6));     // min normal
  ExpectFinite(f, 0x38, Q(1));
  ExpectFinite(f, 0x39, Q(9, 8));
  ExpectFinite(f, 0x00, Q(0));
  EXPECT_FALSE(decode(f, 0x00).negative);
  ExpectFinite(f, 0x80, Q(0));
  EXPECT_TRUE(decode(f, 0x80).negative);  // -0
  ExpectNaN(f, 0x7F, false);
  ExpectNaN(f, 0xFF, true);
  EXPECT_EQ(CountClass(f, Decoded::kNaN), 2);
  EXPECT_EQ(CountClass(f, Decoded::kInf), 0);
  EXPECT_EQ(mx_oracle::max_value(f), Q(448));
  EXPECT_EQ(mx_oracle::emax(f), 8);
  EXPECT_EQ(mx_oracle::num_codes(f), 256);
  EXPECT_EQ(mx_oracle::nan_code(f, false), 0x7Fu);
  EXPECT_EQ(mx_oracle::nan_code(f, true), 0xFFu);
}

TEST(OracleDecode, E5M2) {  // OFP8 §3 / MX §5.3.1: IEEE-like, max 57344
  const Format f = format_by_name("e5m2");
  EXPECT_EQ(f.bias, 15);
  ExpectFinite(f, 0x7B, Q(57344));
  ExpectFinite(f, 0x7A, Q(49152));
  ExpectFinite(f, 0xFB, Q(-57344));
  ExpectFinite(f, 0x01, P2(-16));  // min subnormal
  ExpectFinite(f, 0x04, P2(-14));  // min normal
  ExpectFinite(f, 0x3C, Q(1));
  ExpectFinite(f, 0x3D, Q(5, 4));
  ExpectInf(f, 0x7C, false);
  ExpectInf(f, 0xFC, true);
  ExpectNaN(f, 0x7D, false);
  ExpectNaN(f, 0x7E, false);
  ExpectNaN(f, 0x7F, false);
  ExpectNaN(f, 0xFE, true);
  EXPECT_EQ(CountClass(f, Decoded::kNaN), 6);
  EXPECT_EQ(CountClass(f, Decoded::kInf), 2);
  EXPECT_EQ(mx_oracle::emax(f), 15);
  EXPECT_EQ(mx_oracle::nan_code(f, false), 0x7Eu);
  EXPECT_EQ(mx_oracle::nan_code(f, true), 0xFEu);
  EXPECT_EQ(mx_oracle::inf_code(f, true), 0xFCu);
}

TEST(OracleDecode, E2M1) {  // MX §5.3.3: FP4 values {0, 0.5, 1, 1.5, 2, 3, 4, 6}
  const Format f = format_by_name("e2m1");
  const Rational vals[8] = {Q(0), Q(1, 2), Q(1), Q(3, 2), Q(2), Q(3), Q(4), Q(6)};
  for (uint32_t c = 0; c < 8; ++c) {
    ExpectFinite(f, c, vals[c]);
    ExpectFinite(f, c | 8, Rational(-vals[c]));
  }
  EXPECT_TRUE(decode(f, 0x8).negative);
  EXPECT_EQ(CountClass(f, Decoded::kFinite), 16);
  EXPECT_EQ(mx_oracle::emax(f), 2);
  EXPECT_EQ(mx_oracle::num_codes(f), 16);
}

TEST(OracleDecode, E3M2) {  // MX §5.3.2: bias 3, max 28, min subnormal 2^-4, no Inf/NaN
  const Format f = format_by_name("e3m2");
  ExpectFinite(f, 0x1F, Q(28));
  ExpectFinite(f, 0x3F, Q(-28));
  ExpectFinite(f, 0x1E, Q(24));
  ExpectFinite(f, 0x01, P2(-4));
  ExpectFinite(f, 0x04, P2(-2));  // min normal
  ExpectFinite(f, 0x0C, Q(1));
  EXPECT_EQ(CountClass(f, Decoded::kFinite), 64);
  EXPECT_EQ(mx_oracle::emax(f), 4);
}

TEST(OracleDecode, E2M3) {  // MX §5.3.2: bias 1, max 7.5, min subnormal 2^-3
  const Format f = format_by_name("e2m3");
  ExpectFinite(f, 0x1F, Q(15, 2));
  ExpectFinite(f, 0x1E, Q(7));
  ExpectFinite(f, 0x01, P2(-3));
  ExpectFinite(f, 0x08, Q(1));
  ExpectFinite(f, 0x09, Q(9, 8));
  ExpectFinite(f, 0x3F, Q(-15, 2));
  EXPECT_EQ(CountClass(f, Decoded::kFinite), 64);
  EXPECT_EQ(mx_oracle::emax(f), 2);
}

TEST(OracleDecode, Int8) {  // MX §5.3.4: two's complement k, value k/64
  const Format f = format_by_name("int8");
  for (uint32_t c = 0; c < 256; ++c) {
    const long long k = c < 128 ? static_cast<long long>(c) : static_cast<long long>(c) - 256;
    ExpectFinite(f, c, Q(k, 64));
    EXPECT_EQ(decode(f, c).negative, k < 0);
  }
  ExpectFinite(f, 0x80, Q(-2));
  ExpectFinite(f, 0x7F, Q(127, 64));
  EXPECT_EQ(mx_oracle::max_value(f, false), Q(127, 64));
  EXPECT_EQ(mx_oracle::max_value(f, true), Q(2));
  EXPECT_EQ(mx_oracle::max_code(f, false), 0x7Fu);
  EXPECT_EQ(mx_oracle::max_code(f, true), 0x80u);
  EXPECT_EQ(mx_oracle::emax(f), 0);
}

TEST(OracleDecode, IntN) {
  const Format i2 = format_by_name("int2");  // k in {-2,-1,0,1}, value k * 2^0
  ExpectFinite(i2, 0, Q(0));
  ExpectFinite(i2, 1, Q(1));
  ExpectFinite(i2, 2, Q(-2));
  ExpectFinite(i2, 3, Q(-1));
  const Format i4 = format_by_name("int4");  // value k/4
  ExpectFinite(i4, 0x7, Q(7, 4));
  ExpectFinite(i4, 0x8, Q(-2));
  ExpectFinite(i4, 0xF, Q(-1, 4));
  const Format i16 = format_by_name("int16");  // value k / 2^14
  ExpectFinite(i16, 0x4000, Q(1));
  ExpectFinite(i16, 0x7FFF, Q(32767, 16384));
  ExpectFinite(i16, 0x8000, Q(-2));
  ExpectFinite(i16, 0xFFFF, Q(-1, 16384));
  EXPECT_EQ(mx_oracle::num_codes(i16), 65536);
}

TEST(OracleDecode, E8M0) {  // MX §5.4.1: 2^(c-127), c = 0..254; 0xFF NaN
  const Format f = format_by_name("e8m0");
  for (uint32_t c = 0; c < 255; ++c) {
    const int e = static_cast<int>(c) - 127;
    const Rational want =
        e >= 0 ? Rational(Integer(1) << e) : Rational(Integer(1), Integer(1) << -e);
    ExpectFinite(f, c, want);
    EXPECT_FALSE(decode(f, c).negative);
  }
  ExpectFinite(f, 0, P2(-127));
  ExpectFinite(f, 127, Q(1));
  ExpectFinite(f, 254, P2(127));
  EXPECT_EQ(decode(f, 0xFF).cls, Decoded::kNaN);
  EXPECT_EQ(CountClass(f, Decoded::kNaN), 1);
}

TEST(OracleDecode, Fp16Bf16) {  // IEEE 754 binary16; bfloat16
  const Format h = format_by_name("fp16");
  ExpectFinite(h, 0x7BFF, Q(65504));
  ExpectFinite(h, 0x0001, P2(-24));
  ExpectFinite(h, 0x0400, P2(-14));
  ExpectFinite(h, 0x3C00, Q(1));
  ExpectFinite(h, 0x3555, Q(1365, 4096));  // 1.0101010101b * 2^-2 = 0x555/2^12
  ExpectInf(h, 0x7C00, false);
  ExpectInf(h, 0xFC00, true);
  ExpectNaN(h, 0x7E00, false);
  EXPECT_EQ(mx_oracle::nan_code(h, false), 0x7E00u);
  EXPECT_EQ(mx_oracle::emax(h), 15);
  const Format b = format_by_name("bf16");
  ExpectFinite(b, 0x7F7F, Rational(Q(255) * P2(120)));  // (2 - 2^-7) * 2^127
  ExpectFinite(b, 0x3F80, Q(1));
  ExpectFinite(b, 0x0001, P2(-133));
  ExpectFinite(b, 0x0080, P2(-126));
  ExpectInf(b, 0x7F80, false);
  ExpectNaN(b, 0x7FC0, false);
  EXPECT_EQ(mx_oracle::nan_code(b, true), 0xFFC0u);
  EXPECT_EQ(mx_oracle::emax(b), 127);
}

TEST(OracleDecode, Fp32MatchesHardware) {
  const Format f = format_by_name("fp32");
  ExpectFinite(f, 0x3F800000u, Q(1));
  ExpectFinite(f, 0x00000001u, P2(-149));
  ExpectFinite(f, 0x7F7FFFFFu, Rational(Q((1LL << 24) - 1) * P2(104)));
  ExpectInf(f, 0x7F800000u, false);
  ExpectNaN(f, 0xFFC00000u, true);
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t p = static_cast<uint32_t>(rng());
    const float x = std::bit_cast<float>(p);
    const Decoded d = decode(f, p);
    if (std::isnan(x)) {
      EXPECT_EQ(d.cls, Decoded::kNaN);
    } else if (std::isinf(x)) {
      EXPECT_EQ(d.cls, Decoded::kInf);
    } else {
      ASSERT_EQ(d.cls, Decoded::kFinite);
      EXPECT_EQ(mx_oracle::double_from_rational(d.value), static_cast<double>(x)) << std::hex << p;
      EXPECT_EQ(d.negative, std::signbit(x));
    }
  }
}

TEST(OracleDecode, GenericNames) {
  const Format a = format_by_name("e4m3fn");
  EXPECT_EQ(a.special, Format::Special::kNanOnly);
  EXPECT_EQ(mx_oracle::max_value(a), Q(448));
  const Format b = format_by_name("e5m2ieee");
  EXPECT_EQ(mx_oracle::max_value(b), Q(57344));
  EXPECT_TRUE(b.has_inf());
  // e4m3ieee: exponent 15 is Inf/NaN, so max = 1.875 * 2^7 = 240.
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e4m3ieee")), Q(240));
  // e5m2fn: only S.11111.11 is NaN: max = 1.5 * 2^16 = 98304.
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e5m2fn")), Q(98304));
  // e2m1fn: 0.111 is NaN: max = 1.0 * 2^(3-1) = 4.
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e2m1fn")), Q(4));
  // e1m2 (bias 0): subnormals m/4 * 2^1, normals (1 + m/4) * 2^1; max 3.5.
  const Format c = format_by_name("e1m2");
  ExpectFinite(c, 0x3, Q(3, 2));
  ExpectFinite(c, 0x4, Q(2));
  ExpectFinite(c, 0x7, Q(7, 2));
  // e1m0: {0, 2}.
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e1m0")), Q(2));
  // e5m10ieee / e8m7ieee are fp16 / bf16.
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e5m10ieee")), Q(65504));
  EXPECT_EQ(mx_oracle::max_value(format_by_name("e8m7ieee")), Rational(Q(255) * P2(120)));
  // e3m2 / e2m3 / e2m1 are finite-only.
  EXPECT_FALSE(format_by_name("e3m2").has_nan());
  EXPECT_FALSE(format_by_name("e2m1").has_inf());
  for (const char* bad : {"e9m1", "e0m3", "e4m24", "e4m3x", "E4M3", "e04m3", "int1", "int17", "int",
                          "int08", "fp8", "", "e1m0fn", "e1m0ieee", "e3m0ieee", "e4", "em3"}) {
    EXPECT_THROW(format_by_name(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(mx_oracle::num_codes(format_by_name("fp32")), std::out_of_range);
  EXPECT_THROW(decode(format_by_name("e2m1"), 0x10), std::out_of_range);
}

// ---------------------------------------------------------------------------
// Rounding: hand-computed cases.  Columns: NE, NA, TZ, TP, TN, ODD.
// ---------------------------------------------------------------------------

struct RCase {
  double x;
  Overflow ov;
  std::array<uint32_t, 6> want;
};

void CheckCases(const char* name, const std::vector<RCase>& cases) {
  const Format f = format_by_name(name);
  const mx_oracle::Table table(f);
  for (const RCase& c : cases) {
    for (int m = 0; m < 6; ++m) {
      EXPECT_EQ(round_to_code(f, c.x, kModes[m], c.ov), c.want[m])
          << name << " x=" << c.x << " mode " << kModeNames[m]
          << (c.ov == kSat ? " sat" : " nan/inf");
      // The same input through the fast table walk, when x is an fp32 value.
      const auto xf = static_cast<float>(c.x);
      if (std::isnan(c.x) || static_cast<double>(xf) == c.x) {
        uint32_t got = 0;
        mx_oracle::fill_expected_codes(table, kModes[m], c.ov, std::bit_cast<uint32_t>(xf), 1,
                                       &got);
        EXPECT_EQ(got, c.want[m]) << "fill " << name << " x=" << c.x << " mode " << kModeNames[m];
      }
    }
  }
}

TEST(OracleRound, E4M3) {
  // 1.0 = 0x38, 1.125 = 0x39, 448 = 0x7E (MAX, even LSB), next virtual 480 (odd).
  CheckCases("e4m3",
             {
                 {1.0625, kSat, {0x38, 0x39, 0x38, 0x39, 0x38, 0x39}},  // tie 1 / 1.125
                 {-1.0625, kSat, {0xB8, 0xB9, 0xB8, 0xB8, 0xB9, 0xB9}},
                 {1.1, kSat, {0x39, 0x39, 0x38, 0x39, 0x38, 0x39}},    // above the midpoint
                 {1.03, kSat, {0x38, 0x38, 0x38, 0x39, 0x38, 0x39}},   // below the midpoint
                 {1.125, kSat, {0x39, 0x39, 0x39, 0x39, 0x39, 0x39}},  // exact
                 {15.5, kSat, {0x58, 0x58, 0x57, 0x58, 0x57, 0x57}},   // tie 15 (0x57) / 16 (0x58)
                 {7.5 / 512,
                  kSat,
                  {0x08, 0x08, 0x07, 0x08, 0x07, 0x07}},  // tie max subnormal / min normal
                 {464, kSat, {0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E}},  // tie 448 / 480
                 {464, kNonI, {0x7E, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E}},
                 {470, kNonI, {0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E}},
                 {-470, kNonI, {0xFF, 0xFF, 0xFE, 0xFE, 0xFF, 0xFE}},
                 {-470, kSat, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                 {449, kNonI, {0x7E, 0x7E, 0x7E, 0x7F, 0x7E, 0x7E}},
                 {480, kNonI, {0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E}},  // = virtual value: overflow
                 {1e6, kNonI, {0x7F, 0x7F, 0x7E, 0x7F, 0x7E, 0x7E}},
                 {-1e6, kNonI, {0xFF, 0xFF, 0xFE, 0xFE, 0xFF, 0xFE}},
                 {1e6, kSat, {0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E}},
                 {0x1p-10, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},  // tie 0 / 2^-9
                 {-0x1p-10, kSat, {0x80, 0x81, 0x80, 0x80, 0x81, 0x81}},
                 {3 * 0x1p-10, kSat, {0x02, 0x02, 0x01, 0x02, 0x01, 0x01}},
                 {1e-30, kSat, {0x00, 0x00, 0x00, 0x01, 0x00, 0x01}},
                 {-1e-30, kSat, {0x80, 0x80, 0x80, 0x80, 0x81, 0x81}},
                 {0.0, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                 {-0.0, kNonI, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
                 {kInf, kSat, {0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E}},
                 {kInf, kNonI, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},  // Inf input ignores the mode
                 {-kInf, kNonI, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                 {-kInf, kSat, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                 {kNaN, kSat, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},
                 {-kNaN, kNonI, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
             });
}

TEST(OracleRound, E5M2) {
  // 1.0 = 0x3C, 1.25 = 0x3D, 1.5 = 0x3E, MAX 57344 = 0x7B (odd), virtual 65536 (even).
  CheckCases("e5m2",
             {
                 {1.125, kSat, {0x3C, 0x3D, 0x3C, 0x3D, 0x3C, 0x3D}},
                 {1.375, kSat, {0x3E, 0x3E, 0x3D, 0x3E, 0x3D, 0x3D}},
                 {61440,
                  kNonI,
                  {0x7C, 0x7C, 0x7B, 0x7C, 0x7B, 0x7B}},  // tie MAX / 65536 -> even = overflow
                 {61440, kSat, {0x7B, 0x7B, 0x7B, 0x7B, 0x7B, 0x7B}},
                 {60000, kNonI, {0x7B, 0x7B, 0x7B, 0x7C, 0x7B, 0x7B}},
                 {-60000, kNonI, {0xFB, 0xFB, 0xFB, 0xFB, 0xFC, 0xFB}},
                 {1e6, kNonI, {0x7C, 0x7C, 0x7B, 0x7C, 0x7B, 0x7B}},
                 {0x1p-17, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},
                 {kNaN, kSat, {0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E}},
                 {-kNaN, kSat, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                 {kInf, kNonI, {0x7C, 0x7C, 0x7C, 0x7C, 0x7C, 0x7C}},
                 {-kInf, kNonI, {0xFC, 0xFC, 0xFC, 0xFC, 0xFC, 0xFC}},
                 {kInf, kSat, {0x7B, 0x7B, 0x7B, 0x7B, 0x7B, 0x7B}},
                 {-kInf, kSat, {0xFB, 0xFB, 0xFB, 0xFB, 0xFB, 0xFB}},
             });
}

TEST(OracleRound, E2M1) {
  // codes 0..7: 0, 0.5, 1, 1.5, 2, 3, 4, 6 (MAX, odd); virtual 8 (even).
  CheckCases("e2m1",
             {
                 {2.5, kSat, {0x4, 0x5, 0x4, 0x5, 0x4, 0x5}},
                 {5, kSat, {0x6, 0x7, 0x6, 0x7, 0x6, 0x7}},
                 {7, kSat, {0x7, 0x7, 0x7, 0x7, 0x7, 0x7}},
                 {7, kNonI, {0x7, 0x7, 0x7, 0x7, 0x7, 0x7}},  // finite-only: no NaN/Inf -> MAX
                 {-7, kNonI, {0xF, 0xF, 0xF, 0xF, 0xF, 0xF}},
                 {6.5, kNonI, {0x7, 0x7, 0x7, 0x7, 0x7, 0x7}},
                 {0.25, kSat, {0x0, 0x1, 0x0, 0x1, 0x0, 0x1}},
                 {-0.25, kSat, {0x8, 0x9, 0x8, 0x8, 0x9, 0x9}},
                 {1.25, kSat, {0x2, 0x3, 0x2, 0x3, 0x2, 0x3}},
                 {1.75, kSat, {0x4, 0x4, 0x3, 0x4, 0x3, 0x3}},
                 {3.9, kSat, {0x6, 0x6, 0x5, 0x6, 0x5, 0x5}},
                 {0.1, kSat, {0x0, 0x0, 0x0, 0x1, 0x0, 0x1}},
                 {-0.1, kSat, {0x8, 0x8, 0x8, 0x8, 0x9, 0x9}},
                 {kNaN, kNonI, {0x0, 0x0, 0x0, 0x0, 0x0, 0x0}},  // no NaN: +0
                 {-kNaN, kNonI, {0x0, 0x0, 0x0, 0x0, 0x0, 0x0}},
                 {kInf, kNonI, {0x7, 0x7, 0x7, 0x7, 0x7, 0x7}},
                 {-kInf, kSat, {0xF, 0xF, 0xF, 0xF, 0xF, 0xF}},
                 {-0.0, kSat, {0x8, 0x8, 0x8, 0x8, 0x8, 0x8}},
             });
}

TEST(OracleRound, E3M2AndE2M3) {
  // e3m2: 24 = 0x1E, 28 = 0x1F (MAX), 2^-4 = 0x01.
  CheckCases("e3m2", {
                         {26, kSat, {0x1E, 0x1F, 0x1E, 0x1F, 0x1E, 0x1F}},
                         {30, kNonI, {0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F}},
                         {1.0 / 32, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},
                         {-100, kNonI, {0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F}},
                     });
  // e2m3: 7 = 0x1E, 7.5 = 0x1F (MAX), 1 = 0x08, 1.125 = 0x09, 2^-3 = 0x01.
  CheckCases("e2m3", {
                         {7.25, kSat, {0x1E, 0x1F, 0x1E, 0x1F, 0x1E, 0x1F}},
                         {7.75, kNonI, {0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F}},
                         {1.0 / 16, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},
                         {1.0625, kSat, {0x08, 0x09, 0x08, 0x09, 0x08, 0x09}},
                     });
}

TEST(OracleRound, Int8) {
  // k/64; +MAX k=127 (odd), virtual 128; -MAX k=-128 (even), virtual -129.
  CheckCases("int8", {
                         {1.0 / 128, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},
                         {-1.0 / 128, kSat, {0x00, 0xFF, 0x00, 0x00, 0xFF, 0xFF}},  // no -0
                         {3.0 / 128, kSat, {0x02, 0x02, 0x01, 0x02, 0x01, 0x01}},
                         {-3.0 / 128, kSat, {0xFE, 0xFE, 0xFF, 0xFF, 0xFE, 0xFF}},
                         {2.0, kNonI, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},
                         {255.0 / 128, kSat, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},
                         {-2.0, kNonI, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
                         {-257.0 / 128, kNonI, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
                         {-1.0 / 256, kSat, {0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF}},
                         {1.0, kSat, {0x40, 0x40, 0x40, 0x40, 0x40, 0x40}},
                         {-0.5, kSat, {0xE0, 0xE0, 0xE0, 0xE0, 0xE0, 0xE0}},
                         {1.9, kSat, {0x7A, 0x7A, 0x79, 0x7A, 0x79, 0x79}},  // 121.6/64
                         {-0.0, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {kNaN, kNonI, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {-kNaN, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {kInf, kNonI, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},
                         {-kInf, kNonI, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
                     });
  // int2: k in {-2,-1,0,1}: codes 2, 3, 0, 1.
  CheckCases("int2", {
                         {0.5, kSat, {0x0, 0x1, 0x0, 0x1, 0x0, 0x1}},
                         {-1.5, kSat, {0x2, 0x2, 0x3, 0x3, 0x2, 0x3}},
                         {1.5, kSat, {0x1, 0x1, 0x1, 0x1, 0x1, 0x1}},
                     });
}

TEST(OracleRound, E8M0) {
  // 2^e -> code e + 127; MAX 2^127 = 0xFE (even), virtual 2^128 (odd).
  CheckCases("e8m0", {
                         {1.0, kSat, {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}},
                         {1.5, kSat, {0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F}},  // tie 0x7F / 0x80
                         {3.0, kSat, {0x80, 0x81, 0x80, 0x81, 0x80, 0x81}},  // tie 0x80 / 0x81
                         {1.25, kSat, {0x7F, 0x7F, 0x7F, 0x80, 0x7F, 0x7F}},
                         {1.75, kSat, {0x80, 0x80, 0x7F, 0x80, 0x7F, 0x7F}},
                         {0.0, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {-0.0, kNonI, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {-1.0, kSat, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                         {-1e-40, kSat, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                         {kNaN, kSat, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                         {-kNaN, kSat, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                         {0x1p-130, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {0x1p-149, kNonI, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {0x1p-127, kSat, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
                         {0x1.8p-127, kSat, {0x00, 0x01, 0x00, 0x01, 0x00, 0x01}},
                         {0x1p127, kNonI, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                         {0x1.8p127, kSat, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                         {0x1.8p127, kNonI, {0xFE, 0xFF, 0xFE, 0xFF, 0xFE, 0xFE}},
                         {0x1.cp127, kNonI, {0xFF, 0xFF, 0xFE, 0xFF, 0xFE, 0xFE}},
                         {0x1p128, kNonI, {0xFF, 0xFF, 0xFE, 0xFF, 0xFE, 0xFE}},
                         {kInf, kSat, {0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE}},
                         {kInf, kNonI, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                         {-kInf, kSat, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
                     });
}

TEST(OracleRound, Fp16Bf16) {
  // fp16: 1 = 0x3C00, MAX 65504 = 0x7BFF (odd), virtual 65536, Inf 0x7C00.
  CheckCases("fp16",
             {
                 {65520, kNonI, {0x7C00, 0x7C00, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF}},
                 {65519, kNonI, {0x7BFF, 0x7BFF, 0x7BFF, 0x7C00, 0x7BFF, 0x7BFF}},
                 {0x1p-25, kSat, {0x0000, 0x0001, 0x0000, 0x0001, 0x0000, 0x0001}},
                 {1 + 0x1p-11, kSat, {0x3C00, 0x3C01, 0x3C00, 0x3C01, 0x3C00, 0x3C01}},
                 {1 + 3 * 0x1p-11, kSat, {0x3C02, 0x3C02, 0x3C01, 0x3C02, 0x3C01, 0x3C01}},
                 // 1/3 = 1.0101010101|0101...b * 2^-2 -> 0x3555, remainder below half an ulp.
                 {1.0 / 3, kSat, {0x3555, 0x3555, 0x3555, 0x3556, 0x3555, 0x3555}},
                 {-1.0 / 3, kSat, {0xB555, 0xB555, 0xB555, 0xB555, 0xB556, 0xB555}},
                 {kNaN, kSat, {0x7E00, 0x7E00, 0x7E00, 0x7E00, 0x7E00, 0x7E00}},
                 {-kNaN, kSat, {0xFE00, 0xFE00, 0xFE00, 0xFE00, 0xFE00, 0xFE00}},
             });
  // bf16: 1 = 0x3F80, MAX (2 - 2^-7) 2^127 = 0x7F7F (odd), virtual 2^128.
  CheckCases("bf16",
             {
                 {1 + 0x1p-8, kSat, {0x3F80, 0x3F81, 0x3F80, 0x3F81, 0x3F80, 0x3F81}},
                 {1 + 3 * 0x1p-8, kSat, {0x3F82, 0x3F82, 0x3F81, 0x3F82, 0x3F81, 0x3F81}},
                 {0x1.ffp127,
                  kNonI,
                  {0x7F80, 0x7F80, 0x7F7F, 0x7F80, 0x7F7F, 0x7F7F}},  // (2 - 2^-8) 2^127
                 {1e-40, kSat, {0x0001, 0x0001, 0x0001, 0x0002, 0x0001, 0x0001}},  // 1.085 * 2^-133
                 {kNaN, kSat, {0x7FC0, 0x7FC0, 0x7FC0, 0x7FC0, 0x7FC0, 0x7FC0}},
                 {-kNaN, kSat, {0xFFC0, 0xFFC0, 0xFFC0, 0xFFC0, 0xFFC0, 0xFFC0}},
             });
}

TEST(OracleRound, RationalInterface) {
  const Format f = format_by_name("e2m1");
  // 13/4 = 3.25: between 3 (0x5) and 4 (0x6), below the midpoint 3.5.
  EXPECT_EQ(mx_oracle::round_rational(f, false, Q(13, 4), Mode::kNearestEven, kSat), 0x5u);
  EXPECT_EQ(mx_oracle::round_rational(f, true, Q(13, 4), Mode::kTowardNegative, kSat), 0xEu);
  // 1/3 in e2m1: between 0 and 0.5, above the midpoint 0.25.
  EXPECT_EQ(mx_oracle::round_rational(f, false, Q(1, 3), Mode::kNearestEven, kSat), 0x1u);
  EXPECT_EQ(mx_oracle::round_rational(f, true, Q(0), Mode::kNearestEven, kSat), 0x8u);
  EXPECT_THROW(mx_oracle::round_rational(f, false, Q(-1), Mode::kNearestEven, kSat),
               std::invalid_argument);
  // int8 1/3: 21.33/64 -> 21 = 0x15.
  EXPECT_EQ(
      mx_oracle::round_rational(format_by_name("int8"), false, Q(1, 3), Mode::kNearestEven, kSat),
      0x15u);
}

// Every finite code round-trips in every mode (an exact value is never moved).
TEST(OracleRound, FiniteCodesRoundTrip) {
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "int3", "e8m0", "e1m2",
                           "e1m0", "e3m0", "e2m1fn", "e3m2ieee", "fp16", "bf16"}) {
    const Format f = format_by_name(name);
    for (int c = 0; c < mx_oracle::num_codes(f); ++c) {
      const Decoded d = decode(f, static_cast<uint32_t>(c));
      if (d.cls != Decoded::kFinite) continue;
      // Stride through the 16-bit formats to keep this quick.
      if (f.bits == 16 && c % 37 != 0) continue;
      for (Mode m : kModes) {
        const Rational mag = d.value < 0 ? Rational(-d.value) : d.value;
        EXPECT_EQ(mx_oracle::round_rational(f, d.negative, mag, m, kNonI), static_cast<uint32_t>(c))
            << name << " code " << c;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Comparison with independent machinery
// ---------------------------------------------------------------------------

// IEEE double -> float conversion by the FPU under each rounding direction.
// The oracle's semantics coincide with IEEE 754 for an IEEE format: nearest-even
// overflows to Inf; toward-zero gives MAX; directed modes give Inf / MAX by sign.
TEST(OracleIndependent, Fp32MatchesHardwareConversion) {
  const Format f = format_by_name("fp32");
  const int dirs[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD};
  const Mode modes[4] = {Mode::kNearestEven, Mode::kTowardZero, Mode::kTowardPositive,
                         Mode::kTowardNegative};
  std::mt19937_64 rng(7);
  std::vector<double> xs;
  for (int i = 0; i < 3000; ++i) {
    // Random significand with random exponent covering subnormals and overflow.
    const double sig = 1.0 + static_cast<double>(rng() >> 11) * 0x1p-53;
    const int e = static_cast<int>(rng() % 290) - 160;
    double x = std::ldexp(sig, e);
    if (rng() & 1) x = -x;
    xs.push_back(x);
    // A tie: the midpoint between a random float and its successor.
    const float a = std::bit_cast<float>(static_cast<uint32_t>(rng()) & 0x7F7FFFFFu);
    const float b = std::nextafter(a, std::numeric_limits<float>::infinity());
    if (std::isfinite(b)) xs.push_back((static_cast<double>(a) + static_cast<double>(b)) / 2);
  }
  xs.push_back(0x1.ffffffp127);  // tie between FLT_MAX and 2^128
  xs.push_back(-0x1.fffffep127);
  xs.push_back(0x1p-150);  // tie between 0 and the min subnormal
  xs.push_back(0x1.8p-149);
  const int saved = std::fegetround();
  for (int k = 0; k < 4; ++k) {
    for (double x : xs) {
      std::fesetround(dirs[k]);
      volatile double vx = x;
      volatile float vf = static_cast<float>(vx);
      const float hw = vf;
      std::fesetround(saved);
      EXPECT_EQ(round_to_code(f, x, modes[k], kNonI), std::bit_cast<uint32_t>(hw))
          << "x=" << x << " mode " << k;
    }
  }
  std::fesetround(saved);
}

#ifdef __FLT16_MANT_DIG__
TEST(OracleIndependent, Fp16MatchesCompilerConversion) {
  const Format f = format_by_name("fp16");
  std::mt19937 rng(3);
  for (int i = 0; i < 30000; ++i) {
    // floats in roughly [2^-30, 2^17) of both signs, plus some ties.
    uint32_t p = (static_cast<uint32_t>(rng()) % (0x48000000u - 0x30800000u)) + 0x30800000u;
    if (i % 4 == 0) p &= ~0x1FFFu, p |= 0x1000u;  // exactly half an fp16 ulp for normals
    if (rng() & 1) p |= 0x80000000u;
    const float x = std::bit_cast<float>(p);
    volatile float vx = x;
    volatile _Float16 h = static_cast<_Float16>(vx);
    const _Float16 hh = h;
    EXPECT_EQ(round_to_code(f, x, Mode::kNearestEven, kNonI), std::bit_cast<uint16_t>(hh))
        << std::hex << p;
  }
}
#endif

// fill_expected_codes (double, sorted-table walk) vs round_to_code (rationals).
void CompareFill(const char* name, bool all_values) {
  const Format f = format_by_name(name);
  const mx_oracle::Table t(f);
  std::mt19937 rng(11);
  std::vector<uint32_t> starts = {0x00000000u, 0x7F7FFFF0u, 0x7FFFFFE0u,     0x80000000u,
                                  0xFF7FFFF0u, 0xFFFFFFE0u, 0x00800000u - 8, 0x3F7FFFF0u};
  const auto& side = t.side(false);
  for (size_t j = 0; j + 1 < side.value.size(); ++j) {
    if (!all_values && rng() % 256 != 0) continue;
    for (double v : {side.value[j], j < side.virt ? side.mid[j] : side.value[j]}) {
      const auto vf = static_cast<float>(v);
      if (!std::isfinite(vf)) continue;
      const uint32_t p = std::bit_cast<uint32_t>(vf);
      starts.push_back(p < 2 ? 0 : p - 2);
      starts.push_back((p < 2 ? 0 : p - 2) | 0x80000000u);
    }
  }
  for (int i = 0; i < 40; ++i) starts.push_back(static_cast<uint32_t>(rng()));
  const uint32_t count = 5;
  std::vector<uint32_t> got(count);
  for (Mode m : kModes) {
    for (Overflow ov : {kSat, kNonI}) {
      for (uint32_t s : starts) {
        uint32_t n = count;
        if ((s & 0x7FFFFFFFu) > 0x7FFFFFFFu - (count - 1)) n = 0x7FFFFFFFu - (s & 0x7FFFFFFFu) + 1;
        mx_oracle::fill_expected_codes(t, m, ov, s, n, got.data());
        for (uint32_t i = 0; i < n; ++i) {
          const double x = static_cast<double>(std::bit_cast<float>(s + i));
          ASSERT_EQ(got[i], round_to_code(f, x, m, ov))
              << name << " pattern 0x" << std::hex << s + i << " mode " << static_cast<int>(m);
        }
      }
    }
  }
}

TEST(OracleFill, MatchesRoundToCodeSmall) {
  for (const char* name : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "int2", "int5", "e8m0",
                           "e1m2", "e1m0", "e2m1fn", "e3m2ieee", "e3m0"})
    CompareFill(name, true);
}

TEST(OracleFill, MatchesRoundToCodeWide) {
  for (const char* name : {"fp16", "bf16", "int16", "e8m3fn"}) CompareFill(name, false);
}

TEST(OracleFill, TableShape) {
  const mx_oracle::Table e4(format_by_name("e4m3"));
  EXPECT_EQ(e4.side(false).virt, 127u);  // codes 0x00..0x7E
  EXPECT_EQ(e4.side(false).value[127], 480.0);
  EXPECT_EQ(e4.side(true).code[1], 0x81u);
  const mx_oracle::Table e5(format_by_name("e5m2"));
  EXPECT_EQ(e5.side(false).virt, 124u);  // codes 0x00..0x7B
  EXPECT_EQ(e5.side(false).value[124], 65536.0);
  const mx_oracle::Table e2(format_by_name("e2m1"));
  EXPECT_EQ(e2.side(false).value[8], 8.0);
  const mx_oracle::Table i8(format_by_name("int8"));
  EXPECT_EQ(i8.side(false).virt, 128u);
  EXPECT_EQ(i8.side(false).value[128], 2.0);
  EXPECT_EQ(i8.side(true).virt, 129u);
  EXPECT_EQ(i8.side(true).value[129], 129.0 / 64);
  const mx_oracle::Table s(format_by_name("e8m0"));
  EXPECT_EQ(s.side(false).value[256], 0x1p128);
  EXPECT_THROW(mx_oracle::Table(format_by_name("fp32")), std::invalid_argument);
  uint32_t out[2];
  EXPECT_THROW(mx_oracle::fill_expected_codes(e4, Mode::kNearestEven, kSat, 0x7FFFFFFFu, 2, out),
               std::invalid_argument);
}

// Whole-range check of e2m1 nearest-even against thresholds typed by hand:
//   |x| <= 0.25 -> 0, < 0.75 -> 0.5, <= 1.25 -> 1, < 1.75 -> 1.5, <= 2.5 -> 2,
//   < 3.5 -> 3, <= 5 -> 4, otherwise 6 (7 ties to 8 = overflow -> saturate 6).
uint32_t E2m1NearestEvenByHand(float x) {
  if (std::isnan(x)) return 0;
  const float a = std::fabs(x);
  uint32_t c;
  if (a <= 0.25f)
    c = 0;
  else if (a < 0.75f)
    c = 1;
  else if (a <= 1.25f)
    c = 2;
  else if (a < 1.75f)
    c = 3;
  else if (a <= 2.5f)
    c = 4;
  else if (a < 3.5f)
    c = 5;
  else if (a <= 5.0f)
    c = 6;
  else
    c = 7;
  return std::signbit(x) ? (c | 8u) : c;
}

TEST(OracleFill, E2m1NearestEvenSweep) {
  const mx_oracle::Table t(format_by_name("e2m1"));
  const uint32_t chunk = 1u << 20;
  std::vector<uint32_t> out(chunk);
  // Dense over [2^-3, 2^4) (where all decisions happen), strided elsewhere.
  for (uint32_t sign : {0u, 0x80000000u}) {
    for (uint64_t p = 0; p < 0x80000000u; p += chunk) {
      const uint32_t mag = static_cast<uint32_t>(p);
      const bool dense = mag >= 0x3E000000u && mag < 0x41800000u;
      if (!dense && (mag / chunk) % 16 != 0) continue;
      mx_oracle::fill_expected_codes(t, Mode::kNearestEven, kSat, sign | mag, chunk, out.data());
      for (uint32_t i = 0; i < chunk; ++i) {
        const float x = std::bit_cast<float>(sign | (mag + i));
        if (out[i] != E2m1NearestEvenByHand(x)) {
          FAIL() << "pattern 0x" << std::hex << (sign | (mag + i)) << " got " << out[i];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Scale exponent rules (hand-computed)
// ---------------------------------------------------------------------------

TEST(OracleScale, Rules) {
  const Format e4 = format_by_name("e4m3");
  const Format e2 = format_by_name("e2m1");
  const Format i8 = format_by_name("int8");
  using mx_oracle::scale_exponent;
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kFloor, Q(448)), 0);
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kCeil, Q(448)), 1);  // ceil(log2 448) = 9
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kCeil, Q(256)), 0);
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kRceil, Q(448)), 0);
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kRceil, Q(449)), 1);
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kFloor, Q(100)), -2);  // 6 - 8
  // even: 464 = 1.1101b * 2^8 -> tie between 1.110b and 1.111b -> 1.110b (even) -> s = 0.
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kEven, Q(464)), 0);
  // even: 496 = 1.1111b * 2^8 -> tie between 1.111b and 10.000b -> 2^9 -> s = 1.
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kEven, Q(496)), 1);
  EXPECT_EQ(scale_exponent(e4, ScaleRule::kEven, Q(495)), 0);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kRceil, Q(6)), 0);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kRceil, Q(13, 2)), 1);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kRceil, Q(12)), 1);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kRceil, Rational(Q(121, 10))), 2);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kRceil, Q(1)), -2);  // 1/2^-2 = 4 <= 6 < 8
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kEven, Q(7)), 1);    // 1.11b*4 -> 10.0b*4 = 8
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kEven, Q(6)), 0);
  EXPECT_EQ(scale_exponent(e2, ScaleRule::kEven, Q(5)), 0);  // 1.01b*4 -> 1.0b*4 (even)
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kFloor, Q(2)), 1);
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kRceil, Q(2)), 1);
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kRceil, Q(127, 64)), 0);
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kRceil, Q(255, 128)), 1);
  // even for int8: 255/128 = 1.1111111b: 6 bits after the leading bit -> tie -> 2 -> s = 1.
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kEven, Q(255, 128)), 1);
  EXPECT_EQ(scale_exponent(i8, ScaleRule::kEven, Q(253, 128)), 0);  // 126.5 -> 126 (even)
}

// ---------------------------------------------------------------------------
// MX blocks (§6.3), worked by hand
// ---------------------------------------------------------------------------

void ExpectBlock(const mx_oracle::BlockResult& r, uint32_t scale,
                 const std::vector<uint32_t>& codes, const std::vector<float>& deq) {
  EXPECT_EQ(r.scale_code, scale);
  ASSERT_EQ(r.elem_codes.size(), codes.size());
  ASSERT_EQ(r.dequantized.size(), deq.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(r.elem_codes[i], codes[i]) << "element " << i;
    if (std::isnan(deq[i])) {
      EXPECT_TRUE(std::isnan(r.dequantized[i])) << "element " << i;
    } else {
      EXPECT_EQ(r.dequantized[i], deq[i]) << "element " << i;
      EXPECT_EQ(std::signbit(r.dequantized[i]), std::signbit(deq[i])) << "element " << i;
    }
  }
}

TEST(OracleBlock, E4M3FloorAndCeil) {
  const Format f = format_by_name("e4m3");
  const float x[4] = {1.0f, -3.0f, 0.5f, 100.0f};
  // floor: amax 100, floor(log2 100) = 6, s = 6 - 8 = -2 (code 125); x*4 = {4, -12, 2, 400}.
  // 4 = 0x48, -12 = 1.5*2^3 = 0xD4, 2 = 0x40, 400 = tie 384 (0x7C) / 416 (0x7D) -> 0x7C.
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kFloor, Mode::kNearestEven, kSat, x, 4), 125,
              {0x48, 0xD4, 0x40, 0x7C}, {1.0f, -3.0f, 0.5f, 96.0f});
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kFloor, Mode::kNearestAway, kSat, x, 4), 125,
              {0x48, 0xD4, 0x40, 0x7D}, {1.0f, -3.0f, 0.5f, 104.0f});
  // ceil: s = 7 - 8 = -1 (126); x*2 = {2, -6, 1, 200}: 200 = tie 192 (0x74) / 208 (0x75).
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kCeil, Mode::kNearestEven, kSat, x, 4), 126,
              {0x40, 0xCC, 0x38, 0x74}, {1.0f, -3.0f, 0.5f, 96.0f});
}

TEST(OracleBlock, E2M1Rules) {
  const Format f = format_by_name("e2m1");
  const float a[2] = {7.0f, 1.0f};
  // floor: s = 2 - 2 = 0; 7 -> tie 6/8 -> overflow -> saturate 6 (0x7); 1 = 0x2.
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kFloor, Mode::kNearestEven, kSat, a, 2), 127,
              {0x7, 0x2}, {6.0f, 1.0f});
  // rceil / ceil / even: s = 1; 3.5 -> tie 3/4 -> 4 (0x6); 0.5 = 0x1.
  for (ScaleRule r : {ScaleRule::kRceil, ScaleRule::kCeil, ScaleRule::kEven})
    ExpectBlock(mx_oracle::mx_block(f, r, Mode::kNearestEven, kSat, a, 2), 128, {0x6, 0x1},
                {8.0f, 1.0f});
  const float b[2] = {6.0f, -0.3f};
  // floor/rceil/even: s = 0; -0.3 -> above 0.25 -> -0.5 (0x9).
  for (ScaleRule r : {ScaleRule::kFloor, ScaleRule::kRceil, ScaleRule::kEven})
    ExpectBlock(mx_oracle::mx_block(f, r, Mode::kNearestEven, kSat, b, 2), 127, {0x7, 0x9},
                {6.0f, -0.5f});
  // ceil: s = 1; 3 = 0x5; -0.15 -> -0 (0x8) -> dequantized -0.0.
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kCeil, Mode::kNearestEven, kSat, b, 2), 128,
              {0x5, 0x8}, {6.0f, -0.0f});
  // e2m3 rceil: 7.6 > 7.5 -> s = 1; 3.8 -> between 3.75 (0x17) and 4 (0x18), below 3.875.
  const float c[1] = {7.6f};
  ExpectBlock(mx_oracle::mx_block(format_by_name("e2m3"), ScaleRule::kRceil, Mode::kNearestEven,
                                  kSat, c, 1),
              128, {0x17}, {7.5f});
  ExpectBlock(mx_oracle::mx_block(format_by_name("e2m3"), ScaleRule::kFloor, Mode::kNearestEven,
                                  kSat, c, 1),
              127, {0x1F}, {7.5f});
}

TEST(OracleBlock, Int8) {
  const Format f = format_by_name("int8");
  const float a[3] = {1.5f, -0.75f, 0.01f};
  // s = 0 (floor and rceil); 1.5 = 96/64 (0x60); -0.75 = -48/64 (0xD0); 0.64/64 -> 1/64.
  for (ScaleRule r : {ScaleRule::kFloor, ScaleRule::kRceil})
    ExpectBlock(mx_oracle::mx_block(f, r, Mode::kNearestEven, kSat, a, 3), 127, {0x60, 0xD0, 0x01},
                {1.5f, -0.75f, 0.015625f});
  const float b[2] = {1.99f, 0.5f};
  // floor/even: s = 0; 1.99*64 = 127.36 -> 127 (0x7F).  rceil/ceil: s = 1; 0.995*64 = 63.68 -> 64.
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kFloor, Mode::kNearestEven, kSat, b, 2), 127,
              {0x7F, 0x20}, {127.0f / 64, 0.5f});
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kEven, Mode::kNearestEven, kSat, b, 2), 127,
              {0x7F, 0x20}, {127.0f / 64, 0.5f});
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kRceil, Mode::kNearestEven, kSat, b, 2), 128,
              {0x40, 0x10}, {2.0f, 0.5f});
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kCeil, Mode::kNearestEven, kSat, b, 2), 128,
              {0x40, 0x10}, {2.0f, 0.5f});
  // Huge: ceil(log2(1.5 * 2^127)) = 128 -> clamped to 127 (0xFE); element 1.5 = 0x60.
  const float c[1] = {0x1.8p127f};
  ExpectBlock(mx_oracle::mx_block(f, ScaleRule::kCeil, Mode::kNearestEven, kSat, c, 1), 254, {0x60},
              {0x1.8p127f});
}

TEST(OracleBlock, SpecialBlocks) {
  const Format e4 = format_by_name("e4m3");
  // All zeros: scale 2^-127 (code 0), signs kept for floats.
  const float z[2] = {0.0f, -0.0f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kSat, z, 2), 0,
              {0x00, 0x80}, {0.0f, -0.0f});
  ExpectBlock(mx_oracle::mx_block(format_by_name("int8"), ScaleRule::kFloor, Mode::kNearestEven,
                                  kSat, z, 2),
              0, {0x00, 0x00}, {0.0f, 0.0f});
  // NaN / Inf anywhere: scale NaN, outputs NaN.
  const float n[3] = {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kSat, n, 3), 0xFF,
              {0, 0, 0}, {NAN, NAN, NAN});
  const float i[2] = {-std::numeric_limits<float>::infinity(), 2.0f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kRceil, Mode::kNearestEven, kSat, i, 2), 0xFF,
              {0, 0}, {NAN, NAN});
  // Tiny amax: floor gives -148, clamped to -127; 2^-140 / 2^-127 = 2^-13 -> 0.
  const float t[1] = {0x1p-140f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kSat, t, 1), 0, {0x00},
              {0.0f});
  // 2^-120: floor gives -128 -> -127; element 2^7 = 128 = 0x70.
  const float u[1] = {0x1p-120f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kSat, u, 1), 0, {0x70},
              {0x1p-120f});
  // Overflow inside a floor-scaled block.  e5m2: s = 15 - 15 = 0, 61440 ties to 65536 -> Inf.
  const Format e5 = format_by_name("e5m2");
  const float v[2] = {61440.0f, 1.0f};
  ExpectBlock(mx_oracle::mx_block(e5, ScaleRule::kFloor, Mode::kNearestEven, kNonI, v, 2), 127,
              {0x7C, 0x3C}, {INFINITY, 1.0f});
  ExpectBlock(mx_oracle::mx_block(e5, ScaleRule::kFloor, Mode::kNearestEven, kSat, v, 2), 127,
              {0x7B, 0x3C}, {57344.0f, 1.0f});
  // e4m3: s = 8 - 8 = 0, 500 > 480 -> overflow -> NaN (0x7F / 0xFF) or 448.
  const float w[2] = {500.0f, -500.0f};
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kNonI, w, 2), 127,
              {0x7F, 0xFF}, {NAN, NAN});
  ExpectBlock(mx_oracle::mx_block(e4, ScaleRule::kFloor, Mode::kNearestEven, kSat, w, 2), 127,
              {0x7E, 0xFE}, {448.0f, -448.0f});
  EXPECT_THROW(mx_oracle::mx_block(format_by_name("e8m0"), ScaleRule::kFloor, Mode::kNearestEven,
                                   kSat, w, 2),
               std::invalid_argument);
}

}  // namespace
