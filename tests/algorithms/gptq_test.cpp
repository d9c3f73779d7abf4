// GPTQ: the inverse-Hessian factor, the OBS loss identity, lazy batching, the MX variant B
// against a brute-force sequential implementation, GPTQ == RTN when H is diagonal, GPTQ beats
// RTN on correlated data for every MX format, and the singular-Hessian policy.
#include <cstring>

#include <gtest/gtest.h>

#include "algorithms/gptq.hpp"
#include "algorithms/rtn.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

const char* const kMxFormats[] = {"mxint8",     "mxint4",     "mxfp8_e4m3", "mxfp8_e5m2",
                                  "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1"};

Quantizer make(const std::string& name, int block = 32) {
  return Quantizer(parse_quant_spec(name, block, 0, RoundSpec{}, ScaleRule::kFloor));
}

double out_err(const Mat& x, const Mat& w, const Mat& q) {
  return (x * (w - q).transpose()).squaredNorm();
}

TEST(Gptq, InverseCholeskyFactor) {
  const Mat x = testing::gaussian(300, 150, 5);
  const Mat h = hessian(x) + 0.01 * Mat::Identity(150, 150);
  const Mat u = inverse_cholesky_upper(h);
  EXPECT_TRUE(u.isUpperTriangular());
  EXPECT_LT((u.transpose() * u * h - Mat::Identity(150, 150)).norm(), 1e-9);
  const Mat l = Mat(h.llt().matrixL());
  EXPECT_LT((invert_lower(l) * l - Mat::Identity(150, 150)).norm(), 1e-10);
}

TEST(Gptq, HessianIsTwoOverTXtX) {
  const Mat x = testing::gaussian(40, 12, 6);
  EXPECT_LT((hessian(x) - (2.0 / 40) * x.transpose() * x).norm(), 1e-12);
}

// Sum of the per-column losses = |X (W - Q)^T|_F^2 / T + lambda/2 |W - Q|_F^2 (the damped
// quadratic), whatever the lazy batch and the quantizer.
TEST(Gptq, LossIdentityAndLazyBatchInvariance) {
  const Index k = 96, t = 400;
  const Mat x = testing::llm_activations(t, k, 7, 4.0, 31);
  const Mat w = testing::gaussian(24, k, 8);
  const Mat h = hessian(x);
  for (const char* fmt : {"mxint4", "mxfp4_e2m1", "int4_g32"}) {
    const Quantizer q = make(fmt);
    Mat first;
    for (Index b : {Index(1), Index(32), Index(64), Index(128), k}) {
      GptqOptions o;
      o.damp = 1e-6;
      o.block = b;
      const GptqResult r = gptq_quantize(w, h, q, o);
      const Mat d = w - r.q;
      const double want =
          (x * d.transpose()).squaredNorm() / double(t) + r.lambda / 2 * d.squaredNorm();
      EXPECT_NEAR(r.loss, want, 1e-9 * want) << fmt << " B=" << b;
      if (first.size() == 0) {
        first = r.q;
      } else {
        // Lazy batching is the same computation reassociated: identical up to rare ties (and,
        // for integer groups, whose step amax/7 is not a power of two, up to rounding).
        const double diff =
            double(((first - r.q).array().abs() > 1e-9 * w.cwiseAbs().maxCoeff()).count()) /
            double(first.size());
        EXPECT_LE(diff, 0.002) << fmt << " B=" << b;
      }
    }
  }
}

TEST(Gptq, LossIdentityWithActOrder) {
  const Index k = 64, t = 300;
  const Mat x = testing::llm_activations(t, k, 9, 8.0, 13);
  const Mat w = testing::gaussian(16, k, 10);
  GptqOptions o;
  o.damp = 1e-6;
  o.act_order = true;
  const GptqResult r = gptq_quantize(w, hessian(x), make("mxint4"), o);
  const Mat d = w - r.q;
  const double want =
      (x * d.transpose()).squaredNorm() / double(t) + r.lambda / 2 * d.squaredNorm();
  EXPECT_NEAR(r.loss, want, 1e-9 * want);
}

// Brute force: column by column, no lazy batch, H^-1 formed explicitly, the MX exponents of a
// block from the current values when its first column is reached.
Mat brute_force(const Mat& w0, const Mat& h, const Quantizer& q, double lambda) {
  const Index k = w0.cols();
  Mat hd = h;
  hd.diagonal().array() += lambda;
  const Mat hinv = hd.inverse();
  const Mat u = hinv.llt().matrixU();
  Mat w = w0, out(w0.rows(), k);
  std::vector<RowParams> p;
  for (Index c = 0; c < k; ++c) {
    if (c % 32 == 0) p = q.find_params(w, c, std::min<Index>(32, k - c));
    for (Index r = 0; r < w.rows(); ++r) {
      out(r, c) = q.quantize(w(r, c), p[std::size_t(r)]);
      const double e = (w(r, c) - out(r, c)) / u(c, c);
      for (Index j = c + 1; j < k; ++j) w(r, j) -= e * u(c, j);
    }
  }
  return out;
}

TEST(Gptq, VariantBMatchesBruteForceNeverStale) {
  const Index k = 64;
  const Mat x = testing::llm_activations(200, k, 11, 5.0, 7);
  const Mat w = testing::gaussian(12, k, 12);
  const Mat h = hessian(x);
  for (const char* fmt : {"mxint4", "mxfp4_e2m1", "mxfp8_e4m3"}) {
    for (Index b : {Index(128), Index(32)}) {
      GptqOptions o;
      o.block = b;
      const GptqResult r = gptq_quantize(w, h, make(fmt), o);
      const Mat want = brute_force(w, h, make(fmt), r.lambda);
      const double diff = double((want.array() != r.q.array()).count()) / double(want.size());
      EXPECT_LE(diff, 0.002) << fmt << " B=" << b;
      EXPECT_LT((want - r.q).norm(), 1e-6 * w.norm() + 0.01) << fmt;
    }
  }
}

TEST(Gptq, DiagonalHessianEqualsRtnExactly) {
  const Index k = 96;
  Mat x = Mat::Zero(2 * k, k);
  x.topRows(k) = 3.0 * Mat::Identity(k, k);  // orthogonal columns: H = c I
  const Mat w = testing::gaussian(10, k, 13, 2.0);
  for (const char* fmt : kMxFormats) {
    const Quantizer q = make(fmt);
    for (bool act_order : {false, true}) {
      GptqOptions o;
      o.act_order = act_order;
      const GptqResult r = gptq_quantize(w, hessian(x), q, o);
      const Mat rtn = rtn_quantize(w, q);
      EXPECT_TRUE((r.q.array() == rtn.array()).all()) << fmt << " act_order " << act_order;
    }
  }
}

TEST(Gptq, BeatsRtnOnCorrelatedDataForEveryMxFormat) {
  const Index k = 128;
  const Mat x = testing::llm_activations(512, k, 14, 10.0, 37);
  const Mat w = testing::gaussian(32, k, 15);
  const Mat h = hessian(x);
  for (const char* fmt : kMxFormats) {
    const Quantizer q = make(fmt);
    const double rtn = out_err(x, w, rtn_quantize(w, q));
    for (bool act_order : {false, true}) {
      GptqOptions o;
      o.act_order = act_order;
      const double g = out_err(x, w, gptq_quantize(w, h, q, o).q);
      EXPECT_LT(g, rtn) << fmt << " act_order " << act_order;
    }
  }
}

TEST(Gptq, SingularHessianPolicy) {
  // Fewer samples than inputs: rank-deficient H.
  const Mat x = testing::gaussian(8, 40, 16);
  const Mat w = testing::gaussian(4, 40, 17);
  GptqOptions o;
  o.damp = 0;
  EXPECT_THROW(gptq_quantize(w, hessian(x), make("mxint4"), o), SingularHessian);
  // Collinear inputs.
  Mat x2 = testing::gaussian(100, 40, 18);
  x2.col(5) = x2.col(4);
  EXPECT_THROW(gptq_quantize(w, hessian(x2), make("mxint4"), o), SingularHessian);
  o.damp = 0.01;
  const GptqResult r = gptq_quantize(w, hessian(x), make("mxint4"), o);
  EXPECT_GT(r.lambda, 0);
  EXPECT_TRUE(r.q.allFinite());
}

TEST(Gptq, DeadInputsAreZeroed) {
  Mat x = testing::gaussian(100, 40, 19);
  x.col(3).setZero();
  const Mat w = testing::gaussian(4, 40, 20);
  const GptqResult r = gptq_quantize(w, hessian(x), make("mxint4"), GptqOptions{});
  EXPECT_EQ(r.dead_columns, 1);
  EXPECT_TRUE((r.q.col(3).array() == 0).all());
}

}  // namespace
}  // namespace mx::algo
