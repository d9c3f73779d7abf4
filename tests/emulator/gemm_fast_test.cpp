// The fast GEMM kernels (emulator/gemm_kernel_f32.cpp, gemm_kernel_exact.cpp) equal the
// generic path (itself equal to the oracle, tests/emulator/dot_oracle_test.cpp) bit for bit,
// for every instruction set this CPU has (scalar, AVX2, AVX-512), several thread counts,
// edge tiles smaller than the register tile, K not a multiple of the block and crossing the
// K chunk, and adversarial data: cancellation to zero, wide scale spreads up to the E8M0
// extremes, subnormal elements, NaN elements and NaN scales, fp32 overflow. Each case also
// states which kernel it must take, so a dispatch that silently falls back fails.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "emulator/gemm.hpp"
#include "formats/codec.hpp"

namespace mx {
namespace {

enum class Data { kNormal, kNarrow, kSpread, kExtreme, kSpecial, kSubnormal, kOverflow, kSmall };

// Random codes (NaN codes replaced by 0 unless kSpecial) and scales chosen by `d`.
MxMatrix operand(std::mt19937_64& rng, const ElemFormat& f, std::size_t rows, std::size_t k,
                 int block, Data d) {
  std::vector<std::uint32_t> codes(rows * k);
  const std::uint32_t mask = f.code_mask();
  for (auto& c : codes) {
    c = static_cast<std::uint32_t>(rng()) & mask;
    if (!std::isfinite(decode(f, c)) && (d != Data::kSpecial || rng() % 16 != 0)) c = 0;
    if (d == Data::kSubnormal && rng() % 2) c &= (mask >> (f.exp_bits + 1)) | (mask ^ (mask >> 1));
  }
  const std::size_t nb = block > 0 ? (k + std::size_t(block) - 1) / std::size_t(block) : 0;
  std::vector<std::uint8_t> scales(rows * nb);
  for (auto& s : scales) {
    switch (d) {
      case Data::kSmall:
        s = static_cast<std::uint8_t>(114 + rng() % 6);
        break;
      case Data::kNarrow:
        s = static_cast<std::uint8_t>(125 + rng() % 3);
        break;
      case Data::kSpread:
        s = static_cast<std::uint8_t>(110 + rng() % 27);
        break;
      case Data::kExtreme:
        s = rng() % 2 ? 0 : 254;
        break;
      case Data::kSubnormal:
        s = static_cast<std::uint8_t>(rng() % 20);
        break;
      case Data::kOverflow:
        s = static_cast<std::uint8_t>(242 + rng() % 5);
        break;
      case Data::kSpecial:
        s = rng() % 64 == 0 ? 0xFF : static_cast<std::uint8_t>(120 + rng() % 8);
        break;
      default:
        s = static_cast<std::uint8_t>(120 + rng() % 8);
        break;
    }
  }
  return make_operand(f, block, rows, k, std::move(codes), std::move(scales));
}

// B's rows are A's rows with the signs flipped (sign bit of floats, negation of integers) and
// the same scales: A * B^T has an exact zero on its diagonal and cancellation elsewhere.
MxMatrix negated(const MxMatrix& a) {
  MxMatrix b = a;
  const std::uint32_t mask = a.elem.code_mask(), sign = mask ^ (mask >> 1);
  for (auto& c : b.codes) {
    if (a.elem.is_float())
      c ^= sign;
    else
      c = (0u - c) & mask;
  }
  return b;
}

std::vector<GemmIsa> isas() {
  std::vector<GemmIsa> v{GemmIsa::kScalar};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) v.push_back(GemmIsa::kAvx2);
  if (__builtin_cpu_supports("avx512f")) v.push_back(GemmIsa::kAvx512);
  return v;
}

struct Shape {
  std::size_t m, n, k;
  int block;
};

// Compares every ISA and thread count to the generic path; `kernel` is the prefix the kernel
// name must have ("generic" for cases outside the fast kernels' preconditions).
void check(const char* model, const MxMatrix& a, const MxMatrix& b, const std::vector<float>& c0,
           const std::string& kernel, const std::string& what) {
  GemmOptions go;
  go.model = parse_accum_model(model);
  go.allow_fast = false;
  const auto ref = gemm(a, b, c0, go);
  go.allow_fast = true;
  for (const GemmIsa isa : isas()) {
    go.isa = isa;
    const std::string name = gemm_kernel_name(a, b, go);
    EXPECT_EQ(name.rfind(kernel, 0), 0u) << what << " " << model << ": took " << name;
    for (const int th : {1, 3}) {  // 3: uneven parts
      go.threads = th;
      const auto got = gemm(a, b, c0, go);
      ASSERT_EQ(got.size(), ref.size());
      std::size_t bad = 0, first = 0;
      for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i] != ref[i] && bad++ == 0) first = i;
      EXPECT_EQ(bad, 0u) << what << " " << model << " " << name << " threads " << th
                         << ": first mismatch at " << first << " got " << got[first] << " want "
                         << ref[first];
    }
  }
}

// Edges smaller than every tile, K not a multiple of the block, K crossing 256 and 512 (the
// K chunks), no scales, and a block of 16 with M > N (the threads split M).
const Shape kShapes[] = {{1, 1, 1, 32},     {5, 7, 31, 32},  {13, 37, 70, 32},
                         {14, 33, 523, 32}, {9, 40, 100, 0}, {40, 12, 96, 16}};

TEST(GemmFast, Fp32SeqEqualsGeneric) {
  std::mt19937_64 rng(11);
  for (const ElemFormat& f : {kE4M3, kE5M2, kE2M1, kE3M2, kInt8}) {
    for (const Shape& s : kShapes) {
      const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kNormal);
      const MxMatrix b = operand(rng, f, s.n, s.k, s.block, Data::kNormal);
      std::vector<float> c0(s.m * s.n);
      for (auto& x : c0) x = std::ldexp(float(int(rng() % 201) - 100), -3);
      const std::string what = std::string(f.name_view()) + " " + std::to_string(s.m) + "x" +
                               std::to_string(s.n) + "x" + std::to_string(s.k);
      check("fp32-seq", a, b, {}, "fma-f32", what);
      check("fp32-seq", a, b, c0, "fma-f32", what + " +C");
      check("fp32-seq:out=e4m3,out-round=toward-negative", a, b, {}, "fma-f32", what);
    }
  }
}

TEST(GemmFast, EmptyShapes) {
  std::mt19937_64 rng(17);
  for (const Shape& s : {Shape{0, 5, 40, 32}, Shape{5, 0, 40, 32}, Shape{0, 0, 40, 32}}) {
    const MxMatrix a = operand(rng, kE4M3, s.m, s.k, s.block, Data::kExtreme);
    const MxMatrix b = operand(rng, kE4M3, s.n, s.k, s.block, Data::kExtreme);
    for (const char* model : {"fp32-seq", "exact", "h100-mma"}) {
      GemmOptions go;
      go.model = parse_accum_model(model);
      EXPECT_EQ(gemm(a, b, {}, go).size(), 0u) << model;
    }
  }
}

TEST(GemmFast, ExactEqualsGeneric) {
  std::mt19937_64 rng(12);
  for (const ElemFormat& f : {kE4M3, kE2M1, kE3M2, kE2M3, kInt8}) {
    for (const Shape& s : kShapes) {
      const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kNormal);
      const MxMatrix b = operand(rng, f, s.n, s.k, s.block, Data::kNormal);
      std::vector<float> c0(s.m * s.n);
      for (auto& x : c0) x = std::ldexp(float(int(rng() % 201) - 100), int(rng() % 40) - 20);
      const std::string what = std::string(f.name_view()) + " " + std::to_string(s.m) + "x" +
                               std::to_string(s.n) + "x" + std::to_string(s.k);
      check("exact", a, b, {}, "exact-", what);
      check("exact", a, b, c0, "exact-", what + " +C");
      check("exact:out=bf16,out-round=nearest-away", a, b, c0, "exact-", what + " +C");
    }
  }
  // e5m2 (Inf codes, 32-bit fixed point) is not taken by the block kernel.
  const MxMatrix a = operand(rng, kE5M2, 5, 64, 32, Data::kNormal);
  check("exact", a, a, {}, "generic", "e5m2");
}

TEST(GemmFast, Adversarial) {
  std::mt19937_64 rng(13);
  const Shape s{13, 37, 300, 32};
  for (const ElemFormat& f : {kE4M3, kE2M1, kInt8}) {
    const std::string fn(f.name_view());
    // Exact cancellation: zeros must be +0, in every model and kernel.
    const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kNormal);
    const MxMatrix an = negated(a);
    check("exact", a, an, {}, "exact-", fn + " cancel");
    check("fp32-seq", a, an, {}, "fma-f32", fn + " cancel");
    // Scale spread of 2^26 per operand: hi and lo both carry bits; fp32-seq still fits.
    const MxMatrix as = operand(rng, f, s.m, s.k, s.block, Data::kSpread);
    const MxMatrix bs = operand(rng, f, s.n, s.k, s.block, Data::kSpread);
    check("exact", as, bs, {}, "exact-blocks", fn + " spread");
    check("exact", as, negated(as), {}, "exact-", fn + " spread cancel");
    check("fp32-seq", as, bs, {}, "fma-f32", fn + " spread");
    // A narrow scale range: prescaled values, sums over groups of blocks.
    const MxMatrix an2 = operand(rng, f, s.m, s.k, s.block, Data::kNarrow);
    const MxMatrix bn2 = operand(rng, f, s.n, s.k, s.block, Data::kNarrow);
    check("exact", an2, bn2, {}, "exact-prescaled", fn + " narrow");
    check("exact", an2, negated(an2), {}, "exact-prescaled", fn + " narrow cancel");
    // E8M0 extremes (2^-127 and 2^127): outside both fast kernels' bounds.
    const MxMatrix ax = operand(rng, f, s.m, s.k, s.block, Data::kExtreme);
    const MxMatrix bx = operand(rng, f, s.n, s.k, s.block, Data::kExtreme);
    check("exact", ax, bx, {}, "generic", fn + " extreme");
    check("fp32-seq", ax, bx, {}, "generic", fn + " extreme");
    // Tiny scales with subnormal elements: products below 2^-149 leave fp32-seq generic.
    const MxMatrix au = operand(rng, f, s.m, s.k, s.block, Data::kSubnormal);
    const MxMatrix bu = operand(rng, f, s.n, s.k, s.block, Data::kSubnormal);
    check("exact", au, bu, {}, "exact-", fn + " subnormal");
    check("exact:out=bf16", au, bu, {}, "exact-", fn + " subnormal");
    check("fp32-seq", au, bu, {}, "generic", fn + " subnormal");
    // Large scales: fp32 sums overflow to Inf (and Inf - Inf to NaN).
    const MxMatrix ao = operand(rng, f, s.m, s.k, s.block, Data::kOverflow);
    const MxMatrix bo = operand(rng, f, s.n, s.k, s.block, Data::kOverflow);
    check("fp32-seq", ao, bo, {}, "fma-f32", fn + " overflow");
    check("exact", ao, bo, {}, "exact-", fn + " overflow");
    check("exact:out=e4m3,out-round=nearest-even", ao, bo, {}, "exact-", fn + " overflow");
  }
  // NaN elements and NaN scales (and Inf elements for e5m2 under fp32-seq).
  for (const ElemFormat& f : {kE4M3, kE5M2}) {
    const std::string fn(f.name_view());
    const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kSpecial);
    const MxMatrix b = operand(rng, f, s.n, s.k, s.block, Data::kSpecial);
    std::vector<float> c0(s.m * s.n, 1.0f);
    c0[3] = std::numeric_limits<float>::infinity();
    c0[5] = std::numeric_limits<float>::quiet_NaN();
    check("fp32-seq", a, b, {}, "fma-f32", fn + " special");
    check("fp32-seq", a, b, c0, "fma-f32", fn + " special +C");
    check("exact", a, b, c0, f.has_inf() ? "generic" : "exact-", fn + " special +C");
  }
}

const char* kFusedModels[] = {
    "h100-mma",
    "h100-wgmma",
    "h100-wgmma-fast",
    "h100-mma-fp16",
    "fused:k=4,w=8,terms=toward-zero,round=toward-zero,acc=bf16",
    "fused:k=4,w=3,terms=toward-zero,round=toward-zero,acc=fp16",
    "fused:k=3,split=3,gran=1,w=12,terms=toward-zero,round=toward-zero,acc=fp16,c=first",
    "fused:k=6,split=2,gran=2,w=20,terms=toward-zero,round=toward-zero,promote=24,c=promote",
    "fused:k=7,w=30,terms=toward-zero,round=toward-zero,acc=e5m10ieee,conv=e5m3ieee",
};

TEST(GemmFast, FusedEqualsGeneric) {
  std::mt19937_64 rng(14);
  for (const char* model : kFusedModels) {
    for (const ElemFormat& f : {kE4M3, kInt8}) {  // e5m2: FusedAdversarial
      for (const Shape& s : {Shape{5, 7, 31, 32}, Shape{13, 37, 300, 32}, Shape{9, 17, 70, 0}}) {
        const std::string what = std::string(f.name_view()) + " " + std::to_string(s.m) + "x" +
                                 std::to_string(s.n) + "x" + std::to_string(s.k);
        const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kNormal);
        const MxMatrix b = operand(rng, f, s.n, s.k, s.block, Data::kNormal);
        std::vector<float> c0(s.m * s.n);
        for (auto& x : c0) x = std::ldexp(float(int(rng() % 201) - 100), int(rng() % 20) - 10);
        check(model, a, b, {}, "fused-int", what);
        check(model, a, b, c0, "fused-int", what + " +C");
        check(model, a, negated(a), {}, "fused-int", what + " cancel");
      }
    }
  }
}

TEST(GemmFast, FusedAdversarial) {
  std::mt19937_64 rng(15);
  const Shape s{9, 19, 160, 32};  // crosses the promotion intervals (24, 32, 128)
  for (const char* model : kFusedModels) {
    for (const ElemFormat& f : {kE4M3, kE5M2}) {
      const std::string fn(f.name_view());
      // Accumulator overflow and underflow go back to the generic path output by output.
      // Small values: subnormal accumulators of the narrow formats (fp16, bf16).
      for (const Data d :
           {Data::kSpread, Data::kExtreme, Data::kSubnormal, Data::kOverflow, Data::kSmall}) {
        const MxMatrix a = operand(rng, f, s.m, s.k, s.block, d);
        const MxMatrix b = operand(rng, f, s.n, s.k, s.block, d);
        check(model, a, b, {}, "fused-int", fn + " data " + std::to_string(int(d)));
      }
      // C with NaN / Inf (whatever the model's C entry): those outputs go to dot().
      const MxMatrix an = operand(rng, f, s.m, s.k, s.block, Data::kNormal);
      std::vector<float> c0(s.m * s.m, 0.5f);  // B = A: M x M
      for (std::size_t t = 0; t < c0.size(); t += 7)
        c0[t] = t % 3 ? std::numeric_limits<float>::infinity() * float(t % 2 ? 1 : -1)
                      : std::numeric_limits<float>::quiet_NaN();
      check(model, an, an, c0, "fused-int", fn + " C NaN/Inf");
      // NaN / Inf elements or NaN scales: the whole GEMM is generic.
      const MxMatrix a = operand(rng, f, s.m, s.k, s.block, Data::kSpecial);
      const MxMatrix b = operand(rng, f, s.n, s.k, s.block, Data::kSpecial);
      check(model, a, b, {}, "generic", fn + " special");
    }
  }
  // Outside the kernel's models: nearest-even terms or steps, A not joining.
  std::mt19937_64 rng2(16);
  const MxMatrix a = operand(rng2, kE4M3, 5, 64, 32, Data::kNormal);
  for (const char* model : {"fused:k=4,w=8,terms=nearest-even,round=toward-zero",
                            "fused:k=4,w=8,terms=toward-zero,round=nearest-even",
                            "fused:k=4,w=8,terms=toward-zero,round=toward-zero,join=0"})
    check(model, a, a, {}, "generic", "other model");
}

}  // namespace
}  // namespace mx
