#include "experiments/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "algorithms/metrics.hpp"

namespace mx::experiments {
namespace {

// Neumaier's compensated sum: the statistics of millions of squares stay accurate to a few
// ulps, independent of the tensor size.
struct Sum {
  double s = 0, c = 0;
  void add(double v) {
    const double t = s + v;
    c += std::fabs(s) >= std::fabs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  double value() const { return s + c; }
};

// Histogram bin of r = |e|/|x| >= 0: bin j holds [2^(j-33), 2^(j-32)), bin 0 everything below
// 2^-32, bin 33 everything from 1 up. floor(log2 r) is read exactly from r's exponent field
// (r >= 2^-32 is a normal double).
int hist_bin(double r) {
  if (!(r >= 0x1p-32)) return 0;
  if (r >= 1) return kHistBins - 1;
  const int k = static_cast<int>((std::bit_cast<std::uint64_t>(r) >> 52) & 0x7FF) - 1023;  // <= -1
  return k + 33;
}

// Log-sum-exp of a row, with exp(v - max) kept in `ex` and their sum in `*sum`.
double lse(const double* v, std::size_t len, std::vector<double>& ex, double* sum) {
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < len; ++i) mx = std::max(mx, v[i]);
  Sum s;
  ex.resize(len);
  for (std::size_t i = 0; i < len; ++i) {
    ex[i] = std::exp(v[i] - mx);
    s.add(ex[i]);
  }
  *sum = s.value();
  return mx + std::log(*sum);
}

template <typename T>
double mean_kl_softmax(const T* x, const T* q, std::size_t n, std::size_t row_len) {
  if (row_len == 0 || n == 0) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> xr(row_len), qr(row_len), ex, eq;
  Sum total;
  std::size_t rows = 0;
  for (std::size_t r0 = 0; r0 + row_len <= n; r0 += row_len) {
    bool finite = true;
    for (std::size_t i = 0; i < row_len; ++i) {
      xr[i] = static_cast<double>(x[r0 + i]);
      qr[i] = static_cast<double>(q[r0 + i]);
      finite = finite && std::isfinite(xr[i]) && std::isfinite(qr[i]);
    }
    if (!finite) continue;  // a row with NaN/Inf has no softmax
    double sx = 0, sq = 0;
    const double lx = lse(xr.data(), row_len, ex, &sx);
    const double lq = lse(qr.data(), row_len, eq, &sq);
    // KL(p || p') = sum p (ln p - ln p') = sum p (x - q) - (lse(x) - lse(q)), since sum p = 1.
    Sum s;
    for (std::size_t i = 0; i < row_len; ++i) s.add(ex[i] / sx * (xr[i] - qr[i]));
    s.add(-(lx - lq));
    total.add(std::max(0.0, s.value()));
    ++rows;
  }
  return rows ? total.value() / static_cast<double>(rows)
              : std::numeric_limits<double>::quiet_NaN();
}

template <typename T>
Stats compute(const T* x, const T* q, const std::uint32_t* codes, std::size_t n,
              std::size_t row_len, const ElemFormat& elem) {
  Stats st;
  Sum sx2, se2, sxq, sq2;
  std::size_t m = 0, nonzero = 0, under = 0, kernel = 0, nonfinite = 0, sat = 0;
  const std::uint32_t mag_mask = elem.code_mask() & ~elem.sign_mask();
  const std::uint32_t max_mag = elem.max_magnitude_code();
  // The extreme codes: +-max for floats; +max and the most negative code for integers.
  auto extreme = [&](std::uint32_t c) {
    if (elem.is_int()) return c == max_mag || c == elem.sign_mask();
    return (c & mag_mask) == max_mag;
  };
  // Plain sums over chunks of 1024 elements (error ~1e-13 relative), compensated across chunks.
  constexpr std::size_t kChunk = 1024;
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t c1 = std::min(n, c0 + kChunk);
    double cx2 = 0, ce2 = 0, cxq = 0, cq2 = 0;
    for (std::size_t i = c0; i < c1; ++i) {
      const double xv = static_cast<double>(x[i]), qv = static_cast<double>(q[i]);
      if (qv == 0) ++kernel;
      if (!std::isfinite(qv)) {
        ++nonfinite;
        continue;
      }
      if (!std::isfinite(xv)) continue;
      ++m;
      const double e = xv - qv;
      const double ae = std::fabs(e);
      cx2 += xv * xv;
      ce2 += e * e;
      cxq += xv * qv;
      cq2 += qv * qv;
      st.max_abs_err = std::max(st.max_abs_err, ae);
      if (xv != 0) {
        ++nonzero;
        if (qv == 0) ++under;
        const double r = ae / std::fabs(xv);
        st.max_rel_err = std::max(st.max_rel_err, r);
        ++st.hist[static_cast<std::size_t>(hist_bin(r))];
      }
      if (codes && std::fabs(xv) > std::fabs(qv) && extreme(codes[i])) ++sat;
    }
    sx2.add(cx2);
    se2.add(ce2);
    sxq.add(cxq);
    sq2.add(cq2);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double ex2 = sx2.value(), ee2 = se2.value(), eq2 = sq2.value();
  st.mse = m ? ee2 / static_cast<double>(m) : nan;
  // algorithms/metrics.hpp's convention; NaN when no element could be compared.
  st.sqnr_db = m ? algo::sqnr_db(ex2, ee2) : nan;
  st.cosine = algo::cosine_similarity(sxq.value(), ex2, eq2);
  st.kl_softmax = mean_kl_softmax(x, q, n, row_len);
  const double dn = n ? static_cast<double>(n) : 1.0;
  st.saturation_pct = 100.0 * static_cast<double>(sat) / dn;
  st.kernel_pct = 100.0 * static_cast<double>(kernel) / dn;
  st.nonfinite_pct = 100.0 * static_cast<double>(nonfinite) / dn;
  st.underflow_pct =
      nonzero ? 100.0 * static_cast<double>(under) / static_cast<double>(nonzero) : 0.0;
  return st;
}

}  // namespace

Stats compute_stats(const float* x, const float* q, const std::uint32_t* codes, std::size_t n,
                    std::size_t row_len, const ElemFormat& elem) {
  return compute(x, q, codes, n, row_len, elem);
}
Stats compute_stats(const double* x, const double* q, const std::uint32_t* codes, std::size_t n,
                    std::size_t row_len, const ElemFormat& elem) {
  return compute(x, q, codes, n, row_len, elem);
}

}  // namespace mx::experiments
