// Internal to emulator/: the cache-blocked GEMM skeleton shared by the fast kernels
// (gemm_kernel_f32.cpp, gemm_kernel_exact.cpp). Operands are packed (and dequantized) per
// call into register-tile panels, GotoBLAS-style: a KC x NC slice of B into Nr-wide panels,
// an MC x KC block of A into Mr-tall panels, then a micro-kernel per Mr x Nr tile of C. The
// loops tile only M and N; K is cut into KC chunks whose partial results are stored in C and
// reloaded unchanged, so every output still sees its K indices in order, one by one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "emulator/dot.hpp"
#include "emulator/gemm.hpp"
#include "emulator/parallel-inl.hpp"

namespace mx::gemm_detail {

// A 64-byte aligned array (whole cache lines for the vector loads of the micro-kernels).
template <typename T>
class AlignedBuf {
 public:
  explicit AlignedBuf(std::size_t n)
      : p_(static_cast<T*>(
            ::operator new[](std::max<std::size_t>(n, 1) * sizeof(T), std::align_val_t{64}))) {}
  ~AlignedBuf() { ::operator delete[](p_, std::align_val_t{64}); }
  AlignedBuf(const AlignedBuf&) = delete;
  AlignedBuf& operator=(const AlignedBuf&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

// One operand as rows of K codes with per-block E8M0 scale codes (block 0: none).
struct Operand {
  const std::uint32_t* codes = nullptr;
  const std::uint8_t* scales = nullptr;
  std::size_t k = 0;
  std::size_t nb = 0;      // blocks per row
  std::size_t block = 0;   // 0: no shared scale
  std::uint32_t mask = 0;  // element code mask
  explicit Operand(const MxMatrix& m)
      : codes(m.codes.data()),
        scales(m.scales.data()),
        k(m.k),
        nb(m.blocks_per_row()),
        block(m.block > 0 ? static_cast<std::size_t>(m.block) : 0),
        mask(m.elem.code_mask()) {}
};

// Packs rows [r0, r0 + rn) x indices [p0, p0 + kc) of an operand into panels of R rows:
// panel p holds, for each of the kc indices, R consecutive values (dst[(p * kc + kk) * R + r]);
// rows past rn are zero. value(code, mul) gives the packed value of an element code in a
// block whose scale code maps to mul = muls[scale code] (1 without scales). The index loop is
// outside the row loop, so the writes are sequential.
template <std::size_t R, typename T, typename Value>
void pack_panels(const Operand& op, std::size_t r0, std::size_t rn, std::size_t p0, std::size_t kc,
                 const T* muls, T* dst, Value&& value) {
  static_assert(R <= 64);
  const std::uint32_t* code[R];
  T mul[R];
  for (std::size_t p = 0; p * R < rn; ++p) {
    const std::size_t rows = std::min(R, rn - p * R);
    T* d = dst + p * kc * R;
    for (std::size_t r = 0; r < rows; ++r) code[r] = op.codes + (r0 + p * R + r) * op.k + p0;
    const std::size_t seg = op.block > 0 ? op.block : kc;
    for (std::size_t kk = 0; kk < kc;) {  // one block (or the whole chunk) at a time
      const std::size_t blk = (p0 + kk) / seg;
      const std::size_t end = op.block > 0 ? std::min(kc, (blk + 1) * seg - p0) : kc;
      for (std::size_t r = 0; r < rows; ++r)
        mul[r] = op.block > 0 && muls ? muls[op.scales[(r0 + p * R + r) * op.nb + blk]] : T(1);
      for (; kk < end; ++kk) {
        for (std::size_t r = 0; r < rows; ++r) d[kk * R + r] = value(code[r][kk] & op.mask, mul[r]);
        for (std::size_t r = rows; r < R; ++r) d[kk * R + r] = T(0);
      }
    }
  }
}

// The nbk block multipliers of rows [r0, r0 + rn) for the blocks from index p0 on, in
// panels of R rows like pack_panels (1 without scales, 0 for padding rows).
template <std::size_t R, typename T>
void pack_scales(const Operand& op, std::size_t r0, std::size_t rn, std::size_t p0, std::size_t nbk,
                 const T* muls, T* dst) {
  for (std::size_t p = 0; p * R < rn; ++p)
    for (std::size_t q = 0; q < nbk; ++q)
      for (std::size_t r = 0; r < R; ++r) {
        const std::size_t row = r0 + p * R + r;
        dst[(p * nbk + q) * R + r] = p * R + r >= rn ? T(0)
                                     : op.block > 0
                                         ? muls[op.scales[row * op.nb + p0 / op.block + q]]
                                         : T(1);
      }
}

// Calls fn(i0, i1, j0, j1) on `threads` disjoint rectangles covering the M x N output, cut
// along the longer side at multiples of the tile (mr rows or nr columns).
template <typename Fn>
void split_output(std::size_t m, std::size_t n, std::size_t mr, std::size_t nr, int threads,
                  Fn&& fn) {
  if (n >= m) {
    const std::size_t np = (n + nr - 1) / nr;
    parallel_for(np, threads, [&](std::size_t p0, std::size_t p1) {
      fn(std::size_t{0}, m, p0 * nr, std::min(p1 * nr, n));
    });
  } else {
    const std::size_t mp = (m + mr - 1) / mr;
    parallel_for(mp, threads, [&](std::size_t p0, std::size_t p1) {
      fn(p0 * mr, std::min(p1 * mr, m), std::size_t{0}, n);
    });
  }
}

// Which instruction set a fast kernel runs on (kAuto: the best this CPU has).
inline GemmIsa resolve_isa(GemmIsa want) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                             __builtin_cpu_supports("avx512cd") &&
                             __builtin_cpu_supports("avx512dq");
  switch (want) {
    case GemmIsa::kScalar:
      return GemmIsa::kScalar;
    case GemmIsa::kAvx2:
      return avx2 ? GemmIsa::kAvx2 : GemmIsa::kScalar;
    case GemmIsa::kAvx512:
    case GemmIsa::kAuto:
      break;
  }
  return avx512 ? GemmIsa::kAvx512 : avx2 ? GemmIsa::kAvx2 : GemmIsa::kScalar;
}

inline const char* isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kScalar:
      return "scalar";
    case GemmIsa::kAvx2:
      return "avx2";
    case GemmIsa::kAvx512:
      return "avx512";
    case GemmIsa::kAuto:
      break;
  }
  return "auto";
}

// The fast kernels write C tile by tile: tile (ip, jp) holds rows ip*mr.. and columns
// jp*nr.. as mr x nr contiguous values (padding included), so a tile is a few whole cache
// lines whatever N is (row-major tiles with a power-of-two stride thrash L1 sets).
struct TileLayout {
  std::size_t mr = 1, nr = 1, mp = 0, np = 0;  // tile shape; tiles down and across
  std::size_t size() const { return mp * np * mr * nr; }
  std::size_t tile(std::size_t ip, std::size_t jp) const { return (ip * np + jp) * mr * nr; }
  // fn(i, j, index) for every element of the m x n output, tile row by tile row, on `threads`.
  template <typename Fn>
  void for_each(std::size_t m, std::size_t n, int threads, Fn&& fn) const {
    parallel_for(mp, threads, [&](std::size_t p0, std::size_t p1) {
      for (std::size_t ip = p0; ip < p1; ++ip)
        for (std::size_t jp = 0; jp < np; ++jp)
          for (std::size_t r = 0; r < mr && ip * mr + r < m; ++r)
            for (std::size_t j = 0; j < nr && jp * nr + j < n; ++j)
              fn(ip * mr + r, jp * nr + j, tile(ip, jp) + r * nr + j);
    });
  }
};

// ---- entry points of the kernels (each proven equal to the generic path by the tests) ----

// fp32-seq: c (in the tile layout f32_layout gives) = the fp32 FMA chain over k in order
// from +0 of the dequantized values (lut: element code -> value, exact in fp32; smul: E8M0
// code -> 2^s in fp32, NaN for 0xFF). Precondition (checked by the caller): every scaled
// value is an fp32 number and every product a multiple of 2^-149. c need not be initialised.
TileLayout f32_layout(GemmIsa isa, std::size_t m, std::size_t n);
void gemm_f32_seq(const Operand& a, const Operand& b, const float* lut_a, const float* lut_b,
                  const float* smul, std::size_t m, std::size_t n, int threads, GemmIsa isa,
                  float* c);

// The exact kernel's K chunk (a group never exceeds it unless a block does).
inline constexpr std::size_t kExactChunk = 128;

// exact: per group of `group` indices (whole blocks), the exact sum of the element products
// in fp64, added exactly into hi + lo: hi holds multiples of `split` / 1.5 / 2^52, lo the rest.
// prescaled: the values are multiplied by 2^(s - s_min) before the sum; else (group = one
// block) the sum is. gemm_kernel_exact.cpp states the bounds.
struct ExactParams {
  std::size_t group = 32;
  bool prescaled = false;
  double split = 0;              // 1.5 * 2^(52 + B) * u
  const double* amul = nullptr;  // E8M0 code -> 2^(s - sa_min), NaN for 0xFF (A)
  const double* bmul = nullptr;  // same for B
};
// hi and lo in the tile layout exact_layout gives; they need not be initialised.
TileLayout exact_layout(GemmIsa isa, std::size_t m, std::size_t n);
void gemm_exact_blocks(const Operand& a, const Operand& b, const double* lut_a, const double* lut_b,
                       const ExactParams& p, std::size_t m, std::size_t n, int threads, GemmIsa isa,
                       double* hi, double* lo);

// fused (gemm_kernel_fused.cpp): the K indices reordered so that each step's group is
// contiguous, the groups in order, and the accumulator's parameters.
struct FusedGroup {
  std::size_t start = 0, len = 0;
  bool promote_after = false;
};
struct FusedParams {
  int w = 0;
  int acc_man = 0, acc_emin = 0, acc_emax = 0;
  std::int64_t acc_max_sig = 0;
  bool promote = false, c_first = false, c_promote = false;
  std::vector<std::uint32_t> perm;
  std::vector<FusedGroup> groups;
};
// Decoded elements: sig * 2^exp with the alignment exponent al (scales included); zero
// elements have al = kNoAlign so that their products never lead.
inline constexpr std::int64_t kNoAlign = -(std::int64_t{1} << 28);
struct FusedOperands {
  std::size_t k = 0;
  std::vector<std::int32_t> a_sig, a_exp, a_al;  // [row][kp]
  std::vector<std::int32_t> b_sig, b_exp, b_al;  // [column / 8][kp][8]
};
// Fills one operand in perm order (lanes 0: row-major; 8: panels of 8 rows); false when an
// element is NaN or Inf or a scale is NaN.
bool decode_fused(const MxMatrix& m, const OpTable& t, const std::vector<std::uint32_t>& perm,
                  std::size_t lanes, std::vector<std::int32_t>* sig, std::vector<std::int32_t>* ex,
                  std::vector<std::int32_t>* al);
// f[i*n + j] = F (the chain's result before the output rounding), bad = recompute generically.
void gemm_fused(const FusedParams& fp, const FusedOperands& ops, std::size_t m, std::size_t n,
                const std::vector<float>& c0, int threads, GemmIsa isa, double* f,
                std::uint8_t* bad);

}  // namespace mx::gemm_detail
