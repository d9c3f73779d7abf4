// The fused-model fast kernel: the step chain of accum_model.hpp on integers, 8 outputs
// (consecutive columns) at a time, for the common case of the hardware presets: terms cut
// toward zero, the accumulator joins the alignment, steps rounded toward zero, promotion (if
// any) into fp32 with nearest-even.
//
// Per output, literally as the model: a step takes its group's products p = a * b * 2^(sa+sb)
// (integers sig * 2^exp) and A = Ak * 2^Ae; E = the largest alignment exponent among the
// non-zero ones; each is cut toward zero to a multiple of 2^(E - w) (|term| < 2^(w + 2), so the
// sum of at most 2^20 terms fits in 64 bits: the caller checks w + 2 + log2(k + 1) <= 62); S is
// rounded toward zero into the accumulator format (kept = the leading man + 1 bits, at least
// 2^emin's bits); promotion adds A to P exactly (round-to-odd at 53 bits, then one
// nearest-even rounding to fp32). Whatever the model would do beyond the normal path — an
// accumulator overflow or a non-zero S truncated to zero — marks the output `bad`, and the
// caller recomputes it with the generic dot(). NaN / Inf elements or NaN scales never come
// here (the caller decodes and checks first).
//
// Roundings, as instances of round_pack (formats/round_pack.hpp): the cut of a term is
// round_to_quantum toward zero at 2^(E - w); step 4 is round_pack toward zero into the
// accumulator format, open-coded on int64 lanes for its normal range only (an overflow or a
// result truncated to zero leaves that range: `bad`, the generic dot() redoes it through
// round_pack); the scalar promotion calls round_pack (promote_fp32); the AVX-512 promotion
// is the same rounding written as TwoSum, round to odd at 53 bits, then the hardware's
// nearest-even fp64 -> fp32 conversion. tests/emulator/gemm_fast_test.cpp checks both tiles
// bit for bit against the generic dot().
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "emulator/gemm_blocked.hpp"
#include "emulator/wide_acc.hpp"
#include "formats/round_pack.hpp"

namespace mx::gemm_detail {
namespace {

constexpr std::size_t kL = 8;   // outputs (columns) per lane group
constexpr std::size_t kMr = 4;  // rows per tile

// P + A rounded once to fp32 with nearest-even: round_pack of the exact sum (wide_acc.hpp). An
// infinite P (an earlier overflow, the output already marked bad) stays as it is.
inline double promote_fp32(double p, double a) {
  if (!std::isfinite(p)) return p;
  const ExactValue s = exact_sum(split_double(p), split_double(a));
  if (s.is_zero()) return 0.0;
  const Packed r = round_exact(kFp32, s, Rounding::kNearestEven, OverflowRule::kIeee);
  return static_cast<double>(std::bit_cast<float>(r.code));
}

// One output's chain (the reference the AVX-512 tile mirrors).
struct Lane {
  std::int64_t ak = 0;  // A = ak * 2^ae
  int ae = 0;
  double p = 0;
  bool bad = false;
};

void tile_scalar(const FusedParams& fp, const std::int32_t* const* as,
                 const std::int32_t* const* ae, const std::int32_t* const* aal,
                 const std::int32_t* bs, const std::int32_t* be, const std::int32_t* bal,
                 const double* c, double* f, std::uint8_t* bad) {
  for (std::size_t r = 0; r < kMr; ++r)
    for (std::size_t l = 0; l < kL; ++l) {
      Lane st;
      const double cv = c[r * kL + l];
      st.bad = !std::isfinite(cv);             // a NaN / Inf C: the generic path
      if (fp.c_first && cv != 0 && !st.bad) {  // A starts as C (fp32: a 24-bit significand)
        int ex;
        const double m = std::frexp(cv, &ex);
        st.ak = static_cast<std::int64_t>(std::ldexp(m, 24));
        st.ae = ex - 24;
      }
      if (fp.c_promote) st.p = cv;
      for (const FusedGroup& g : fp.groups) {
        // 1-2. E over the participants.
        std::int64_t e = kNoAlign;
        const bool a_in = st.ak != 0;
        if (a_in) {
          const int top =
              63 - std::countl_zero(static_cast<std::uint64_t>(std::abs(st.ak))) + st.ae;
          e = std::max(top, fp.acc_emin);
        }
        for (std::size_t kp = g.start; kp < g.start + g.len; ++kp)
          e = std::max<std::int64_t>(e, std::int64_t{aal[r][kp]} + bal[kp * kL + l]);
        std::int64_t s = 0;
        std::int64_t q;
        if (e <= kNoAlign / 2) {  // no participant: S = A exactly
          s = st.ak;
          q = st.ae;
        } else {
          q = e - fp.w;
          auto cut = [&](std::int64_t x, std::int64_t xe) {
            const std::uint64_t mag = static_cast<std::uint64_t>(x < 0 ? -x : x);
            const std::int64_t d = xe - q;
            const std::uint64_t t = d >= 64 || -d >= 64 ? 0 : d >= 0 ? mag << d : mag >> -d;
            return x < 0 ? -static_cast<std::int64_t>(t) : static_cast<std::int64_t>(t);
          };
          if (a_in) s += cut(st.ak, st.ae);
          for (std::size_t kp = g.start; kp < g.start + g.len; ++kp)
            s += cut(std::int64_t{as[r][kp]} * bs[kp * kL + l],
                     std::int64_t{ae[r][kp]} + be[kp * kL + l]);
        }
        // 4. Round S * 2^q toward zero into the accumulator format.
        if (s == 0) {
          st.ak = 0;
          st.ae = 0;
        } else {
          const std::uint64_t mag = static_cast<std::uint64_t>(s < 0 ? -s : s);
          const std::int64_t top = 63 - std::countl_zero(mag) + q;
          const std::int64_t lsb = std::max<std::int64_t>(top, fp.acc_emin) - fp.acc_man;
          const std::int64_t sh = lsb - q;
          const std::uint64_t kept = sh >= 0 ? (sh >= 64 ? 0 : mag >> sh) : mag << -sh;
          if (kept == 0 || top > fp.acc_emax ||
              (top == fp.acc_emax && kept > static_cast<std::uint64_t>(fp.acc_max_sig)))
            st.bad = true;
          st.ak = s < 0 ? -static_cast<std::int64_t>(kept) : static_cast<std::int64_t>(kept);
          st.ae = static_cast<int>(lsb);
        }
        if (g.promote_after) {
          st.p = promote_fp32(st.p, std::ldexp(static_cast<double>(st.ak), st.ae));
          if (!std::isfinite(st.p)) st.bad = true;
          st.ak = 0;
          st.ae = 0;
        }
      }
      f[r * kL + l] = fp.promote ? st.p : std::ldexp(static_cast<double>(st.ak), st.ae);
      bad[r * kL + l] = st.bad;
    }
}

// GCC 12 warns about the _mm512_undefined_* placeholders inside its own AVX-512 intrinsics
// (a false positive of -Wmaybe-uninitialized on the header code, not on ours).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// x * 2^xe cut toward zero to a multiple of 2^q, in units of 2^q.
__attribute__((target("avx512f,avx512cd,avx512dq"), always_inline)) inline __m512i cut8(__m512i x,
                                                                                        __m512i xe,
                                                                                        __m512i q) {
  const __m512i mag = _mm512_abs_epi64(x);
  const __m512i t = _mm512_or_si512(_mm512_sllv_epi64(mag, _mm512_sub_epi64(xe, q)),
                                    _mm512_srlv_epi64(mag, _mm512_sub_epi64(q, xe)));
  return _mm512_mask_sub_epi64(t, _mm512_movepi64_mask(x), _mm512_setzero_si512(), t);
}

// The same chain for kMr rows x 8 columns in int64 lanes. Variable shifts by 64 or more (or
// by a negative count, read as unsigned) give 0, as the scalar code's explicit tests do.
__attribute__((target("avx512f,avx512cd,avx512dq"))) void tile_avx512(
    const FusedParams& fp, const std::int32_t* const* as, const std::int32_t* const* ae,
    const std::int32_t* const* aal, const std::int32_t* bs, const std::int32_t* be,
    const std::int32_t* bal, const double* c, double* f, std::uint8_t* bad) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i c63 = _mm512_set1_epi64(63), emin = _mm512_set1_epi64(fp.acc_emin);
  const __m512i emax = _mm512_set1_epi64(fp.acc_emax), man = _mm512_set1_epi64(fp.acc_man);
  const __m512i maxsig = _mm512_set1_epi64(fp.acc_max_sig), w = _mm512_set1_epi64(fp.w);
  const __m512i none = _mm512_set1_epi64(kNoAlign);
  __m512i ak[kMr], aexp[kMr];
  __m512d p[kMr];
  __mmask8 isbad[kMr];
  for (std::size_t r = 0; r < kMr; ++r) {
    isbad[r] = 0;
    alignas(64) std::int64_t k0[kL], e0[kL];
    for (std::size_t l = 0; l < kL; ++l) {
      k0[l] = 0;
      e0[l] = 0;
      const double cv = c[r * kL + l];
      if (!std::isfinite(cv))
        isbad[r] = static_cast<__mmask8>(isbad[r] | (1u << l));
      else if (fp.c_first && cv != 0) {
        int ex;
        const double m = std::frexp(cv, &ex);
        k0[l] = static_cast<std::int64_t>(std::ldexp(m, 24));
        e0[l] = ex - 24;
      }
    }
    ak[r] = _mm512_load_si512(k0);
    aexp[r] = _mm512_load_si512(e0);
    p[r] = fp.c_promote ? _mm512_loadu_pd(c + r * kL) : _mm512_setzero_pd();
  }
  for (const FusedGroup& g : fp.groups) {
    const std::size_t k0 = g.start, k1 = g.start + g.len;
    __m512i e[kMr], s[kMr];
    for (std::size_t r = 0; r < kMr; ++r) {  // A joins when non-zero
      const __mmask8 a_in = _mm512_test_epi64_mask(ak[r], ak[r]);
      const __m512i top = _mm512_add_epi64(
          _mm512_sub_epi64(c63, _mm512_lzcnt_epi64(_mm512_abs_epi64(ak[r]))), aexp[r]);
      e[r] = _mm512_mask_max_epi64(none, a_in, top, emin);
    }
    for (std::size_t kp = k0; kp < k1; ++kp) {
      const __m512i bl =
          _mm512_cvtepi32_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(bal + kp * kL)));
      for (std::size_t r = 0; r < kMr; ++r)
        e[r] = _mm512_max_epi64(e[r], _mm512_add_epi64(bl, _mm512_set1_epi64(aal[r][kp])));
    }
    for (std::size_t r = 0; r < kMr; ++r) {
      e[r] = _mm512_sub_epi64(e[r], w);  // e is q from here on
      s[r] = cut8(ak[r], aexp[r], e[r]);
    }
    for (std::size_t kp = k0; kp < k1; ++kp) {
      const __m512i bsv =
          _mm512_cvtepi32_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(bs + kp * kL)));
      const __m512i bev =
          _mm512_cvtepi32_epi64(_mm256_load_si256(reinterpret_cast<const __m256i*>(be + kp * kL)));
      for (std::size_t r = 0; r < kMr; ++r) {
        const __m512i prod = _mm512_mul_epi32(bsv, _mm512_set1_epi64(as[r][kp]));
        const __m512i pe = _mm512_add_epi64(bev, _mm512_set1_epi64(ae[r][kp]));
        s[r] = _mm512_add_epi64(s[r], cut8(prod, pe, e[r]));
      }
    }
    for (std::size_t r = 0; r < kMr; ++r) {  // round S * 2^q toward zero into the acc format
      const __mmask8 nz = _mm512_test_epi64_mask(s[r], s[r]);
      const __m512i mag = _mm512_abs_epi64(s[r]);
      const __m512i top = _mm512_add_epi64(_mm512_sub_epi64(c63, _mm512_lzcnt_epi64(mag)), e[r]);
      const __m512i lsb = _mm512_sub_epi64(_mm512_max_epi64(top, emin), man);
      const __m512i sh = _mm512_sub_epi64(lsb, e[r]);
      const __m512i kept = _mm512_or_si512(_mm512_srlv_epi64(mag, sh),
                                           _mm512_sllv_epi64(mag, _mm512_sub_epi64(zero, sh)));
      const __mmask8 over = static_cast<__mmask8>(
          _mm512_cmpgt_epi64_mask(top, emax) |
          (_mm512_cmpeq_epi64_mask(top, emax) & _mm512_cmpgt_epi64_mask(kept, maxsig)));
      isbad[r] =
          static_cast<__mmask8>(isbad[r] | (nz & (_mm512_cmpeq_epi64_mask(kept, zero) | over)));
      ak[r] = _mm512_maskz_mov_epi64(
          nz, _mm512_mask_sub_epi64(kept, _mm512_movepi64_mask(s[r]), zero, kept));
      aexp[r] = _mm512_maskz_mov_epi64(nz, lsb);
      if (g.promote_after) {  // P = RNE_fp32(P + A): round to odd at 53 bits, then to fp32
        const __m512d a = _mm512_scalef_pd(_mm512_cvtepi64_pd(ak[r]), _mm512_cvtepi64_pd(aexp[r]));
        const __m512d sum = _mm512_add_pd(p[r], a);
        const __m512d bb = _mm512_sub_pd(sum, p[r]);
        const __m512d err =
            _mm512_add_pd(_mm512_sub_pd(p[r], _mm512_sub_pd(sum, bb)), _mm512_sub_pd(a, bb));
        const __m512i bits = _mm512_castpd_si512(sum);
        const __mmask8 fix =
            static_cast<__mmask8>(_mm512_cmpneq_pd_mask(err, _mm512_setzero_pd()) &
                                  _mm512_testn_epi64_mask(bits, _mm512_set1_epi64(1)));
        const __mmask8 away = static_cast<__mmask8>(
            ~(_mm512_movepi64_mask(_mm512_castpd_si512(err)) ^ _mm512_movepi64_mask(bits)));
        const __m512i one = _mm512_set1_epi64(1);
        const __m512i nudged = _mm512_mask_sub_epi64(_mm512_add_epi64(bits, one),
                                                     static_cast<__mmask8>(~away), bits, one);
        const __m512d d = _mm512_castsi512_pd(_mm512_mask_mov_epi64(bits, fix, nudged));
        p[r] = _mm512_cvtps_pd(_mm512_cvtpd_ps(d));
        isbad[r] =
            static_cast<__mmask8>(isbad[r] | _mm512_fpclass_pd_mask(p[r], 0x99));  // NaN, Inf
        ak[r] = zero;
        aexp[r] = zero;
      }
    }
  }
  for (std::size_t r = 0; r < kMr; ++r) {
    const __m512d out =
        fp.promote ? p[r]
                   : _mm512_scalef_pd(_mm512_cvtepi64_pd(ak[r]), _mm512_cvtepi64_pd(aexp[r]));
    _mm512_storeu_pd(f + r * kL, out);
    for (std::size_t l = 0; l < kL; ++l) bad[r * kL + l] = (isbad[r] >> l) & 1;
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

bool decode_fused(const MxMatrix& m, const OpTable& t, const std::vector<std::uint32_t>& perm,
                  std::size_t lanes, std::vector<std::int32_t>* sig, std::vector<std::int32_t>* ex,
                  std::vector<std::int32_t>* al) {
  // lanes == 0: row-major [row][kp]; else panels [row / lanes][kp][lanes], padded with zeros.
  const std::size_t k = m.k, nb = m.blocks_per_row();
  const std::size_t rows = lanes ? (m.rows + lanes - 1) / lanes * lanes : m.rows;
  sig->assign(rows * k, 0);
  ex->assign(rows * k, 0);
  al->assign(rows * k, static_cast<std::int32_t>(kNoAlign));
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t kp = 0; kp < k; ++kp) {
      const std::size_t kk = perm[kp];
      const OpElem o = t(m.codes[r * k + kk]);
      int s = 0;
      if (m.block > 0) {
        s = scale_exp(m.scales[r * nb + kk / static_cast<std::size_t>(m.block)]);
        if (s == kNanScale) return false;
      }
      if (o.cls != NumClass::kFinite) return false;
      const std::size_t at = lanes ? ((r / lanes) * k + kp) * lanes + r % lanes : r * k + kp;
      if (o.sig == 0) continue;
      (*sig)[at] = o.neg ? -static_cast<std::int32_t>(o.sig) : static_cast<std::int32_t>(o.sig);
      (*ex)[at] = o.lsb + s;
      (*al)[at] = o.align + s;
    }
  return true;
}

void gemm_fused(const FusedParams& fp, const FusedOperands& ops, std::size_t m, std::size_t n,
                const std::vector<float>& c0, int threads, GemmIsa isa, double* f,
                std::uint8_t* bad) {
  const bool avx512 = resolve_isa(isa) == GemmIsa::kAvx512;
  const std::size_t k = ops.k, np = (n + kL - 1) / kL, mp = (m + kMr - 1) / kMr;
  parallel_for(mp, threads, [&](std::size_t p0, std::size_t p1) {
    std::vector<std::int32_t> pad_sig(k, 0), pad_ex(k, 0),
        pad_al(k, static_cast<std::int32_t>(kNoAlign));
    alignas(64) double cbuf[kMr * kL], fbuf[kMr * kL];
    std::uint8_t bbuf[kMr * kL];
    for (std::size_t ip = p0; ip < p1; ++ip) {
      const std::int32_t *as[kMr], *ae[kMr], *aal[kMr];
      for (std::size_t r = 0; r < kMr; ++r) {
        const std::size_t i = ip * kMr + r;
        as[r] = i < m ? ops.a_sig.data() + i * k : pad_sig.data();
        ae[r] = i < m ? ops.a_exp.data() + i * k : pad_ex.data();
        aal[r] = i < m ? ops.a_al.data() + i * k : pad_al.data();
      }
      for (std::size_t jp = 0; jp < np; ++jp) {
        for (std::size_t r = 0; r < kMr; ++r)
          for (std::size_t l = 0; l < kL; ++l) {
            const std::size_t i = ip * kMr + r, j = jp * kL + l;
            cbuf[r * kL + l] =
                !c0.empty() && i < m && j < n ? static_cast<double>(c0[i * n + j]) : 0.0;
          }
        const std::size_t off = jp * k * kL;
        (avx512 ? tile_avx512 : tile_scalar)(fp, as, ae, aal, ops.b_sig.data() + off,
                                             ops.b_exp.data() + off, ops.b_al.data() + off, cbuf,
                                             fbuf, bbuf);
        for (std::size_t r = 0; r < kMr; ++r)
          for (std::size_t l = 0; l < kL; ++l) {
            const std::size_t i = ip * kMr + r, j = jp * kL + l;
            if (i < m && j < n) {
              f[i * n + j] = fbuf[r * kL + l];
              bad[i * n + j] = bbuf[r * kL + l];
            }
          }
      }
    }
  });
}

}  // namespace mx::gemm_detail
