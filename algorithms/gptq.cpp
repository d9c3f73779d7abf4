#include "algorithms/gptq.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

namespace mx::algo {

Mat hessian(const Mat& x) {
  const Index k = x.cols();
  Mat h = Mat::Zero(k, k);
  h.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose(), 2.0 / double(x.rows()));
  h.triangularView<Eigen::StrictlyUpper>() = h.transpose();
  return h;
}

namespace {

void invert_lower_in_place(Eigen::Ref<Mat> l) {
  const Index n = l.rows();
  if (n <= 48) {
    Mat inv = Mat::Identity(n, n);
    l.triangularView<Eigen::Lower>().solveInPlace(inv);
    l = inv;
    return;
  }
  // [A 0; B C]^-1 = [A^-1 0; -C^-1 B A^-1  C^-1]
  const Index n1 = n / 2, n2 = n - n1;
  invert_lower_in_place(l.topLeftCorner(n1, n1));
  invert_lower_in_place(l.bottomRightCorner(n2, n2));
  Mat b = l.bottomLeftCorner(n2, n1);
  Mat t = l.bottomRightCorner(n2, n2).triangularView<Eigen::Lower>() * b;
  l.bottomLeftCorner(n2, n1).noalias() =
      -(t * l.topLeftCorner(n1, n1).triangularView<Eigen::Lower>());
  l.topRightCorner(n1, n2).setZero();
}

}  // namespace

Mat invert_lower(const Mat& l) {
  Mat out = l;
  invert_lower_in_place(out);
  return out;
}

Mat inverse_cholesky_upper(const Mat& h) {
  const Index k = h.rows();
  const Mat rev = h.reverse();  // J H J
  Eigen::LLT<Mat> llt(rev);
  if (llt.info() != Eigen::Success)
    throw SingularHessian("Hessian is not positive definite (Cholesky failed)");
  Mat m = llt.matrixL();
  // A pivot at rounding-error level means a singular H that rounding made look positive.
  const double dmax = h.diagonal().cwiseAbs().maxCoeff();
  const double tol = 64.0 * std::numeric_limits<double>::epsilon() * dmax;
  for (Index i = 0; i < k; ++i) {
    if (!(m(i, i) * m(i, i) > tol))
      throw SingularHessian(
          fmt::format("Hessian is singular to working precision (pivot {} of {})", k - 1 - i, k));
  }
  invert_lower_in_place(m);
  return m.reverse();  // J M^-1 J, upper triangular
}

GptqResult gptq_quantize(const Mat& w_in, const Mat& h_in, const Quantizer& quant,
                         const GptqOptions& opt) {
  const Index rows = w_in.rows(), k = w_in.cols();
  if (h_in.rows() != k || h_in.cols() != k)
    throw std::invalid_argument(fmt::format("gptq: Hessian is {}x{}, weights have {} columns",
                                            h_in.rows(), h_in.cols(), k));
  GptqResult res;
  Mat w = w_in;
  Mat h = h_in;
  // Dead inputs (P3): an input that is never active gets H_jj = 1 and a zero weight column.
  for (Index j = 0; j < k; ++j) {
    if (h(j, j) == 0) {
      h(j, j) = 1;
      w.col(j).setZero();
      ++res.dead_columns;
    }
  }
  const Index gs = quant.group_cols(k);
  const bool whole_row = quant.whole_row_params() || !quant.enabled();
  // Parameters found before any update: per tensor / channel always, every group with
  // act-order (static groups, variant C).
  std::vector<std::vector<RowParams>> static_params;
  if (whole_row) {
    static_params.push_back(quant.find_params(w, 0, k));
  } else if (opt.act_order) {
    for (Index c0 = 0; c0 < k; c0 += gs)
      static_params.push_back(quant.find_params(w, c0, std::min(gs, k - c0)));
  }
  std::vector<Index> perm(static_cast<std::size_t>(k));
  std::iota(perm.begin(), perm.end(), Index{0});
  if (opt.act_order) {
    const Vec d = h.diagonal();
    std::stable_sort(perm.begin(), perm.end(), [&](Index a, Index b) { return d(a) > d(b); });
    Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, Index> p(k);
    for (Index i = 0; i < k; ++i) p.indices()(i) = perm[static_cast<std::size_t>(i)];
    w = w * p;  // column i of the result = column perm[i]
    h = p.transpose() * h * p;
  }

  // Damping, raised geometrically on failure when it is on at all (P2).
  const double mean_diag = h.diagonal().mean();
  double damp = opt.damp;
  Mat u;
  for (int attempt = 0;; ++attempt) {
    Mat hd = h;
    const double lambda = damp * mean_diag;
    hd.diagonal().array() += lambda;
    try {
      u = inverse_cholesky_upper(hd);
      res.lambda = lambda;
      res.damp_used = damp;
      break;
    } catch (const SingularHessian& e) {
      if (damp <= 0)
        throw SingularHessian(
            fmt::format("{}; without damping the calibration data must span "
                        "every input (use damp > 0)",
                        e.what()));
      if (attempt >= opt.damp_retries)
        throw SingularHessian(fmt::format("{} even with damping {}", e.what(), damp));
      damp *= 10;
    }
  }

  // Lazy batch: a multiple of the group, so a group never straddles two batches.
  Index bsz = std::max<Index>(1, opt.block);
  if (!whole_row) bsz = gs >= bsz ? gs : (bsz / gs) * gs;
  res.lazy_block = bsz;
  Mat q(rows, k);
  Mat w1, err1;
  Vec e(rows);
  const std::vector<RowParams>* params = whole_row ? &static_params[0] : nullptr;
  std::vector<RowParams> dyn;
  double loss = 0;
  for (Index i1 = 0; i1 < k; i1 += bsz) {
    const Index i2 = std::min(i1 + bsz, k), n = i2 - i1;
    w1 = w.middleCols(i1, n);
    err1.resize(rows, n);
    for (Index i = 0; i < n; ++i) {
      const Index c = i1 + i;
      if (!whole_row) {
        if (opt.act_order) {
          params = &static_params[static_cast<std::size_t>(perm[static_cast<std::size_t>(c)] / gs)];
        } else if (c % gs == 0) {
          // Variant B: from the current values of the whole block, all inside w1.
          dyn = quant.find_params(w1, i, std::min(gs, n - i));
          params = &dyn;
        }
      }
      const double d = u(c, c);
      for (Index r = 0; r < rows; ++r) {
        const double wv = w1(r, i);
        const double qv = quant.quantize(wv, (*params)[static_cast<std::size_t>(r)], &res.counts);
        q(r, c) = qv;
        const double diff = wv - qv;
        loss += diff * diff / (2 * d * d);
        e(r) = diff / d;
      }
      err1.col(i) = e;
      const Index m = n - i - 1;
      if (m > 0) w1.rightCols(m).noalias() -= e * u.row(c).segment(c + 1, m);
    }
    if (i2 < k) w.rightCols(k - i2).noalias() -= err1 * u.block(i1, i2, n, k - i2);
  }
  res.loss = loss;
  if (opt.act_order) {
    res.q.resize(rows, k);
    for (Index i = 0; i < k; ++i) res.q.col(perm[static_cast<std::size_t>(i)]) = q.col(i);
  } else {
    res.q = std::move(q);
  }
  return res;
}

}  // namespace mx::algo
