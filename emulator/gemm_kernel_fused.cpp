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
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "emulator/gemm_blocked.hpp"

namespace mx::gemm_detail {
namespace {

constexpr std::size_t kL = 8;   // outputs (columns) per lane group
constexpr std::size_t kMr = 4;  // rows per tile

// P + A rounded once to fp32 with nearest-even (exact sum rounded to odd at 53 bits first).
inline double promote_fp32(double p, double a) {
  const double s = p + a;
  const double bb = s - p;
  const double err = (p - (s - bb)) + (a - bb);
  double d = s;
  if (err != 0) {
    std::uint64_t bits = std::bit_cast<std::uint64_t>(s);
    if ((bits & 1) == 0) {
      // one ulp toward the error: away from zero when err has s's sign, else toward zero
      bits += (std::signbit(err) == std::signbit(s)) ? 1 : std::uint64_t(-1);
      d = std::bit_cast<double>(bits);
    }
  }
  return static_cast<double>(static_cast<float>(d));
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
      if (fp.c_first && cv != 0) {  // A starts as C (an fp32 value: 24-bit significand)
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
          const int top = 63 - std::countl_zero(static_cast<std::uint64_t>(std::abs(st.ak))) + st.ae;
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
  (void)isa;
  const std::size_t k = ops.k, np = (n + kL - 1) / kL, mp = (m + kMr - 1) / kMr;
  parallel_for(mp, threads, [&](std::size_t p0, std::size_t p1) {
    std::vector<std::int32_t> pad_sig(k, 0), pad_ex(k, 0), pad_al(k, static_cast<std::int32_t>(kNoAlign));
    double cbuf[kMr * kL], fbuf[kMr * kL];
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
            cbuf[r * kL + l] = !c0.empty() && i < m && j < n ? static_cast<double>(c0[i * n + j]) : 0.0;
          }
        const std::size_t off = jp * k * kL;
        tile_scalar(fp, as, ae, aal, ops.b_sig.data() + off, ops.b_exp.data() + off,
                    ops.b_al.data() + off, cbuf, fbuf, bbuf);
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
