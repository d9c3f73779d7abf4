#include "algorithms/qat.hpp"

#include <algorithm>
#include <cmath>

namespace mx::algo {

SteResult fake_quant_ste(const Quantizer& q, const Mat& w) {
  SteResult r;
  r.wq.resize(w.rows(), w.cols());
  r.mask.resize(w.rows(), w.cols());
  const Index k = w.cols(), g = q.group_cols(k);
  std::vector<RowParams> tensor_params;
  if (q.spec().kind == QuantKind::kIntTensor) tensor_params = q.find_params(w, 0, k);
  for (Index row = 0; row < w.rows(); ++row) {
    for (Index c0 = 0; c0 < k; c0 += g) {
      const Index n = std::min(g, k - c0);
      const RowParams p = tensor_params.empty() ? q.find_params_row(&w(row, c0), n, w.outerStride())
                                                : tensor_params[static_cast<std::size_t>(row)];
      const double lim = q.max_magnitude(p);
      for (Index c = c0; c < c0 + n; ++c) {
        r.wq(row, c) = q.quantize(w(row, c), p);
        r.mask(row, c) = std::fabs(w(row, c)) <= lim ? 1.0 : 0.0;
      }
    }
  }
  return r;
}

QatResult qat_linear(const Mat& w_teacher, const Mat& x, const Quantizer& q,
                     const QatOptions& opt) {
  QatResult res;
  const Mat y_t = x * w_teacher.transpose();
  const double denom = double(y_t.size());
  const double step = opt.lr * w_teacher.cwiseAbs().mean();
  Mat w = w_teacher;
  Mat m = Mat::Zero(w.rows(), w.cols()), v = Mat::Zero(w.rows(), w.cols());
  double best = std::numeric_limits<double>::infinity();
  double b1t = 1, b2t = 1;
  for (int it = 0; it <= opt.steps; ++it) {
    const SteResult f = fake_quant_ste(q, w);
    const Mat e = x * f.wq.transpose() - y_t;  // T x R
    const double loss = e.squaredNorm() / denom;
    res.history.push_back(loss);
    if (it == 0) res.loss_rtn = loss;
    if (loss < best) {
      best = loss;
      res.w_q = f.wq;
    }
    if (it == opt.steps) break;
    // dL/dQ(W) = 2/n E^T X; STE: through Q inside the range, zero where saturated.
    const Mat grad = (2.0 / denom) * (e.transpose() * x).cwiseProduct(f.mask);
    b1t *= opt.beta1;
    b2t *= opt.beta2;
    m = opt.beta1 * m + (1 - opt.beta1) * grad;
    v = opt.beta2 * v + (1 - opt.beta2) * grad.cwiseAbs2();
    const Mat mh = m / (1 - b1t);
    const Mat vh = v / (1 - b2t);
    w.array() -= step * mh.array() / (vh.array().sqrt() + 1e-12);
  }
  res.w_latent = w;
  res.loss_qat = best;
  return res;
}

}  // namespace mx::algo
