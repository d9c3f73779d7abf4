#include "algorithms/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mx::algo {

double mean_softmax_kl(const Mat& x, const Mat& xq) {
  double total = 0;
  for (Index r = 0; r < x.rows(); ++r) {
    const double mx = x.row(r).maxCoeff(), mq = xq.row(r).maxCoeff();
    double zx = 0, zq = 0;
    for (Index c = 0; c < x.cols(); ++c) {
      zx += std::exp(x(r, c) - mx);
      zq += std::exp(xq(r, c) - mq);
    }
    const double lzx = std::log(zx) + mx, lzq = std::log(zq) + mq;
    double kl = 0;
    for (Index c = 0; c < x.cols(); ++c) {
      const double lp = x(r, c) - lzx, lq = xq(r, c) - lzq;
      kl += std::exp(lp) * (lp - lq);
    }
    total += std::max(kl, 0.0);
  }
  return x.rows() ? total / double(x.rows()) : 0.0;
}

ErrorStats error_stats(const Mat& x, const Mat& xq) {
  if (x.rows() != xq.rows() || x.cols() != xq.cols())
    throw std::invalid_argument("error_stats: shapes differ");
  ErrorStats s;
  double sx = 0, se = 0, sq = 0, dot = 0;
  for (Index c = 0; c < x.cols(); ++c) {
    for (Index r = 0; r < x.rows(); ++r) {
      const double a = x(r, c), b = xq(r, c), e = a - b;
      sx += a * a;
      sq += b * b;
      se += e * e;
      dot += a * b;
      s.max_abs_error = std::max(s.max_abs_error, std::fabs(e));
      s.max_rel_error = std::max(s.max_rel_error, std::fabs(e) / std::max(std::fabs(a), 1e-30));
    }
  }
  const double n = double(x.size());
  s.mse = n > 0 ? se / n : 0.0;
  s.sqnr_db = se > 0 ? 10.0 * std::log10(sx / se) : std::numeric_limits<double>::infinity();
  s.cosine = (sx > 0 && sq > 0) ? dot / (std::sqrt(sx) * std::sqrt(sq)) : 0.0;
  s.rel_fro = sx > 0 ? std::sqrt(se / sx) : 0.0;
  s.kl_divergence = mean_softmax_kl(x, xq);
  return s;
}

}  // namespace mx::algo
