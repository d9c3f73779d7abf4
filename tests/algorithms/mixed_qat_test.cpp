// Mixed-precision bit allocation and QAT with a straight-through estimator.
#include <gtest/gtest.h>

#include "algorithms/mixed_precision.hpp"
#include "algorithms/qat.hpp"
#include "algorithms/rtn.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

const std::vector<double> kLevels = {4, 6, 8};

TEST(MixedPrecision, EqualSensitivityGivesUniformBits) {
  std::vector<LayerCost> layers;
  for (int l = 0; l < 4; ++l) layers.push_back(model_cost(2.0, 1000, 0.5, kLevels));
  const BitAllocation a = allocate_bits(layers, kLevels, 6.0 * 4000);
  for (double b : a.bits) EXPECT_EQ(b, 6.0);
  EXPECT_EQ(a.total_bits, 6.0 * 4000);
  const std::vector<double> cf = closed_form_bits({2, 2, 2}, {10, 20, 30}, {1, 1, 1}, 5.0);
  for (double b : cf) EXPECT_DOUBLE_EQ(b, 5.0);
}

TEST(MixedPrecision, MeetsBudgetExactlyAndBeatsUniform) {
  // Unequal sensitivities: 1, 30, 1000.
  std::vector<LayerCost> layers = {model_cost(1, 1000, 1, kLevels),
                                   model_cost(30, 1000, 1, kLevels),
                                   model_cost(1000, 1000, 1, kLevels)};
  double prev = std::numeric_limits<double>::infinity();
  for (double avg : {4.0, 4.0 + 2.0 / 3, 5.0 + 1.0 / 3, 6.0, 6.0 + 2.0 / 3, 8.0}) {
    const double budget = avg * 3000;
    const BitAllocation a = allocate_bits(layers, kLevels, budget);
    EXPECT_NEAR(a.total_bits, budget, 1e-6) << avg;  // every step is 2000 bits: exactly met
    EXPECT_LE(a.distortion, prev);                   // monotone in the budget
    prev = a.distortion;
    const BitAllocation u = uniform_allocation(layers, kLevels, budget);
    EXPECT_LE(u.total_bits, budget);
    EXPECT_LE(a.distortion, u.distortion);
    if (avg == 6.0) {
      EXPECT_LT(a.distortion, u.distortion);
      EXPECT_LT(a.bits[0], a.bits[2]);  // the sensitive layer gets more bits
    }
  }
  // A budget that no step divides: never exceeded, and no remaining upgrade would fit.
  const BitAllocation odd = allocate_bits(layers, kLevels, 5.5 * 3000);
  EXPECT_LE(odd.total_bits, 5.5 * 3000);
  EXPECT_GT(odd.total_bits + 2000, 5.5 * 3000);
  EXPECT_THROW(allocate_bits(layers, kLevels, 3.0 * 3000), std::invalid_argument);
  // Closed form: the budget is met on average and bits follow log2 sensitivity.
  const auto cf = closed_form_bits({1, 30, 1000}, {1000, 1000, 1000}, {1, 1, 1}, 6.0);
  EXPECT_NEAR((cf[0] + cf[1] + cf[2]) / 3, 6.0, 1e-12);
  EXPECT_NEAR(cf[2] - cf[0], 0.5 * std::log2(1000.0), 1e-12);
}

TEST(MixedPrecision, GramCostEqualsMeasuredCost) {
  std::vector<QuantSpec> levels;
  for (const char* f : {"mxint2", "mxint4", "mxint8"})
    levels.push_back(parse_quant_spec(f, 32, 0, RoundSpec{}, ScaleRule::kFloor));
  const Mat w = testing::gaussian(24, 96, 80);
  const Mat x = testing::gaussian(200, 96, 81, 3.0);
  const LayerCost a = measured_cost(w, x, levels);
  const LayerCost b = measured_cost_gram(w, x.transpose() * x, levels);
  ASSERT_EQ(a.distortion.size(), b.distortion.size());
  EXPECT_EQ(a.params, b.params);
  for (std::size_t i = 0; i < a.distortion.size(); ++i)
    EXPECT_NEAR(b.distortion[i], a.distortion[i], 1e-9 * a.distortion[i]) << i;
  EXPECT_GT(a.distortion[0], a.distortion[1]);
  EXPECT_THROW(measured_cost_gram(w, Mat::Identity(5, 5), levels), std::invalid_argument);
}

TEST(MixedPrecision, MeasuredSensitivityBeatsUniform) {
  // Three layers whose inputs differ in scale: their output errors differ in sensitivity.
  std::vector<QuantSpec> levels;
  for (const char* f : {"mxint4", "mxfp6_e2m3", "mxint8"})
    levels.push_back(parse_quant_spec(f, 32, 0, RoundSpec{}, ScaleRule::kFloor));
  std::vector<LayerCost> layers;
  for (int l = 0; l < 3; ++l) {
    const Mat w = testing::gaussian(16, 64, 40 + l);
    const Mat x = testing::gaussian(64, 64, 50 + l, std::pow(10.0, l));
    layers.push_back(measured_cost(w, x, levels));
  }
  const double budget = 6.0 * 3 * 1024;
  const BitAllocation a = allocate_bits(layers, kLevels, budget);
  const BitAllocation u = uniform_allocation(layers, kLevels, budget);
  EXPECT_EQ(a.total_bits, budget);
  EXPECT_LT(a.distortion, u.distortion);
}

TEST(Qat, SteMaskMatchesSaturation) {
  // MXFP4, floor rule: amax 7 in [4, 8) gives X = 1; (6, 8) saturates to 6.
  const Quantizer fp4(parse_quant_spec("mxfp4_e2m1", 32, 0, RoundSpec{}, ScaleRule::kFloor));
  Mat w = Mat::Zero(1, 32);
  w(0, 0) = 7.0;
  w(0, 1) = 5.9;
  w(0, 2) = -6.5;
  const SteResult f = fake_quant_ste(fp4, w);
  EXPECT_EQ(f.wq(0, 0), 6.0);
  EXPECT_EQ(f.mask(0, 0), 0.0);
  EXPECT_EQ(f.mask(0, 1), 1.0);
  EXPECT_EQ(f.mask(0, 2), 0.0);
  EXPECT_EQ(f.mask(0, 5), 1.0);
  // MXINT4: amax 1.9 gives X = 1; (1.75, 2) saturates.
  const Quantizer i4(parse_quant_spec("mxint4", 32, 0, RoundSpec{}, ScaleRule::kFloor));
  Mat v = Mat::Zero(1, 32);
  v(0, 0) = 1.9;
  v(0, 1) = 1.7;
  const SteResult g = fake_quant_ste(i4, v);
  EXPECT_EQ(g.mask(0, 0), 0.0);
  EXPECT_EQ(g.mask(0, 1), 1.0);
  // The forward is piecewise constant: a small finite difference gives zero gradient.
  Mat v2 = v;
  v2(0, 1) += 1e-9;
  EXPECT_EQ(fake_quant_ste(i4, v2).wq(0, 1), g.wq(0, 1));
}

TEST(Qat, SteTrainingBeatsRtn) {
  const Mat x = testing::llm_activations(256, 64, 60, 5.0, 13);
  const Mat w = testing::gaussian(16, 64, 61);
  for (const char* f : {"mxint4", "int4"}) {
    const Quantizer q(parse_quant_spec(f, 32, 0, RoundSpec{}, ScaleRule::kFloor));
    QatOptions o;
    o.steps = 300;
    o.lr = 3e-4;
    const QatResult r = qat_linear(w, x, q, o);
    const double rtn = (x * (w - rtn_quantize(w, q)).transpose()).squaredNorm() / double(256 * 16);
    EXPECT_DOUBLE_EQ(r.loss_rtn, rtn);
    EXPECT_LT(r.loss_qat, 0.92 * r.loss_rtn) << f;  // measured: 12-15 % lower
  }
}

}  // namespace
}  // namespace mx::algo
