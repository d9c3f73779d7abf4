#include "algorithms/smoothquant.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mx::algo {

Vec round_pow2(const Vec& s) {
  Vec out(s.size());
  for (Index j = 0; j < s.size(); ++j) {
    int e = 0;
    const double m = std::frexp(s(j), &e);  // s = m 2^e, m in [0.5, 1)
    // log2 s = e + log2 m; round to the nearest integer: m >= sqrt(1/2) rounds up to 2^e.
    out(j) = std::ldexp(1.0, m >= std::sqrt(0.5) ? e : e - 1);
  }
  return out;
}

Vec smoothquant_factors(const Mat& x, const Mat& w, const SmoothQuantOptions& opt) {
  if (x.cols() != w.cols()) throw std::invalid_argument("smoothquant: X and W columns differ");
  const Index k = x.cols();
  Vec s(k);
  for (Index j = 0; j < k; ++j) {
    const double a = x.col(j).cwiseAbs().maxCoeff();
    const double wm = std::max(w.col(j).cwiseAbs().maxCoeff(), 1e-5);
    s(j) = std::max(std::pow(a, opt.alpha) / std::pow(wm, 1.0 - opt.alpha), 1e-5);
  }
  return opt.pow2 ? round_pow2(s) : s;
}

void apply_smoothing(Mat& x, Mat& w, const Vec& s) {
  for (Index j = 0; j < s.size(); ++j) {
    x.col(j) /= s(j);
    w.col(j) *= s(j);
  }
}

}  // namespace mx::algo
