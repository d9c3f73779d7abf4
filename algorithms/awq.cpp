#include "algorithms/awq.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "algorithms/smoothquant.hpp"

namespace mx::algo {

AwqResult awq_search_scales(const Mat& x, const Mat& w, const Quantizer& wq, const Quantizer& aq,
                            const AwqOptions& opt) {
  if (x.cols() != w.cols()) throw std::invalid_argument("awq: X and W columns differ");
  const Index t = x.rows(), k = x.cols();
  const Index stride = std::max<Index>(1, opt.max_tokens > 0 ? t / opt.max_tokens : 1);
  const Index ts = (t + stride - 1) / stride;
  Mat xs(ts, k);
  for (Index i = 0; i < ts; ++i) xs.row(i) = x.row(i * stride);
  const Mat y_ref = xs * w.transpose();
  const Vec xmean = x.cwiseAbs().colwise().mean().transpose();
  const bool use_aq = opt.quantize_acts && aq.enabled();

  AwqResult res;
  res.scales = Vec::Ones(k);
  double best = std::numeric_limits<double>::infinity();
  for (int g = 0; g < std::max(1, opt.grid); ++g) {
    const double ratio = double(g) / double(std::max(1, opt.grid));
    Vec s(k);
    for (Index j = 0; j < k; ++j) s(j) = std::max(std::pow(xmean(j), ratio), 1e-4);
    // Normalise around 1 (the reference). The epsilon-free division is safe: s >= 1e-4 (P8).
    s /= std::sqrt(s.maxCoeff() * s.minCoeff());
    if (ratio == 0) s.setOnes();  // exactly the identity (sqrt(1*1) = 1 already; be explicit)
    if (opt.pow2) s = round_pow2(s);
    Mat ws = w * s.asDiagonal();
    Mat xq = xs * s.cwiseInverse().asDiagonal();
    if (use_aq) xq = aq.quantize_rows(xq);
    const Mat y = xq * wq.quantize_rows(ws).transpose();
    const double loss = (y_ref - y).squaredNorm() / double(y.size());
    if (!std::isfinite(loss))
      throw std::runtime_error(fmt::format("awq: non-finite loss at ratio {}", ratio));
    res.losses.push_back(loss);
    if (g == 0) res.loss_identity = loss;
    if (loss < best) {
      best = loss;
      res.best_ratio = ratio;
      res.scales = s;
    }
  }
  res.loss_best = best;
  return res;
}

Mat awq_clip(const Mat& x, const Mat& w, const Quantizer& wq, const AwqOptions& opt,
             AwqResult* res) {
  Mat out = w;
  if (!wq.enabled() || wq.spec().kind == QuantKind::kIntTensor) return out;
  const Index t = x.rows(), k = x.cols(), rows = w.rows();
  const Index gs = wq.group_cols(k);
  const int steps = std::max(1, static_cast<int>(opt.max_shrink * opt.clip_grid));
  double before = 0, after = 0;
  std::vector<double> wc(static_cast<std::size_t>(gs)), d(static_cast<std::size_t>(gs));
  for (Index c0 = 0; c0 < k; c0 += gs) {
    const Index n = std::min(gs, k - c0);
    const Mat g = x.middleCols(c0, n).transpose() * x.middleCols(c0, n) / double(t);
    for (Index r = 0; r < rows; ++r) {
      double m0 = 0;
      for (Index j = 0; j < n; ++j) m0 = std::max(m0, std::fabs(w(r, c0 + j)));
      double best_err = std::numeric_limits<double>::infinity(), best_m = m0;
      for (int i = 0; i < steps; ++i) {
        const double m = m0 * (1.0 - double(i) / double(opt.clip_grid));
        for (Index j = 0; j < n; ++j)
          wc[static_cast<std::size_t>(j)] = std::clamp(w(r, c0 + j), -m, m);
        const RowParams p = wq.find_params_row(wc.data(), n, 1);
        for (Index j = 0; j < n; ++j)
          d[static_cast<std::size_t>(j)] =
              wq.quantize(wc[static_cast<std::size_t>(j)], p) - w(r, c0 + j);
        const Eigen::Map<const Vec> dv(d.data(), n);
        const double err = dv.dot(g * dv);
        if (i == 0) before += err;
        if (err < best_err) {
          best_err = err;
          best_m = m;
        }
      }
      after += best_err;
      for (Index j = 0; j < n; ++j) out(r, c0 + j) = std::clamp(w(r, c0 + j), -best_m, best_m);
    }
  }
  if (res) {
    res->clip_err_before = before;
    res->clip_err_after = after;
  }
  return out;
}

}  // namespace mx::algo
