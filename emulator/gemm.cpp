#include "emulator/gemm.hpp"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "emulator/dot.hpp"
#include "emulator/quantize.hpp"
#include "formats/codec.hpp"

namespace mx {

MxMatrix make_operand(const ElemFormat& elem, int block, std::size_t rows, std::size_t k,
                      std::vector<std::uint32_t> codes, std::vector<std::uint8_t> scales) {
  MxMatrix m;
  m.elem = elem;
  m.block = block;
  m.rows = rows;
  m.k = k;
  m.codes = std::move(codes);
  m.scales = std::move(scales);
  if (m.codes.size() != rows * k) throw std::invalid_argument("make_operand: codes size");
  if (block > 0 && m.scales.size() != rows * m.blocks_per_row())
    throw std::invalid_argument("make_operand: scales size");
  return m;
}

MxMatrix quantize_operand(const Tensor& t, int k_axis, const BlockSpec& spec, int threads,
                          const char* what) {
  if (t.shape.size() != 2)
    throw std::invalid_argument(fmt::format("{}: expected a matrix (rank 2), got rank {}", what,
                                            t.shape.size()));
  const MxFormat& f = spec.format;
  if (f.block_size > 0 && f.scale != ScaleFormat::kE8m0)
    throw std::invalid_argument(fmt::format(
        "{}: format '{}': gemm supports E8M0 scales or element-wise formats only", what, f.name));
  if (f.elem.is_scale())
    throw std::invalid_argument(fmt::format("{}: '{}' is not an element format", what, f.name));
  QuantizeOptions opt;
  opt.block = spec;
  opt.axis = k_axis;
  opt.threads = threads;
  std::vector<std::uint32_t> codes, scales;
  quantize_tensor(opt, t, nullptr, &codes, f.block_size > 0 ? &scales : nullptr);
  MxMatrix m;
  m.elem = f.elem;
  m.block = f.block_size;
  const std::size_t r = k_axis == 1 ? t.shape[0] : t.shape[1];
  const std::size_t k = k_axis == 1 ? t.shape[1] : t.shape[0];
  m.rows = r;
  m.k = k;
  const std::size_t nb = m.blocks_per_row();
  m.scales.resize(r * nb);
  if (k_axis == 1) {
    m.codes = std::move(codes);
    for (std::size_t i = 0; i < r * nb; ++i) m.scales[i] = static_cast<std::uint8_t>(scales[i]);
  } else {  // K x R: transpose codes; scales are [blocks, R]
    m.codes.resize(r * k);
    for (std::size_t kk = 0; kk < k; ++kk)
      for (std::size_t j = 0; j < r; ++j) m.codes[j * k + kk] = codes[kk * r + j];
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t j = 0; j < r; ++j)
        m.scales[j * nb + b] = static_cast<std::uint8_t>(scales[b * r + j]);
  }
  return m;
}

namespace {

bool is_fp32_seq(const AccumModel& m) {
  return m.kind == AccumKind::kFused && m.k == 1 && m.split == 1 && m.w == 0 && !m.conv &&
         m.acc == kFp32 && m.step_round == Rounding::kNearestEven &&
         m.c_entry == CEntry::kEnd && m.promote_every == 0 &&
         m.scale_order == ScaleOrder::kProduct && !m.overflow_inf && !m.zero_positive;
}

// Scaled element values of an operand, with facts for the fast-path conditions.
struct Dequant {
  std::vector<double> v;  // rows * k
  bool all_fp32 = true;   // every finite non-zero value is an fp32 number
  int min_lsb = std::numeric_limits<int>::max();
  int max_top = std::numeric_limits<int>::min();
};

Dequant dequant(const MxMatrix& m, const OpTable& t, int threads) {
  Dequant d;
  d.v.resize(m.rows * m.k);
  const std::size_t nb = m.blocks_per_row();
  struct Part {
    bool ok = true;
    int min_lsb = std::numeric_limits<int>::max();
    int max_top = std::numeric_limits<int>::min();
  };
  std::vector<Part> parts(m.rows);
  parallel_for(m.rows, threads, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      Part p;
      for (std::size_t kk = 0; kk < m.k; ++kk) {
        const OpElem o = t(m.codes[r * m.k + kk]);
        int s = 0;
        bool nan_s = false;
        if (m.block > 0) {
          s = scale_exp(m.scales[r * nb + kk / static_cast<std::size_t>(m.block)]);
          nan_s = s == kNanScale;
        }
        double x;
        if (o.cls == NumClass::kNaN || nan_s) {
          x = std::numeric_limits<double>::quiet_NaN();
        } else if (o.cls == NumClass::kInf) {
          x = o.neg ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
        } else if (o.sig == 0) {
          x = o.neg ? -0.0 : 0.0;
        } else {
          const int lsb = o.lsb + s;
          const int top = 31 - std::countl_zero(o.sig) + lsb;
          p.min_lsb = std::min(p.min_lsb, lsb);
          p.max_top = std::max(p.max_top, top);
          if (top > 127 || lsb < -149 || top - lsb >= 24) p.ok = false;
          x = std::ldexp(static_cast<double>(o.sig), lsb);
          if (o.neg) x = -x;
        }
        d.v[r * m.k + kk] = x;
      }
      parts[r] = p;
    }
  });
  for (const Part& p : parts) {
    d.all_fp32 &= p.ok;
    d.min_lsb = std::min(d.min_lsb, p.min_lsb);
    d.max_top = std::max(d.max_top, p.max_top);
  }
  return d;
}

enum class Kernel { kGeneric, kFmaF32, kF64Exact };

Kernel choose(const MxMatrix& a, const MxMatrix& b, const GemmOptions& opt, const Dequant* da,
              const Dequant* db) {
  if (!opt.allow_fast) return Kernel::kGeneric;
  const AccumModel& m = opt.model;
  if (!(m.kind == AccumKind::kExact || is_fp32_seq(m))) return Kernel::kGeneric;
  if (a.elem.bits > 16 || b.elem.bits > 16) return Kernel::kGeneric;
  if (!da || !db) return Kernel::kFmaF32;  // tentative: facts not computed yet
  if (da->min_lsb == std::numeric_limits<int>::max() ||
      db->min_lsb == std::numeric_limits<int>::max())
    return Kernel::kGeneric;  // no finite non-zero values: nothing to gain
  if (m.kind == AccumKind::kExact) {
    // Every product is a multiple of 2^L and every partial sum is below K*maxA*maxB <
    // 2^(53 + L): double FMAs then add exactly.
    const int l = da->min_lsb + db->min_lsb;
    const int k_bits = static_cast<int>(std::bit_width(a.k));
    const int bound = da->max_top + 1 + db->max_top + 1 + k_bits;
    return bound - l <= 53 ? Kernel::kF64Exact : Kernel::kGeneric;
  }
  // fp32-seq: fma(a, b, acc) is round_fp32(acc + exact a*b): the model's step, when a and b
  // are fp32 numbers; products that are multiples of 2^-149 never round to zero, so the
  // accumulator never becomes -0 (the model's zero sums are +0, as IEEE's x + -x).
  if (da->all_fp32 && db->all_fp32 && da->min_lsb + db->min_lsb >= -149) return Kernel::kFmaF32;
  return Kernel::kGeneric;
}

constexpr std::size_t kMr = 6, kNr = 16, kKc = 256;

bool have_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

// acc[6][16] = fma chain over k in order, for one 6 x 16 tile; ap: kc x 6, bp: kc x 16.
__attribute__((target("avx2,fma"))) void tile_f32_avx2(const float* ap, const float* bp,
                                                       std::size_t kc, float* acc) {
  __m256 c[kMr][2];
  for (std::size_t r = 0; r < kMr; ++r) {
    c[r][0] = _mm256_loadu_ps(acc + r * kNr);
    c[r][1] = _mm256_loadu_ps(acc + r * kNr + 8);
  }
  for (std::size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(bp + p * kNr);
    const __m256 b1 = _mm256_loadu_ps(bp + p * kNr + 8);
    for (std::size_t r = 0; r < kMr; ++r) {
      const __m256 a = _mm256_broadcast_ss(ap + p * kMr + r);
      c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
    }
  }
  for (std::size_t r = 0; r < kMr; ++r) {
    _mm256_storeu_ps(acc + r * kNr, c[r][0]);
    _mm256_storeu_ps(acc + r * kNr + 8, c[r][1]);
  }
}

void tile_f32_scalar(const float* ap, const float* bp, std::size_t kc, float* acc) {
  for (std::size_t p = 0; p < kc; ++p)
    for (std::size_t r = 0; r < kMr; ++r)
      for (std::size_t j = 0; j < kNr; ++j)
        acc[r * kNr + j] = std::fma(ap[p * kMr + r], bp[p * kNr + j], acc[r * kNr + j]);
}

constexpr std::size_t kMrD = 4, kNrD = 12;

__attribute__((target("avx2,fma"))) void tile_f64_avx2(const double* ap, const double* bp,
                                                       std::size_t kc, double* acc) {
  __m256d c[kMrD][3];
  for (std::size_t r = 0; r < kMrD; ++r)
    for (std::size_t q = 0; q < 3; ++q) c[r][q] = _mm256_loadu_pd(acc + r * kNrD + 4 * q);
  for (std::size_t p = 0; p < kc; ++p) {
    const __m256d b0 = _mm256_loadu_pd(bp + p * kNrD);
    const __m256d b1 = _mm256_loadu_pd(bp + p * kNrD + 4);
    const __m256d b2 = _mm256_loadu_pd(bp + p * kNrD + 8);
    for (std::size_t r = 0; r < kMrD; ++r) {
      const __m256d a = _mm256_broadcast_sd(ap + p * kMrD + r);
      c[r][0] = _mm256_fmadd_pd(a, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_pd(a, b1, c[r][1]);
      c[r][2] = _mm256_fmadd_pd(a, b2, c[r][2]);
    }
  }
  for (std::size_t r = 0; r < kMrD; ++r)
    for (std::size_t q = 0; q < 3; ++q) _mm256_storeu_pd(acc + r * kNrD + 4 * q, c[r][q]);
}

void tile_f64_scalar(const double* ap, const double* bp, std::size_t kc, double* acc) {
  for (std::size_t p = 0; p < kc; ++p)
    for (std::size_t r = 0; r < kMrD; ++r)
      for (std::size_t j = 0; j < kNrD; ++j)
        acc[r * kNrD + j] = std::fma(ap[p * kMrD + r], bp[p * kNrD + j], acc[r * kNrD + j]);
}

// The blocked FMA GEMM: sums[i*N + j] = fma chain over k = 0..K-1 in order (K-blocking
// stores and reloads the exact accumulator, so the order is that of a plain loop).
template <typename T, std::size_t Mr, std::size_t Nr, typename Tile>
void fma_gemm(const std::vector<double>& a, const std::vector<double>& b, std::size_t m,
              std::size_t n, std::size_t k, int threads, Tile tile, std::vector<T>& sums) {
  const std::size_t np = (n + Nr - 1) / Nr, mp = (m + Mr - 1) / Mr;
  std::vector<T> bpack(np * k * Nr, T(0));  // [panel][k][Nr]
  parallel_for(np, threads, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p)
      for (std::size_t kk = 0; kk < k; ++kk)
        for (std::size_t j = 0; j < Nr && p * Nr + j < n; ++j)
          bpack[(p * k + kk) * Nr + j] = static_cast<T>(b[(p * Nr + j) * k + kk]);
  });
  sums.assign(m * n, T(0));
  parallel_for(mp, threads, [&](std::size_t i0, std::size_t i1) {
    std::vector<T> apack(k * Mr);
    std::vector<T> acc((i1 - i0) * np * Mr * Nr, T(0));
    for (std::size_t k0 = 0; k0 < k; k0 += kKc) {
      const std::size_t kc = std::min(kKc, k - k0);
      for (std::size_t ip = i0; ip < i1; ++ip) {
        for (std::size_t kk = 0; kk < kc; ++kk)
          for (std::size_t r = 0; r < Mr; ++r) {
            const std::size_t i = ip * Mr + r;
            apack[kk * Mr + r] = i < m ? static_cast<T>(a[i * k + k0 + kk]) : T(0);
          }
        for (std::size_t jp = 0; jp < np; ++jp)
          tile(apack.data(), bpack.data() + (jp * k + k0) * Nr, kc,
               acc.data() + ((ip - i0) * np + jp) * Mr * Nr);
      }
    }
    for (std::size_t ip = i0; ip < i1; ++ip)
      for (std::size_t jp = 0; jp < np; ++jp)
        for (std::size_t r = 0; r < Mr; ++r)
          for (std::size_t j = 0; j < Nr; ++j) {
            const std::size_t i = ip * Mr + r, jj = jp * Nr + j;
            if (i < m && jj < n) sums[i * n + jj] = acc[((ip - i0) * np + jp) * Mr * Nr + r * Nr + j];
          }
  });
}

// round_out(F + C) for an exact F (double); +0 for an exact zero.
std::uint32_t finish(const AccumModel& m, double f, double c) {
  double d;
  if (std::isnan(f) || std::isnan(c) || (std::isinf(f) && std::isinf(c) && (f > 0) != (c > 0))) {
    d = std::numeric_limits<double>::quiet_NaN();
  } else if (std::isinf(f) || std::isinf(c)) {
    d = std::isinf(f) ? f : c;
  } else {
    const double s = f + c;
    const double bb = s - f;
    const double err = (f - (s - bb)) + (c - bb);
    d = s;
    if (err != 0) {
      int ex;
      const double mm = std::frexp(std::fabs(s), &ex);
      if ((static_cast<std::uint64_t>(std::ldexp(mm, 53)) & 1) == 0)
        d = std::nextafter(s, err > 0 ? std::numeric_limits<double>::infinity()
                                      : -std::numeric_limits<double>::infinity());
    }
    if (d == 0) d = 0.0;
  }
  return encode(m.out, d, m.out_round);
}

}  // namespace

const char* gemm_kernel_name(const MxMatrix& a, const MxMatrix& b, const GemmOptions& opt) {
  Kernel kk = choose(a, b, opt, nullptr, nullptr);
  if (kk != Kernel::kGeneric) {
    const std::optional<ElemFormat> none;
    const OpTable ta(a.elem, none), tb(b.elem, none);
    const Dequant da = dequant(a, ta, opt.threads), db = dequant(b, tb, opt.threads);
    kk = choose(a, b, opt, &da, &db);
  }
  switch (kk) {
    case Kernel::kFmaF32: return "fma-f32";
    case Kernel::kF64Exact: return "f64-exact";
    case Kernel::kGeneric: break;
  }
  return "generic";
}

std::vector<std::uint32_t> gemm(const MxMatrix& a, const MxMatrix& b, const std::vector<float>& c0,
                                const GemmOptions& opt) {
  if (a.k != b.k)
    throw std::invalid_argument(
        fmt::format("K mismatch: A has K = {} columns but B has K = {} rows", a.k, b.k));
  if (a.block != b.block)
    throw std::invalid_argument(fmt::format("block size mismatch: A {} vs B {}", a.block, b.block));
  const std::size_t m = a.rows, n = b.rows, k = a.k;
  if (!c0.empty() && c0.size() != m * n)
    throw std::invalid_argument(fmt::format("C0 has {} elements, expected {} x {}", c0.size(), m, n));
  validate(opt.model);
  const AccumModel& model = opt.model;
  std::vector<std::uint32_t> out(m * n);
  auto cval = [&](std::size_t i) { return c0.empty() ? 0.0 : static_cast<double>(c0[i]); };

  Kernel kern = choose(a, b, opt, nullptr, nullptr);
  if (kern != Kernel::kGeneric && k > 0) {
    const std::optional<ElemFormat> none;
    const OpTable ta(a.elem, none), tb(b.elem, none);
    const Dequant da = dequant(a, ta, opt.threads), db = dequant(b, tb, opt.threads);
    kern = choose(a, b, opt, &da, &db);
    const bool fast_out = model.out == kFp32 && model.out_round.mode == Rounding::kNearestEven &&
                          model.out_round.overflow == Overflow::kToNanOrInf && c0.empty();
    const std::uint32_t nan_code = encode(kFp32, std::numeric_limits<double>::quiet_NaN(),
                                          model.out_round);
    if (kern == Kernel::kFmaF32) {
      std::vector<float> sums;
      if (have_avx2_fma())
        fma_gemm<float, kMr, kNr>(da.v, db.v, m, n, k, opt.threads, tile_f32_avx2, sums);
      else
        fma_gemm<float, kMr, kNr>(da.v, db.v, m, n, k, opt.threads, tile_f32_scalar, sums);
      parallel_for(m * n, opt.threads, [&](std::size_t i0, std::size_t i1) {
        for (std::size_t i = i0; i < i1; ++i) {
          const float s = sums[i];
          if (fast_out)  // s is already the fp32 result: encode(fp32, s) is its bits
            out[i] = std::isnan(s) ? nan_code : std::bit_cast<std::uint32_t>(s);
          else
            out[i] = finish(model, s, cval(i));
        }
      });
      return out;
    }
    if (kern == Kernel::kF64Exact) {
      std::vector<double> sums;
      if (have_avx2_fma())
        fma_gemm<double, kMrD, kNrD>(da.v, db.v, m, n, k, opt.threads, tile_f64_avx2, sums);
      else
        fma_gemm<double, kMrD, kNrD>(da.v, db.v, m, n, k, opt.threads, tile_f64_scalar, sums);
      parallel_for(m * n, opt.threads, [&](std::size_t i0, std::size_t i1) {
        for (std::size_t i = i0; i < i1; ++i) {
          const double s = sums[i];
          if (fast_out) {  // one RNE rounding of the exact sum (the hardware conversion)
            const float f = static_cast<float>(s == 0 ? 0.0 : s);
            out[i] = std::isnan(f) ? nan_code : std::bit_cast<std::uint32_t>(f);
          } else {
            out[i] = finish(model, s, cval(i));
          }
        }
      });
      return out;
    }
  }

  const OpTable ta(a.elem, model.kind == AccumKind::kFused ? model.conv : std::nullopt);
  const OpTable tb(b.elem, model.kind == AccumKind::kFused ? model.conv : std::nullopt);
  const std::size_t nb = a.blocks_per_row();
  parallel_for(m, opt.threads, [&](std::size_t i0, std::size_t i1) {
    DotScratch scratch;
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        DotArgs d;
        d.a = a.codes.data() + i * k;
        d.b = b.codes.data() + j * k;
        if (a.block > 0) {
          d.sa = a.scales.data() + i * nb;
          d.sb = b.scales.data() + j * nb;
        }
        d.k = k;
        d.block = a.block;
        d.c = cval(i * n + j);
        out[i * n + j] = dot(model, ta, tb, d, scratch);
      }
  });
  return out;
}

}  // namespace mx
