// The fp32-seq fast kernel: a cache-blocked fp32 FMA GEMM on the dequantized operands.
//
// Why it is the model: fp32-seq adds each exact product into an fp32 accumulator, from +0,
// in index order, rounding to nearest-even. When a and b are fp32 numbers,
// fma(a, b, acc) = RNE(acc + a*b) with a*b exact: the model's step, overflow included. The
// caller checks that every product is a multiple of 2^-149, so a non-zero sum never
// rounds to zero and the accumulator is never -0 (the model's zero sums are +0, as IEEE's
// x + -x and (+0) + (-0)). NaN and Inf propagate as in the model (NaN anywhere gives NaN,
// Inf of both signs gives NaN). Each output's K indices are visited in order by every
// variant (scalar, AVX2, AVX-512), so all give the same bits.
// As an instance of round_pack (formats/round_pack.hpp): each step is round_pack into fp32,
// nearest-even, OverflowRule::kIeee, of the exact acc + a*b, done by the FMA unit (with the
// bounds above, the hardware's tininess rule never matters); no Status flags.
// tests/emulator/gemm_fast_test.cpp checks every variant against the generic dot(), whose
// steps call round_pack.
#include <immintrin.h>

#include <cmath>

#include "emulator/gemm_blocked.hpp"

namespace mx::gemm_detail {
namespace {

using Kern = void (*)(std::size_t kc, const float* a, const float* b, float* c, std::size_t ldc,
                      bool first);

// One Mr x Nr tile: c = (first ? +0 : c) + sum over p < kc of a[p][r] * b[p][j], in order.
template <std::size_t Mr, std::size_t Nr>
void tile_scalar(std::size_t kc, const float* a, const float* b, float* c, std::size_t ldc,
                 bool first) {
  float acc[Mr][Nr];
  for (std::size_t r = 0; r < Mr; ++r)
    for (std::size_t j = 0; j < Nr; ++j) acc[r][j] = first ? 0.0f : c[r * ldc + j];
  for (std::size_t p = 0; p < kc; ++p)
    for (std::size_t r = 0; r < Mr; ++r)
      for (std::size_t j = 0; j < Nr; ++j)
        acc[r][j] = std::fma(a[p * Mr + r], b[p * Nr + j], acc[r][j]);
  for (std::size_t r = 0; r < Mr; ++r)
    for (std::size_t j = 0; j < Nr; ++j) c[r * ldc + j] = acc[r][j];
}

constexpr std::size_t kMr2 = 6, kNr2 = 16;  // 12 ymm accumulators

__attribute__((target("avx2,fma"))) void tile_avx2(std::size_t kc, const float* a, const float* b,
                                                   float* c, std::size_t ldc, bool first) {
  __m256 acc[kMr2][2];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < kMr2; ++r) {
    acc[r][0] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc);
    acc[r][1] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8);
  }
  for (std::size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b + p * kNr2);
    const __m256 b1 = _mm256_load_ps(b + p * kNr2 + 8);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < kMr2; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + p * kMr2 + r);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (std::size_t r = 0; r < kMr2; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

constexpr std::size_t kMr5 = 12, kNr5 = 32;  // 24 zmm accumulators

__attribute__((target("avx512f"))) void tile_avx512(std::size_t kc, const float* a, const float* b,
                                                    float* c, std::size_t ldc, bool first) {
  __m512 acc[kMr5][2];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < kMr5; ++r) {
    acc[r][0] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc);
    acc[r][1] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16);
  }
  for (std::size_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b + p * kNr5);
    const __m512 b1 = _mm512_load_ps(b + p * kNr5 + 16);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kMr5; ++r) {
      const __m512 x = _mm512_set1_ps(a[p * kMr5 + r]);
      acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 16
  for (std::size_t r = 0; r < kMr5; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}

// Dequantization while packing: lut[code] * 2^scale in fp32, exact under the precondition (a
// product by a power of two is exact when representable).
template <std::size_t Mr, std::size_t Nr>
void blocked(Kern kern, const Operand& a, const Operand& b, const float* lut_a, const float* lut_b,
             const float* smul, std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1,
             const TileLayout& lay, float* c) {
  constexpr std::size_t kKc = 256, kMc = Mr * (240 / Mr), kNc = Nr * (2048 / Nr);
  const std::size_t k = a.k;
  AlignedBuf<float> bp(kKc * kNc), ap(kKc * kMc);
  for (std::size_t jc = j0; jc < j1; jc += kNc) {
    const std::size_t nc = std::min(kNc, j1 - jc);
    for (std::size_t pc = 0; pc < k; pc += kKc) {
      const std::size_t kc = std::min(kKc, k - pc);
      const bool first = pc == 0;
      pack_panels<Nr>(b, jc, nc, pc, kc, smul, bp.get(),
                      [lut_b](std::uint32_t x, float s) { return lut_b[x] * s; });
      for (std::size_t ic = i0; ic < i1; ic += kMc) {
        const std::size_t mc = std::min(kMc, i1 - ic);
        pack_panels<Mr>(a, ic, mc, pc, kc, smul, ap.get(),
                        [lut_a](std::uint32_t x, float s) { return lut_a[x] * s; });
        for (std::size_t jr = 0; jr < nc; jr += Nr) {
          const float* bpp = bp.get() + (jr / Nr) * kc * Nr;
          for (std::size_t ir = 0; ir < mc; ir += Mr)  // whole tiles: padding is computed too
            kern(kc, ap.get() + (ir / Mr) * kc * Mr, bpp,
                 c + lay.tile((ic + ir) / Mr, (jc + jr) / Nr), Nr, first);
        }
      }
    }
  }
}

template <std::size_t Mr, std::size_t Nr>
void run(Kern kern, const Operand& a, const Operand& b, const float* lut_a, const float* lut_b,
         const float* smul, std::size_t m, std::size_t n, int threads, float* c) {
  const TileLayout lay{Mr, Nr, (m + Mr - 1) / Mr, (n + Nr - 1) / Nr};
  split_output(m, n, Mr, Nr, threads,
               [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1) {
                 blocked<Mr, Nr>(kern, a, b, lut_a, lut_b, smul, i0, i1, j0, j1, lay, c);
               });
}

}  // namespace

TileLayout f32_layout(GemmIsa isa, std::size_t m, std::size_t n) {
  const GemmIsa r = resolve_isa(isa);
  const std::size_t mr = r == GemmIsa::kAvx512 ? kMr5 : r == GemmIsa::kAvx2 ? kMr2 : 4;
  const std::size_t nr = r == GemmIsa::kAvx512 ? kNr5 : r == GemmIsa::kAvx2 ? kNr2 : 8;
  return TileLayout{mr, nr, (m + mr - 1) / mr, (n + nr - 1) / nr};
}

void gemm_f32_seq(const Operand& a, const Operand& b, const float* lut_a, const float* lut_b,
                  const float* smul, std::size_t m, std::size_t n, int threads, GemmIsa isa,
                  float* c) {
  switch (resolve_isa(isa)) {
    case GemmIsa::kAvx512:
      run<kMr5, kNr5>(tile_avx512, a, b, lut_a, lut_b, smul, m, n, threads, c);
      return;
    case GemmIsa::kAvx2:
      run<kMr2, kNr2>(tile_avx2, a, b, lut_a, lut_b, smul, m, n, threads, c);
      return;
    case GemmIsa::kScalar:
    case GemmIsa::kAuto:
      break;
  }
  run<4, 8>(tile_scalar<4, 8>, a, b, lut_a, lut_b, smul, m, n, threads, c);
}

}  // namespace mx::gemm_detail
