// The exact-model fast kernel: exact fp64 sums over groups of indices, accumulated exactly
// across groups.
//
// Why it is exact (the caller, gemm.cpp, checks the bounds): let u = 2^(lsb_a + lsb_b) with
// lsb the least significant bit of the smallest non-zero element value of each format, and
// write pa = 2^(sa - sa_min), pb = 2^(sb - sb_min) for the scales of a block.
// Two modes. Prescaled (sa == nullptr): the packed values are a * pa and b * pb, and a group
// is g consecutive indices (whole blocks). Every product is a multiple of u below
// 2^(span_a + span_b + spread) * u, so with xbits = span_a + span_b + spread + log2 g <= 53
// every partial sum of the group's FMA chain is a double: the group sum S is exact.
// Scaled after (sa != nullptr): the packed values are unscaled, a group is one block, and
// S (exact when span_a + span_b + log2 blk <= 53) is multiplied by pa * pb: exact, as both are
// powers of two; |x| < 2^xbits * u with the same xbits.
// Then, with C = 1.5 * 2^(52 + B) * u and xbits <= 51 + B, t = x + C rounds x to a multiple
// of 2^B * u without leaving C's binade; h = t - C and l = x - h are exact, |l| <=
// 2^(B - 1) * u; hi += h and lo += l are exact while |hi| < 2^(53 + B) * u and
// |lo| < 2^53 * u, which the caller's choice of B from the number of groups guarantees.
// The dot is (hi + lo) * 2^(sa_min + sb_min), rounded once by the caller. NaN (NaN
// elements or NaN scales, whose multiplier is NaN) propagates into hi and lo; formats with
// Inf are not taken here. Every variant computes the same exact hi and lo.
// No rounding happens here: the one rounding of the dot is the caller's round_pack of the
// exact hi + lo (+ C) (gemm.cpp finish3, through emulator/wide_acc.hpp).
#include <immintrin.h>

#include <cmath>

#include "emulator/gemm_blocked.hpp"

namespace mx::gemm_detail {
namespace {

using Kern = void (*)(std::size_t kc, std::size_t blk, const double* a, const double* b,
                      const double* sa, const double* sb, double split, double* hi, double* lo,
                      std::size_t ldc, bool first);

template <std::size_t Mr, std::size_t Nr>
void tile_scalar(std::size_t kc, std::size_t blk, const double* a, const double* b,
                 const double* sa, const double* sb, double split, double* hi, double* lo,
                 std::size_t ldc, bool first) {
  for (std::size_t p = 0, q = 0; p < kc; ++q) {
    const std::size_t end = std::min(kc, p + blk);
    double s[Mr][Nr] = {};
    for (; p < end; ++p)
      for (std::size_t r = 0; r < Mr; ++r)
        for (std::size_t j = 0; j < Nr; ++j)
          s[r][j] = std::fma(a[p * Mr + r], b[p * Nr + j], s[r][j]);
    for (std::size_t r = 0; r < Mr; ++r)
      for (std::size_t j = 0; j < Nr; ++j) {
        const double x = sa ? s[r][j] * sa[q * Mr + r] * sb[q * Nr + j] : s[r][j];
        const double h = (x + split) - split;
        hi[r * ldc + j] = (first ? 0.0 : hi[r * ldc + j]) + h;
        lo[r * ldc + j] = (first ? 0.0 : lo[r * ldc + j]) + (x - h);
      }
    first = false;
  }
}

constexpr std::size_t kMr2 = 6, kNr2 = 8;  // 12 ymm accumulators

__attribute__((target("avx2,fma"))) void tile_avx2(std::size_t kc, std::size_t blk, const double* a,
                                                   const double* b, const double* sa,
                                                   const double* sb, double split, double* hi,
                                                   double* lo, std::size_t ldc, bool first) {
  const __m256d c = _mm256_set1_pd(split);
  for (std::size_t p = 0, q = 0; p < kc; ++q) {
    const std::size_t end = std::min(kc, p + blk);
    __m256d s[kMr2][2];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < kMr2; ++r) s[r][0] = s[r][1] = _mm256_setzero_pd();
    for (; p < end; ++p) {
      const __m256d b0 = _mm256_load_pd(b + p * kNr2);
      const __m256d b1 = _mm256_load_pd(b + p * kNr2 + 4);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < kMr2; ++r) {
        const __m256d x = _mm256_broadcast_sd(a + p * kMr2 + r);
        s[r][0] = _mm256_fmadd_pd(x, b0, s[r][0]);
        s[r][1] = _mm256_fmadd_pd(x, b1, s[r][1]);
      }
    }
    const __m256d sb0 = sa ? _mm256_load_pd(sb + q * kNr2) : c;
    const __m256d sb1 = sa ? _mm256_load_pd(sb + q * kNr2 + 4) : c;
#pragma GCC unroll 8
    for (std::size_t r = 0; r < kMr2; ++r) {
      const __m256d sr = sa ? _mm256_broadcast_sd(sa + q * kMr2 + r) : c;
#pragma GCC unroll 2
      for (std::size_t v = 0; v < 2; ++v) {
        const __m256d x = sa ? _mm256_mul_pd(_mm256_mul_pd(s[r][v], sr), v ? sb1 : sb0) : s[r][v];
        const __m256d h = _mm256_sub_pd(_mm256_add_pd(x, c), c);
        double* ph = hi + r * ldc + 4 * v;
        double* pl = lo + r * ldc + 4 * v;
        const __m256d l = _mm256_sub_pd(x, h);
        _mm256_store_pd(ph, first ? h : _mm256_add_pd(_mm256_load_pd(ph), h));
        _mm256_store_pd(pl, first ? l : _mm256_add_pd(_mm256_load_pd(pl), l));
      }
    }
    first = false;
  }
}

constexpr std::size_t kMr5 = 12, kNr5 = 16;  // 24 zmm accumulators

__attribute__((target("avx512f"))) void tile_avx512(std::size_t kc, std::size_t blk,
                                                    const double* a, const double* b,
                                                    const double* sa, const double* sb,
                                                    double split, double* hi, double* lo,
                                                    std::size_t ldc, bool first) {
  const __m512d c = _mm512_set1_pd(split);
  for (std::size_t p = 0, q = 0; p < kc; ++q) {
    const std::size_t end = std::min(kc, p + blk);
    __m512d s[kMr5][2];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kMr5; ++r) s[r][0] = s[r][1] = _mm512_setzero_pd();
    for (; p < end; ++p) {
      const __m512d b0 = _mm512_load_pd(b + p * kNr5);
      const __m512d b1 = _mm512_load_pd(b + p * kNr5 + 8);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kMr5; ++r) {
        const __m512d x = _mm512_set1_pd(a[p * kMr5 + r]);
        s[r][0] = _mm512_fmadd_pd(x, b0, s[r][0]);
        s[r][1] = _mm512_fmadd_pd(x, b1, s[r][1]);
      }
    }
    const __m512d sb0 = sa ? _mm512_load_pd(sb + q * kNr5) : c;
    const __m512d sb1 = sa ? _mm512_load_pd(sb + q * kNr5 + 8) : c;
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kMr5; ++r) {
      const __m512d sr = sa ? _mm512_set1_pd(sa[q * kMr5 + r]) : c;
#pragma GCC unroll 2
      for (std::size_t v = 0; v < 2; ++v) {
        const __m512d x = sa ? _mm512_mul_pd(_mm512_mul_pd(s[r][v], sr), v ? sb1 : sb0) : s[r][v];
        const __m512d h = _mm512_sub_pd(_mm512_add_pd(x, c), c);
        double* ph = hi + r * ldc + 8 * v;
        double* pl = lo + r * ldc + 8 * v;
        const __m512d l = _mm512_sub_pd(x, h);
        _mm512_store_pd(ph, first ? h : _mm512_add_pd(_mm512_load_pd(ph), h));
        _mm512_store_pd(pl, first ? l : _mm512_add_pd(_mm512_load_pd(pl), l));
      }
    }
    first = false;
  }
}

template <std::size_t Mr, std::size_t Nr>
void blocked(Kern kern, const Operand& a, const Operand& b, const double* lut_a,
             const double* lut_b, const ExactParams& prm, std::size_t i0, std::size_t i1,
             std::size_t j0, std::size_t j1, const TileLayout& lay, double* hi, double* lo) {
  // K chunks are whole groups, so a group never straddles two micro-kernel calls.
  const std::size_t blk = prm.group;
  const bool after = !prm.prescaled;
  const std::size_t kKc = blk * std::max<std::size_t>(1, kExactChunk / blk);
  constexpr std::size_t kMc = Mr * (192 / Mr), kNc = Nr * (1024 / Nr);
  const std::size_t k = a.k, nbk_max = kKc / blk;
  AlignedBuf<double> bp(kKc * kNc), ap(kKc * kMc), sbp(nbk_max * kNc), sap(nbk_max * kMc);
  for (std::size_t jc = j0; jc < j1; jc += kNc) {
    const std::size_t nc = std::min(kNc, j1 - jc);
    for (std::size_t pc = 0; pc < k; pc += kKc) {
      const std::size_t kc = std::min(kKc, k - pc), nbk = (kc + blk - 1) / blk;
      pack_panels<Nr>(b, jc, nc, pc, kc, after ? nullptr : prm.bmul, bp.get(),
                      [lut_b](std::uint32_t x, double s) { return lut_b[x] * s; });
      if (after) pack_scales<Nr>(b, jc, nc, pc, nbk, prm.bmul, sbp.get());
      for (std::size_t ic = i0; ic < i1; ic += kMc) {
        const std::size_t mc = std::min(kMc, i1 - ic);
        pack_panels<Mr>(a, ic, mc, pc, kc, after ? nullptr : prm.amul, ap.get(),
                        [lut_a](std::uint32_t x, double s) { return lut_a[x] * s; });
        if (after) pack_scales<Mr>(a, ic, mc, pc, nbk, prm.amul, sap.get());
        for (std::size_t jr = 0; jr < nc; jr += Nr) {
          const double* bpp = bp.get() + (jr / Nr) * kc * Nr;
          const double* sbpp = sbp.get() + (jr / Nr) * nbk * Nr;
          for (std::size_t ir = 0; ir < mc; ir += Mr) {  // whole tiles: padding included
            const double* app = ap.get() + (ir / Mr) * kc * Mr;
            const double* sapp = after ? sap.get() + (ir / Mr) * nbk * Mr : nullptr;
            const std::size_t off = lay.tile((ic + ir) / Mr, (jc + jr) / Nr);
            kern(kc, blk, app, bpp, sapp, sbpp, prm.split, hi + off, lo + off, Nr, pc == 0);
          }
        }
      }
    }
  }
}

template <std::size_t Mr, std::size_t Nr>
void run(Kern kern, const Operand& a, const Operand& b, const double* lut_a, const double* lut_b,
         const ExactParams& prm, std::size_t m, std::size_t n, int threads, double* hi,
         double* lo) {
  const TileLayout lay{Mr, Nr, (m + Mr - 1) / Mr, (n + Nr - 1) / Nr};
  split_output(m, n, Mr, Nr, threads,
               [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1) {
                 blocked<Mr, Nr>(kern, a, b, lut_a, lut_b, prm, i0, i1, j0, j1, lay, hi, lo);
               });
}

}  // namespace

TileLayout exact_layout(GemmIsa isa, std::size_t m, std::size_t n) {
  const GemmIsa r = resolve_isa(isa);
  const std::size_t mr = r == GemmIsa::kAvx512 ? kMr5 : r == GemmIsa::kAvx2 ? kMr2 : 4;
  const std::size_t nr = r == GemmIsa::kAvx512 ? kNr5 : r == GemmIsa::kAvx2 ? kNr2 : 4;
  return TileLayout{mr, nr, (m + mr - 1) / mr, (n + nr - 1) / nr};
}

void gemm_exact_blocks(const Operand& a, const Operand& b, const double* lut_a, const double* lut_b,
                       const ExactParams& p, std::size_t m, std::size_t n, int threads, GemmIsa isa,
                       double* hi, double* lo) {
  switch (resolve_isa(isa)) {
    case GemmIsa::kAvx512:
      run<kMr5, kNr5>(tile_avx512, a, b, lut_a, lut_b, p, m, n, threads, hi, lo);
      return;
    case GemmIsa::kAvx2:
      run<kMr2, kNr2>(tile_avx2, a, b, lut_a, lut_b, p, m, n, threads, hi, lo);
      return;
    case GemmIsa::kScalar:
    case GemmIsa::kAuto:
      break;
  }
  run<4, 4>(tile_scalar<4, 4>, a, b, lut_a, lut_b, p, m, n, threads, hi, lo);
}

}  // namespace mx::gemm_detail
