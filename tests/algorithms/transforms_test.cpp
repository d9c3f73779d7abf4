// SmoothQuant, AWQ and CrossQuant: the transforms leave the layer unchanged, AWQ's choice is
// never worse than the identity on its own objective, CrossQuant's limits are per-token and
// per-channel quantization bit for bit, and its kernel is smaller with outlier channels.
#include <gtest/gtest.h>

#include "algorithms/awq.hpp"
#include "algorithms/crossquant.hpp"
#include "algorithms/rtn.hpp"
#include "algorithms/smoothquant.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

Quantizer make(const std::string& name, int block = 32) {
  return Quantizer(parse_quant_spec(name, block, 0, RoundSpec{}, ScaleRule::kFloor));
}

TEST(SmoothQuant, LeavesOutputUnchanged) {
  const Mat x = testing::llm_activations(64, 96, 21, 50.0, 17);
  const Mat w = testing::gaussian(16, 96, 22);
  const Mat y = x * w.transpose();
  for (double alpha : {0.0, 0.5, 0.85, 1.0}) {
    // Power-of-two factors: every product is exact, so the output is bit for bit the same.
    Mat xs = x, ws = w;
    apply_smoothing(xs, ws, smoothquant_factors(x, w, {alpha, true}));
    EXPECT_TRUE(((xs * ws.transpose()).array() == y.array()).all()) << alpha;
    // General factors: equal up to rounding.
    Mat xg = x, wg = w;
    const Vec s = smoothquant_factors(x, w, {alpha, false});
    apply_smoothing(xg, wg, s);
    EXPECT_LT((xg * wg.transpose() - y).norm(), 1e-13 * y.norm()) << alpha;
    if (alpha == 0.5) {
      // s_j = sqrt(a_j / w_j): afterwards the channel maxima of X and W are equal.
      for (Index j = 0; j < 96; ++j)
        EXPECT_NEAR(xg.col(j).cwiseAbs().maxCoeff(), wg.col(j).cwiseAbs().maxCoeff(),
                    1e-12 * wg.col(j).cwiseAbs().maxCoeff());
    }
  }
}

TEST(SmoothQuant, HelpsPerTensorInt8WithOutliers) {
  // The SmoothQuant setting: per-tensor INT8 activations, per-channel INT8 weights.
  const Mat x = testing::llm_activations(256, 128, 23, 50.0, 29);
  const Mat w = testing::gaussian(32, 128, 24);
  const Mat y = x * w.transpose();
  const Quantizer aq = make("int8_tensor"), wq = make("int8");
  const double plain = (y - aq.quantize_rows(x) * wq.quantize_rows(w).transpose()).squaredNorm();
  Mat xs = x, ws = w;
  apply_smoothing(xs, ws, smoothquant_factors(x, w, {0.5, false}));
  const double smooth = (y - aq.quantize_rows(xs) * wq.quantize_rows(ws).transpose()).squaredNorm();
  EXPECT_LT(smooth, 0.5 * plain);
}

TEST(Awq, ChosenScalesNeverWorseThanIdentity) {
  const Mat x = testing::llm_activations(300, 128, 25, 30.0, 23);
  const Mat w = testing::gaussian(24, 128, 26);
  for (const char* wf : {"mxint4", "mxfp4_e2m1", "int4_g32"}) {
    for (const char* af : {"none", "mxint8"}) {
      AwqOptions o;
      o.max_tokens = 128;
      const AwqResult r = awq_search_scales(x, w, make(wf), make(af), o);
      ASSERT_EQ(r.losses.size(), 20u);
      EXPECT_EQ(r.losses[0], r.loss_identity);
      EXPECT_LE(r.loss_best, r.loss_identity) << wf << " " << af;
      for (double l : r.losses) EXPECT_GE(l, r.loss_best);
      AwqResult c;
      const Mat wc = awq_clip(x, w, make(wf), o, &c);
      EXPECT_LE(c.clip_err_after, c.clip_err_before) << wf;
      EXPECT_LE(wc.cwiseAbs().maxCoeff(), w.cwiseAbs().maxCoeff());
    }
  }
}

TEST(Awq, BeatsRtnWithOutlierChannels) {
  const Mat x = testing::llm_activations(400, 128, 27, 50.0, 19);
  const Mat w = testing::gaussian(32, 128, 28);
  const Quantizer wq = make("mxint4"), none = make("none");
  const Mat y = x * w.transpose();
  const double rtn = (y - x * rtn_quantize(w, wq).transpose()).squaredNorm();
  AwqOptions o;
  const AwqResult r = awq_search_scales(x, w, wq, none, o);
  Mat xs = x, ws = w;
  apply_smoothing(xs, ws, r.scales);
  ws = awq_clip(xs, ws, wq, o, nullptr);
  const double awq = (y - xs * rtn_quantize(ws, wq).transpose()).squaredNorm();
  EXPECT_LT(awq, rtn);
  EXPECT_GT(r.best_ratio, 0.0);
}

TEST(CrossQuant, AlphaOneIsPerTokenAlphaZeroIsPerChannel) {
  Mat x = testing::llm_activations(50, 64, 29, 20.0, 11);
  x.row(3).setZero();
  const Mat per_token = make("int8").quantize_rows(x);
  const Mat per_channel = Mat(make("int8").quantize_rows(x.transpose())).transpose();
  const CrossQuantResult a1 = crossquant(x, 8, 1.0);
  const CrossQuantResult a0 = crossquant(x, 8, 0.0);
  EXPECT_TRUE((a1.xq.array() == per_token.array()).all());
  EXPECT_TRUE((a0.xq.array() == per_channel.array()).all());
  EXPECT_EQ(a1.counts.saturated, 0u);  // dynamic maxima: never clipped
}

TEST(CrossQuant, SmallerKernelThanPerTokenWithOutliers) {
  const Mat x = testing::llm_activations(256, 256, 30, 50.0, 41);
  const double per_token = kernel_proportion(x, make("int8").quantize_rows(x));
  for (double alpha : {0.3, 0.5, 0.7}) {
    const CrossQuantResult c = crossquant(x, 8, alpha);
    EXPECT_LT(kernel_proportion(x, c.xq), per_token) << alpha;
    EXPECT_EQ(double(c.counts.underflow) / double(c.counts.total), kernel_proportion(x, c.xq));
  }
  // A static column maximum below the data's: the clamp saturates.
  const Vec half = 0.5 * Vec(x.cwiseAbs().colwise().maxCoeff().transpose());
  EXPECT_GT(crossquant(x, 8, 0.5, &half).counts.saturated, 0u);
}

}  // namespace
}  // namespace mx::algo
