// Dot products under every AccumModel equal the independent rational oracle
// (tests/oracle/oracle_dot.cpp) bit for bit: exhaustive pairs of fp8/fp6/fp4 codes, random
// and adversarial vectors (cancellation to zero, wide exponent ranges, subnormals, NaN/Inf,
// NaN scales, overflow), and GEMMs (fast kernels = generic path = oracle, any thread count).
#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "emulator/accum_model.hpp"
#include "emulator/dot.hpp"
#include "emulator/gemm.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "tests/formats/test_support.hpp"
#include "tests/oracle/oracle_dot.hpp"

namespace mx {
namespace {

std::string oname(const ElemFormat& f) {
  // The oracle's names: catalogue names, and eXmY[fn|ieee] for generic floats.
  const std::string n(f.name_view());
  if (n == "fp32" || n == "fp16" || n == "bf16" || n == "e4m3" || n == "e5m2" || n == "e3m2" ||
      n == "e2m3" || n == "e2m1" || n.rfind("int", 0) == 0)
    return n;
  std::string s = "e" + std::to_string(f.exp_bits) + "m" + std::to_string(f.man_bits);
  if (f.nonfinite == Nonfinite::kIeee) s += "ieee";
  if (f.nonfinite == Nonfinite::kNanOnly) s += "fn";
  return s;
}

// The oracle reads the model's canonical string itself (mx_oracle::parse_dot_model), so what
// it computes is what the string says: a field that to_string dropped would show here.
mx_oracle::DotModel to_oracle(const AccumModel& m) {
  return mx_oracle::parse_dot_model(to_string(m));
}

struct Case {
  ElemFormat fa, fb;
  std::vector<std::uint32_t> a, b;
  std::vector<std::uint8_t> sa, sb;
  int block = 0;
  float c = 0;
};

std::uint32_t emu(const AccumModel& m, const Case& c) {
  const OpTable ta(c.fa, m.kind == AccumKind::kFused ? m.conv : std::nullopt);
  const OpTable tb(c.fb, m.kind == AccumKind::kFused ? m.conv : std::nullopt);
  DotArgs d;
  d.a = c.a.data();
  d.b = c.b.data();
  d.sa = c.sa.data();
  d.sb = c.sb.data();
  d.k = c.a.size();
  d.block = c.block;
  d.c = c.c;
  DotScratch s;
  return dot(m, ta, tb, d, s);
}

std::uint32_t orc(const AccumModel& m, const Case& c) {
  mx_oracle::DotInput in;
  in.a_fmt = oname(c.fa);
  in.b_fmt = oname(c.fb);
  in.a = c.a;
  in.b = c.b;
  in.sa = c.sa;
  in.sb = c.sb;
  in.block = c.block;
  in.c = c.c;
  return mx_oracle::dot(to_oracle(m), in);
}

const char* kModels[] = {
    "exact",
    "fp32-seq",
    "fp32-pairwise",
    "h100-mma",
    "h100-wgmma",
    "h100-wgmma-fast",
    "fused:k=4,w=8,terms=nearest-even,acc=bf16,round=nearest-even",
    "fused:k=8,split=2,gran=2,w=5,acc=e5m6ieee,round=toward-positive,join=0,c=first",
    "fused:k=2,w=12,acc=fp16,round=toward-negative,conv=e5m3ieee,promote=8,c=promote",
    "fused:k=4,w=inf,acc=fp16,round=nearest-away,scales=block",
    "fused:k=3,w=10,acc=bf16,round=odd,scales=block,promote=6,c=first",
    "pairwise:acc=bf16,round=toward-zero",
    "h100-mma-bf16",
    "fused:k=4,w=10,acc=e5m6ieee,round=toward-zero,ovf=inf,zero=pos,c=first",
    "fused:k=8,split=2,gran=2,w=inf,acc=fp16,round=toward-negative,ovf=inf,promote=16,c=promote",
    "fused:k=3,w=6,acc=e4m3,round=toward-positive,ovf=inf,join=0,zero=pos",
    "fused:k=2,w=9,acc=e3m2,round=toward-zero,ovf=inf,scales=block",
    "exact:out=bf16,out-round=nearest-away",
    "fp32-seq:out=e4m3,out-round=toward-negative",
};

TEST(AccumModel, ParsesPresetsAndRoundTrips) {
  for (const char* s : kModels) {
    const AccumModel m = parse_accum_model(s);
    const AccumModel r = parse_accum_model(to_string(m));
    EXPECT_EQ(to_string(r), to_string(m)) << s;
    EXPECT_EQ(r, m) << s;  // the models, not only their strings
  }
  const AccumModel mma = parse_accum_model("h100-mma");
  EXPECT_EQ(mma.k, 16);
  EXPECT_EQ(mma.split, 2);
  EXPECT_EQ(mma.w, 25);
  EXPECT_EQ(parse_accum_model("h100-wgmma").acc.man_bits, 13);
  const AccumModel bf = parse_accum_model("h100-mma-bf16");
  EXPECT_TRUE(bf.overflow_inf);
  EXPECT_TRUE(bf.zero_positive);
  EXPECT_NE(to_string(bf).find("ovf=inf,zero=pos"), std::string::npos) << to_string(bf);
  // IEEE range handling is the default and is not printed (older strings stay the same).
  EXPECT_EQ(to_string(parse_accum_model("h100-mma-fp16:ovf=ieee,zero=sign")),
            to_string(parse_accum_model("h100-mma-fp16")));
  EXPECT_EQ(to_string(parse_accum_model("h100-mma-fp16:ovf=inf,zero=pos")), to_string(bf));
}

TEST(AccumModel, RejectsBadStrings) {
  for (const char* s : {"",
                        "fast",
                        "fused:k=0",
                        "fused:w=0",
                        "fused:w=-3",
                        "fused:k=x",
                        "fused:acc=fp99",
                        "fused:round=stochastic",
                        "fused:k=16,promote=24",
                        "fused:bogus=1",
                        "exact:k=2",
                        "pairwise:w=3",
                        "fused:c=promote",
                        "fused:split=2,k=6,gran=4",
                        "fused:acc=int8",
                        "fused:ovf=1",
                        "fused:zero=neg",
                        "exact:ovf=inf",
                        "pairwise:zero=pos",
                        "h100-mma-bf16:ovf"}) {
    EXPECT_THROW(parse_accum_model(s), AccumModelError) << s;
  }
}

// Every pair of codes as a one-term dot: the product, its rounding to the output, and its
// cut at W bits below its exponent, against the oracle.
TEST(DotOracle, ExhaustiveProductPairs) {
  const std::vector<std::string> models = {
      "exact", "exact:out=bf16,out-round=nearest-even", "exact:out=e4m3,out-round=toward-zero",
      "fused:k=1,w=3,terms=nearest-even,acc=fp32", "fused:k=1,w=2,acc=e4m3ieee,round=odd"};
  for (const char* fname : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1"}) {
    const ElemFormat f = parse_elem_format(fname);
    const std::uint32_t n = 1u << f.bits;
    for (const std::string& ms : models) {
#ifndef MX_DOT_EXHAUSTIVE_FP8
      if (f.bits == 8) continue;  // fp8: the `slow` binary dot_exhaustive_test
#else
      if (f.bits != 8) continue;
#endif
      const AccumModel m = parse_accum_model(ms);
      int bad = 0;
      Case c{f, f, {0}, {0}, {}, {}, 0, 0};
      for (std::uint32_t x = 0; x < n && bad < 5; ++x)
        for (std::uint32_t y = 0; y < n && bad < 5; ++y) {
          c.a[0] = x;
          c.b[0] = y;
          const auto e = emu(m, c), o = orc(m, c);
          if (e != o) {
            ++bad;
            ADD_FAILURE() << fname << " " << ms << " codes " << x << " " << y << ": emu " << e
                          << " oracle " << o;
          }
        }
    }
  }
}

enum class Gen { kNormal, kWide, kCancel, kSubnormal, kSpecial, kOverflow };

Case make_case(std::mt19937_64& rng, const ElemFormat& fa, const ElemFormat& fb, std::size_t k,
               int block, Gen g) {
  Case c{fa, fb, {}, {}, {}, {}, block, 0};
  auto code = [&](const ElemFormat& f) {
    std::uint32_t x = static_cast<std::uint32_t>(rng()) & f.code_mask();
    if (g == Gen::kNormal || g == Gen::kCancel) {  // mid-range exponents
      const std::uint32_t man = x & ((1u << f.man_bits) - 1);
      const std::uint32_t e =
          static_cast<std::uint32_t>(f.bias) + (static_cast<std::uint32_t>(rng()) % 3u) - 1u;
      x = (x & f.sign_mask()) | (e << f.man_bits) | man;
    } else if (g == Gen::kSubnormal) {
      x &= f.sign_mask() | ((1u << (f.man_bits + 1)) - 1);
    }
    x &= f.code_mask();
    if (g != Gen::kSpecial && f.has_nan() && decode(f, x) != decode(f, x)) x &= ~1u & f.code_mask();
    if (g != Gen::kSpecial && std::isinf(decode(f, x))) x ^= 1;
    return x;
  };
  for (std::size_t i = 0; i < k; ++i) {
    c.a.push_back(code(fa));
    c.b.push_back(code(fb));
  }
  if (g == Gen::kCancel)  // second half cancels the first: the exact sum is zero
    for (std::size_t i = k / 2; i < k; ++i) {
      c.a[i] = c.a[i - k / 2] ^ fa.sign_mask();
      c.b[i] = c.b[i - k / 2];
    }
  const std::size_t nb = block > 0 ? (k + std::size_t(block) - 1) / std::size_t(block) : 0;
  for (std::size_t i = 0; i < nb; ++i) {
    int sa = 127, sb = 127;
    if (g == Gen::kWide) {
      sa = 60 + int(rng() % 135);
      sb = 60 + int(rng() % 135);
    } else if (g == Gen::kOverflow) {
      sa = 190 + int(rng() % 64);
      sb = 120 + int(rng() % 20);
    } else if (g == Gen::kSubnormal) {
      sa = 10 + int(rng() % 30);
      sb = 20 + int(rng() % 30);
    } else if (g == Gen::kCancel) {
      sa = sb = 127 + int(rng() % 5) - 2;
    } else {
      sa = 124 + int(rng() % 7);
      sb = 124 + int(rng() % 7);
    }
    if (g == Gen::kSpecial && rng() % 4 == 0) sa = 0xFF;
    c.sa.push_back(static_cast<std::uint8_t>(sa));
    c.sb.push_back(static_cast<std::uint8_t>(sb));
  }
  if (g == Gen::kCancel && block > 0)
    for (std::size_t i = k / 2; i < k; ++i) {  // the cancelling half shares scales
      c.sa[i / std::size_t(block)] = c.sa[(i - k / 2) / std::size_t(block)];
      c.sb[i / std::size_t(block)] = c.sb[(i - k / 2) / std::size_t(block)];
    }
  const int cr = int(rng() % 6);
  c.c = cr == 0   ? 0.0f
        : cr == 1 ? -0.0f
                  : std::ldexp(float(int(rng() % 2001) - 1000), int(rng() % 20) - 15);
  if (g == Gen::kSpecial && cr == 5) c.c = rng() % 2 ? INFINITY : NAN;
  return c;
}

TEST(DotOracle, RandomAndAdversarial) {
  std::mt19937_64 rng(42);
  const std::pair<const char*, const char*> fmts[] = {{"e4m3", "e4m3"}, {"e5m2", "e4m3"},
                                                      {"e2m1", "e2m1"}, {"e3m2", "e2m3"},
                                                      {"int8", "int8"}, {"e5m2", "e5m2"}};
  for (const char* ms : kModels) {
    const AccumModel m = parse_accum_model(ms);
    int bad = 0;
    for (int t = 0; t < 240 && bad < 5; ++t) {
      const auto& fp = fmts[t % 6];
      const Gen g = static_cast<Gen>((t / 6) % 6);
      const std::size_t ks[] = {1, 2, 5, 16, 32, 33, 64, 96, 130};
      const std::size_t k = ks[rng() % 9];
      const int block = (t % 5 == 4) ? 0 : (t % 2 ? 32 : 8);
      const Case c =
          make_case(rng, parse_elem_format(fp.first), parse_elem_format(fp.second), k, block, g);
      const auto e = emu(m, c), o = orc(m, c);
      if (e != o) {
        ++bad;
        ADD_FAILURE() << ms << " case " << t << " (" << fp.first << "x" << fp.second << ", gen "
                      << int(g) << ", k " << k << ", block " << block << "): emu " << std::hex << e
                      << " oracle " << o;
      }
    }
  }
}

// ovf=inf and zero=pos (bf16 mma.sync): adversarial cases that overflow the accumulator
// (bf16 products beyond fp32, sums of finite products beyond it, toward-zero steps) and that
// underflow to zero with a negative sign. Emulator = oracle on every case, and the options
// change the result on some of them (so the comparison can fail).
TEST(DotOracle, RangeOptionsOverflowAndUnderflow) {
  std::mt19937_64 rng(11);
  const ElemFormat bf16 = parse_elem_format("bf16");
  auto code = [&](int e_field, bool neg) {
    return (neg ? 0x8000u : 0u) | (static_cast<std::uint32_t>(e_field) << 7) |
           static_cast<std::uint32_t>(rng() & 0x7f);
  };
  const char* models[] = {"h100-mma-fp16",
                          "h100-mma-bf16",
                          "h100-mma-fp16:ovf=inf",
                          "h100-mma-fp16:zero=pos",
                          "fused:k=4,w=inf,acc=fp32,round=toward-zero,ovf=inf,zero=pos,c=first",
                          ("fused:k=16,split=2,gran=2,w=25,acc=fp32,round=toward-negative,ovf=inf,"
                           "zero=pos,promote=32,c=promote")};
  int inf_changed = 0, zero_changed = 0, bad = 0;
  for (int t = 0; t < 120 && bad < 5; ++t) {
    const int kind = t % 4;
    const std::size_t k = 16 + 16 * static_cast<std::size_t>(rng() % 3);
    Case c{bf16, bf16, {}, {}, {}, {}, 0, 0.0f};
    for (std::size_t i = 0; i < k; ++i) {
      const bool on = rng() % 4 == 0 || i < 2;
      if (!on) {
        c.a.push_back(0);
        c.b.push_back(0);
        continue;
      }
      const bool neg = (rng() & 1) != 0;
      if (kind == 0) {  // products near and beyond 2^128
        c.a.push_back(code(190 + int(rng() % 64), neg));
        c.b.push_back(code(190 + int(rng() % 10), false));
      } else if (kind == 1) {  // finite products whose sum overflows fp32
        c.a.push_back(code(253 + int(rng() % 2), neg && i % 3 == 2));
        c.b.push_back(code(127, false));
      } else if (kind == 2) {  // products far below fp32's subnormals: underflow to zero
        c.a.push_back(code(1 + int(rng() % 12), neg));
        c.b.push_back(code(1 + int(rng() % 12), false));
      } else if (i < 2) {  // a cancelling pair that leads the alignment
        c.a.push_back(i == 0 ? code(120, neg) : c.a[0] ^ 0x8000u);
        c.b.push_back(i == 0 ? code(127, false) : c.b[0]);
      } else {  // tiny products cut away next to it, or summing below fp32's subnormals
        c.a.push_back(code(1 + int(rng() % 30), neg));
        c.b.push_back(code(1 + int(rng() % 30), false));
      }
    }
    if (rng() % 3 == 0) c.c = (rng() & 1 ? -1.0f : 1.0f) * std::ldexp(1.0f, int(rng() % 60) - 30);
    std::uint32_t prev[std::size(models)];
    for (std::size_t mi = 0; mi < std::size(models); ++mi) {
      const AccumModel m = parse_accum_model(models[mi]);
      const auto e = emu(m, c), o = orc(m, c);
      prev[mi] = e;
      if (e != o) {
        ++bad;
        ADD_FAILURE() << models[mi] << " case " << t << " kind " << kind << ": emu " << std::hex
                      << e << " oracle " << o;
      }
    }
    inf_changed += (prev[0] != prev[2]) && (prev[2] & 0x7fffffffu) == 0x7f800000u;
    zero_changed += prev[0] == 0x80000000u && prev[3] == 0u;
  }
  EXPECT_GT(inf_changed, 20);
  EXPECT_GT(zero_changed, 5);
}

TEST(DotOracle, CancellationToZeroIsPositiveZero) {
  const AccumModel m = parse_accum_model("exact");
  Case c{kE4M3, kE4M3, {0x40, 0xC0}, {0x38, 0x38}, {}, {}, 0, 0};
  EXPECT_EQ(emu(m, c), 0u);
  EXPECT_EQ(orc(m, c), 0u);
}

// ---- GEMM ---------------------------------------------------------------------------------

MxMatrix random_operand(std::mt19937_64& rng, const ElemFormat& f, std::size_t rows, std::size_t k,
                        int block, Gen g) {
  std::vector<std::uint32_t> codes;
  std::vector<std::uint8_t> scales;
  for (std::size_t r = 0; r < rows; ++r) {
    const Case c = make_case(rng, f, f, k, block, g);
    codes.insert(codes.end(), c.a.begin(), c.a.end());
    scales.insert(scales.end(), c.sa.begin(), c.sa.end());
  }
  return make_operand(f, block, rows, k, codes, scales);
}

TEST(Gemm, FastKernelsEqualGenericAndOracleAnyThreads) {
  std::mt19937_64 rng(7);
  for (const char* ms : {"exact", "fp32-seq", "h100-mma", "fp32-pairwise",
                         "exact:out=bf16,out-round=nearest-even"}) {
    for (const Gen g : {Gen::kNormal, Gen::kCancel, Gen::kSpecial, Gen::kSubnormal}) {
      const ElemFormat f = g == Gen::kSpecial ? kE5M2 : kE4M3;
      const std::size_t m = 13, n = 21, k = 70;
      const MxMatrix a = random_operand(rng, f, m, k, 32, g);
      const MxMatrix b = random_operand(rng, f, n, k, 32, g);
      std::vector<float> c0(m * n);
      for (auto& x : c0) x = std::ldexp(float(int(rng() % 201) - 100), -3);
      for (const bool with_c : {false, true}) {
        GemmOptions go;
        go.model = parse_accum_model(ms);
        go.allow_fast = false;
        go.threads = 1;
        const auto ref = gemm(a, b, with_c ? c0 : std::vector<float>{}, go);
        go.allow_fast = true;
        for (int th : {1, 3}) {
          go.threads = th;
          EXPECT_EQ(gemm(a, b, with_c ? c0 : std::vector<float>{}, go), ref)
              << ms << " gen " << int(g) << " threads " << th << " kernel "
              << gemm_kernel_name(a, b, go);
        }
        // Spot-check against the oracle.
        for (std::size_t t = 0; t < 6; ++t) {
          const std::size_t i = rng() % m, j = rng() % n;
          Case c{f, f, {}, {}, {}, {}, 32, with_c ? c0[i * n + j] : 0.0f};
          c.a.assign(a.codes.begin() + long(i * k), a.codes.begin() + long((i + 1) * k));
          c.b.assign(b.codes.begin() + long(j * k), b.codes.begin() + long((j + 1) * k));
          c.sa.assign(a.scales.begin() + long(i * 3), a.scales.begin() + long(i * 3 + 3));
          c.sb.assign(b.scales.begin() + long(j * 3), b.scales.begin() + long(j * 3 + 3));
          EXPECT_EQ(ref[i * n + j], orc(go.model, c)) << ms << " (" << i << "," << j << ")";
        }
      }
    }
  }
}

TEST(Gemm, FastKernelsAreTaken) {
  std::mt19937_64 rng(3);
  const MxMatrix a = random_operand(rng, kE4M3, 8, 64, 32, Gen::kNormal);
  const MxMatrix b = random_operand(rng, kE4M3, 8, 64, 32, Gen::kNormal);
  GemmOptions go;
  go.model = parse_accum_model("fp32-seq");
  EXPECT_EQ(std::string(gemm_kernel_name(a, b, go)).rfind("fma-f32/", 0), 0u);
  go.model = parse_accum_model("exact");
  EXPECT_EQ(std::string(gemm_kernel_name(a, b, go)).rfind("exact-", 0), 0u);
  go.model = parse_accum_model("h100-mma");
  EXPECT_EQ(std::string(gemm_kernel_name(a, b, go)).rfind("fused-int/", 0), 0u);
  go.model = parse_accum_model("fp32-pairwise");
  EXPECT_STREQ(gemm_kernel_name(a, b, go), "generic");
}

TEST(Gemm, RejectsKMismatch) {
  std::mt19937_64 rng(3);
  const MxMatrix a = random_operand(rng, kE4M3, 4, 64, 32, Gen::kNormal);
  const MxMatrix b = random_operand(rng, kE4M3, 4, 32, 32, Gen::kNormal);
  GemmOptions go;
  EXPECT_THROW(gemm(a, b, {}, go), std::invalid_argument);
}

// ovf=inf is about the step's sum: products beyond fp32's range whose sum is inside it give
// the finite sum (as the H100 does), a sum beyond it Inf although the step rounds toward zero.
TEST(DotOracle, RangeOptionsProductsStayExact) {
  const ElemFormat bf16 = parse_elem_format("bf16");
  const AccumModel m = parse_accum_model("h100-mma-bf16");
  const AccumModel ieee = parse_accum_model("h100-mma-fp16");
  // 1.5 * 2^127 * 2 - 1.25 * 2^127 * 2 = 2^126; 1.5 * 2^127 * 2 alone overflows.
  const Case cancel{bf16, bf16, {0x7f40, 0xff20}, {0x4000, 0x4000}, {}, {}, 0, 0.0f};
  const Case over{bf16, bf16, {0x7f40, 0x0000}, {0x4000, 0x4000}, {}, {}, 0, 0.0f};
  EXPECT_EQ(emu(m, cancel), 0x7e800000u);
  EXPECT_EQ(orc(m, cancel), 0x7e800000u);
  EXPECT_EQ(emu(m, over), 0x7f800000u);
  EXPECT_EQ(orc(m, over), 0x7f800000u);
  EXPECT_EQ(emu(ieee, over), 0x7f7fffffu);  // IEEE toward zero: the largest finite value
  EXPECT_EQ(orc(ieee, over), 0x7f7fffffu);
  // A negative sum below fp32's subnormals: -0 under IEEE, +0 with zero=pos.
  const Case tiny{bf16, bf16, {0x8080}, {0x0080}, {}, {}, 0, 0.0f};  // -2^-126 * 2^-126
  EXPECT_EQ(emu(ieee, tiny), 0x80000000u);
  EXPECT_EQ(orc(ieee, tiny), 0x80000000u);
  EXPECT_EQ(emu(m, tiny), 0u);
  EXPECT_EQ(orc(m, tiny), 0u);
}

// h100-mma's operand conversion to fp16 cannot show in its outputs for e4m3 (e5m2 subnormals
// are fp16's anyway): every e4m3 product is a multiple of 2^-18, and a product whose alignment
// exponent the conversion moves (an e4m3 subnormal operand: -6 without it, -9..-7 with it)
// is at most 2^2 * 2, so when it leads a step the cut lies at 2^(2 - 25) or below, under
// every participant's last bit. Adversarial data (subnormals against 448, full step sums)
// agree bit for bit; results/HARDWARE.md.
TEST(DotOracle, Fp16ConversionUnobservableForE4m3Mma) {
  std::mt19937_64 rng(17);
  const AccumModel with = parse_accum_model("h100-mma");
  const AccumModel without = parse_accum_model("h100-mma:conv=none");
  // With a narrower alignment the same data does separate the two: the data can show it.
  const AccumModel narrow_with = parse_accum_model("h100-mma:w=10");
  const AccumModel narrow_without = parse_accum_model("h100-mma:w=10,conv=none");
  int differ = 0, narrow_differ = 0, oracle_bad = 0;
  for (int t = 0; t < 3000; ++t) {
    Case c{kE4M3, kE4M3, {}, {}, {}, {}, 0, 0.0f};
    for (int i = 0; i < 32; ++i) {
      const std::uint32_t sign = (rng() & 1) ? 0x80u : 0u;
      const int r = int(rng() % 4);
      // subnormals, the largest values, and everything in between
      auto u = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
      // Half the dots keep the other products below 1, so that a subnormal times 448 leads.
      const std::uint32_t top = t % 2 ? 0x7fu : 0x38u;
      const std::uint32_t a = r == 0 ? u(8) : r == 1 && t % 2 ? 0x70u + u(7) : u(top);
      const std::uint32_t b = r == 0 ? 0x7eu : r == 1 ? u(8) : u(top);
      c.a.push_back(sign | a);
      c.b.push_back(b);
    }
    if (t % 3 == 0) c.c = std::ldexp(float(int(rng() % 2001) - 1000), int(rng() % 30) - 20);
    differ += emu(with, c) != emu(without, c);
    narrow_differ += emu(narrow_with, c) != emu(narrow_without, c);
    if (t % 100 == 0) oracle_bad += emu(with, c) != orc(with, c);
  }
  EXPECT_EQ(differ, 0);
  EXPECT_GT(narrow_differ, 10);
  EXPECT_EQ(oracle_bad, 0);
}

// The fast fp32 GEMM kernel is not taken for the range options (it follows IEEE).
TEST(Gemm, RangeOptionsTakeTheGenericPath) {
  std::mt19937_64 rng(5);
  const MxMatrix a = random_operand(rng, kE4M3, 6, 32, 32, Gen::kOverflow);
  const MxMatrix b = random_operand(rng, kE4M3, 6, 32, 32, Gen::kOverflow);
  GemmOptions go;
  go.model = parse_accum_model("fp32-seq");
  go.threads = 1;
  for (const char* s : {"fp32-seq:ovf=inf", "fp32-seq:zero=pos", "h100-mma-bf16",
                        "h100-mma-fp16:ovf=inf", "h100-wgmma:zero=pos"}) {
    go.model = parse_accum_model(s);
    EXPECT_STREQ(gemm_kernel_name(a, b, go), "generic") << s;
  }
  // Without the options the fused presets do take a fast kernel (so the check above means
  // something).
  go.model = parse_accum_model("h100-mma-fp16");
  EXPECT_STRNE(gemm_kernel_name(a, b, go), "generic");
}

}  // namespace
}  // namespace mx
