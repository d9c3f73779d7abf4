#include "algorithms/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mx::algo {

double sqnr_db(double ref2, double err2) {
  if (err2 == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(ref2 / err2);
}

double cosine_similarity(double dot, double ref2, double q2) {
  if (ref2 == 0 && q2 == 0) return 1.0;
  if (ref2 == 0 || q2 == 0) return 0.0;
  return dot / (std::sqrt(ref2) * std::sqrt(q2));
}

double rel_fro_error(double ref2, double err2) {
  if (err2 == 0) return 0.0;
  return std::sqrt(err2 / ref2);
}

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
  s.sqnr_db = sqnr_db(sx, se);
  s.cosine = cosine_similarity(dot, sx, sq);
  s.rel_fro = rel_fro_error(sx, se);
  s.kl_divergence = mean_softmax_kl(x, xq);
  return s;
}

}  // namespace mx::algo
