#include "algorithms/crossquant.hpp"

#include <algorithm>
#include <cmath>

namespace mx::algo {

CrossQuantResult crossquant(const Mat& x, int bits, double alpha, const Vec* static_colmax,
                            Rounding rounding) {
  const Index t = x.rows(), k = x.cols();
  const double qmax = std::ldexp(1.0, bits - 1) - 1;
  const Vec rowmax = x.cwiseAbs().rowwise().maxCoeff();
  const Vec colmax =
      static_colmax ? *static_colmax : Vec(x.cwiseAbs().colwise().maxCoeff().transpose());
  Vec tp(t), cp(k);
  for (Index i = 0; i < t; ++i) tp(i) = std::pow(rowmax(i), alpha);
  for (Index j = 0; j < k; ++j) cp(j) = std::pow(colmax(j), 1.0 - alpha);
  CrossQuantResult res;
  res.xq.resize(t, k);
  for (Index j = 0; j < k; ++j) {
    for (Index i = 0; i < t; ++i) {
      const double v = x(i, j);
      const double delta = tp(i) * cp(j) / qmax;
      double q = 0;
      bool sat = false;
      if (delta > 0) {
        const double r = round_int(v / delta, rounding);
        const double c = std::clamp(r, -qmax, qmax);
        sat = c != r;
        q = c * delta;
        if (q == 0) q = 0;  // no -0 in an integer format
      }
      res.xq(i, j) = q;
      ++res.counts.total;
      res.counts.saturated += sat;
      res.counts.underflow += (v != 0 && q == 0);
    }
  }
  return res;
}

double kernel_proportion(const Mat& x, const Mat& xq) {
  std::size_t n = 0;
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < x.rows(); ++i) n += (x(i, j) != 0 && xq(i, j) == 0);
  return x.size() ? double(n) / double(x.size()) : 0.0;
}

}  // namespace mx::algo
