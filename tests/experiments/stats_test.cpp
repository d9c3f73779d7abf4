// Error statistics on tiny hand-computed examples (all in double).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "algorithms/metrics.hpp"
#include "experiments/model/quant_linear.hpp"
#include "experiments/stats.hpp"
#include "formats/descriptor.hpp"

namespace mx::experiments {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(SweepStats, HandComputedExample) {
  // e = (0, 0, 1, 0): sum e^2 = 1, sum x^2 = 30, sum q^2 = 25, <x,q> = 27.
  const std::vector<double> x = {1, 2, 3, 4}, q = {1, 2, 2, 4};
  const Stats s = compute_stats(x.data(), q.data(), nullptr, 4, 4, kE4M3);
  EXPECT_DOUBLE_EQ(s.mse, 0.25);
  EXPECT_DOUBLE_EQ(s.sqnr_db, 10 * std::log10(30.0));  // 14.771212547...
  EXPECT_NEAR(s.sqnr_db, 14.771212547196624, 1e-12);
  EXPECT_DOUBLE_EQ(s.max_abs_err, 1.0);
  EXPECT_DOUBLE_EQ(s.max_rel_err, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.cosine, 27.0 / (std::sqrt(30.0) * 5.0));
  EXPECT_EQ(s.kernel_pct, 0.0);
  EXPECT_EQ(s.underflow_pct, 0.0);
  EXPECT_EQ(s.saturation_pct, 0.0);
  EXPECT_EQ(s.nonfinite_pct, 0.0);
  // Three exact elements in bin 0, |e|/|x| = 1/3 in [2^-2, 2^-1): bin 31.
  std::array<std::uint64_t, kHistBins> h{};
  h[0] = 3;
  h[31] = 1;
  EXPECT_EQ(s.hist, h);
  // KL(softmax(1,2,3,4) || softmax(1,2,2,4)) from the definition.
  double zx = 0, zq = 0, kl = 0;
  for (int i = 0; i < 4; ++i) zx += std::exp(x[i]), zq += std::exp(q[i]);
  for (int i = 0; i < 4; ++i) {
    const double p = std::exp(x[i]) / zx, pq = std::exp(q[i]) / zq;
    kl += p * std::log(p / pq);
  }
  EXPECT_NEAR(s.kl_softmax, kl, 1e-15);
}

TEST(SweepStats, KlOfTwoElementSoftmax) {
  // softmax(0, 0) = (1/2, 1/2); softmax(0, ln 3) = (1/4, 3/4):
  // KL = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3).
  const std::vector<double> x = {0, 0, 0, 0}, q = {0, std::log(3.0), 0, 0};
  const Stats s = compute_stats(x.data(), q.data(), nullptr, 4, 2, kE4M3);
  // Rows: (0,0)->(0,ln3) gives 1/2 ln(4/3); (0,0)->(0,0) gives 0; mean over the 2 rows.
  EXPECT_NEAR(s.kl_softmax, 0.25 * std::log(4.0 / 3.0), 1e-15);
}

TEST(SweepStats, UnderflowAndKernel) {
  // Kernel: q == 0 for 2 of 4 elements. Underflow: 1 of the 3 nonzero inputs became 0.
  const std::vector<float> x = {0.0f, 1e-3f, -2.0f, 5.0f}, q = {0.0f, 0.0f, -2.0f, 4.0f};
  const Stats s = compute_stats(x.data(), q.data(), nullptr, 4, 4, kE2M1);
  EXPECT_DOUBLE_EQ(s.kernel_pct, 50.0);
  EXPECT_DOUBLE_EQ(s.underflow_pct, 100.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.max_rel_err, 1.0);  // the underflowed element
  EXPECT_EQ(s.hist[kHistBins - 1], 1u);  // |e|/|x| = 1 (the underflow) in the last bin
  EXPECT_EQ(s.hist[30], 1u);             // 1/5 in [2^-3, 2^-2)
  EXPECT_EQ(s.hist[0], 1u);              // -2 exact
}

TEST(SweepStats, SaturationNeedsTheExtremeCodeAndALargerInput) {
  // e2m1: largest magnitude 6 = code 0b0111. 7 -> 6 and -6.5 -> -6 were clamped; 6 -> 6 was
  // not (|x| == |q|); 4 (code 0b0110) is not an extreme code.
  const std::vector<float> x = {7.0f, -6.5f, 4.0f, 6.0f}, q = {6.0f, -6.0f, 4.0f, 6.0f};
  const std::vector<std::uint32_t> codes = {0x7, 0xF, 0x6, 0x7};
  EXPECT_DOUBLE_EQ(compute_stats(x.data(), q.data(), codes.data(), 4, 4, kE2M1).saturation_pct,
                   50.0);
  // int8 (x 2^-6): +127/64 is code 0x7F, the most negative value -2 is code 0x80.
  const std::vector<float> xi = {2.5f, -2.5f, 1.0f}, qi = {127.0f / 64, -2.0f, 1.0f};
  const std::vector<std::uint32_t> ci = {0x7F, 0x80, 0x40};
  EXPECT_DOUBLE_EQ(compute_stats(xi.data(), qi.data(), ci.data(), 3, 3, kInt8).saturation_pct,
                   200.0 / 3.0);
}

TEST(SweepStats, NonFiniteOutputsAreCountedAndExcluded) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> x = {1, 2}, q = {nan, 2};
  const Stats s = compute_stats(x.data(), q.data(), nullptr, 2, 2, kE4M3);
  EXPECT_DOUBLE_EQ(s.nonfinite_pct, 50.0);
  EXPECT_EQ(s.mse, 0.0);
  EXPECT_EQ(s.sqnr_db, kInf);
  EXPECT_TRUE(std::isnan(s.kl_softmax));  // the only row has a NaN
}

TEST(SweepStats, ExactAndZeroTensors) {
  const std::vector<double> z = {0, 0, 0};
  const Stats s = compute_stats(z.data(), z.data(), nullptr, 3, 3, kE4M3);
  EXPECT_EQ(s.sqnr_db, kInf);
  EXPECT_EQ(s.cosine, 1.0);
  EXPECT_EQ(s.mse, 0.0);
  EXPECT_EQ(s.kernel_pct, 100.0);
  EXPECT_EQ(s.underflow_pct, 0.0);  // no nonzero inputs
  EXPECT_EQ(s.kl_softmax, 0.0);
  const std::vector<double> one = {1, 0, 0};
  EXPECT_EQ(compute_stats(one.data(), z.data(), nullptr, 3, 3, kE4M3).cosine, 0.0);
  EXPECT_EQ(compute_stats(one.data(), z.data(), nullptr, 3, 3, kE4M3).sqnr_db, 0.0);
}

// The three callers of algorithms/metrics (the sweep's statistics, the PTQ error statistics,
// the model's per-linear statistics) agree on every degenerate case (they disagreed on two
// zero vectors: error_stats gave cosine 0).
TEST(SweepStats, DegenerateCasesAgreeWithThePtqAndModelStatistics) {
  const std::vector<std::pair<std::vector<double>, std::vector<double>>> cases = {
      {{0, 0, 0}, {0, 0, 0}},
      {{0, 0, 0}, {0, 2, 0}},
      {{1, 0, 0}, {0, 0, 0}},
      {{1, -2, 3}, {1, -2, 3}},
      {{1, -2, 3}, {1, -2, 2.5}}};
  for (const auto& [x, q] : cases) {
    const Stats s = compute_stats(x.data(), q.data(), nullptr, 3, 3, kE4M3);
    const algo::ErrorStats a = algo::error_stats(Eigen::Map<const algo::Mat>(x.data(), 1, 3),
                                                 Eigen::Map<const algo::Mat>(q.data(), 1, 3));
    model::RowMatrixXf xf(1, 3), qf(1, 3);
    for (int i = 0; i < 3; ++i) {
      xf(0, i) = static_cast<float>(x[i]);
      qf(0, i) = static_cast<float>(q[i]);
    }
    model::LinearStats l;
    l.add(xf, qf);
    EXPECT_EQ(s.sqnr_db, a.sqnr_db) << x[1] << " " << q[1];
    EXPECT_EQ(s.sqnr_db, l.sqnr_db()) << x[1] << " " << q[1];
    EXPECT_EQ(s.cosine, a.cosine) << x[1] << " " << q[1];
    EXPECT_EQ(s.cosine, l.cosine()) << x[1] << " " << q[1];
  }
}

TEST(SweepStats, HistogramBinEdges) {
  // x = 1 and q = 1 - r puts |e|/|x| = r exactly.
  const std::vector<double> r = {0x1p-33, 0x1p-32, 0x1.fp-32, 0x1p-2, 0.5, 0.75, 1.0};
  std::vector<double> x(r.size(), 1.0), q;
  for (double v : r) q.push_back(1.0 - v);
  const Stats s = compute_stats(x.data(), q.data(), nullptr, r.size(), 1, kE4M3);
  std::array<std::uint64_t, kHistBins> h{};
  h[0] = 1;   // 2^-33
  h[1] = 2;   // [2^-32, 2^-31)
  h[31] = 1;  // 2^-2
  h[32] = 2;  // [1/2, 1)
  h[33] = 1;  // 1
  EXPECT_EQ(s.hist, h);
  const auto e = error_histogram_edges();
  EXPECT_EQ(e[0], 0.0);
  EXPECT_EQ(e[1], 0x1p-32);
  EXPECT_EQ(e[32], 0.5);
  EXPECT_EQ(e[33], 1.0);
  EXPECT_EQ(e[34], kInf);
}

TEST(SweepStats, LargeSumsMatchALongDoubleReference) {
  // 5000 elements cross the 1024-element chunks of the summation.
  std::vector<float> x(5000), q(5000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) *
                              (1 + static_cast<double>(i % 7)));
    q[i] = x[i] * (1.0f + 0.01f * static_cast<float>(static_cast<int>(i % 5) - 2));
  }
  long double sx2 = 0, se2 = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double e = static_cast<long double>(x[i]) - q[i];
    sx2 += static_cast<long double>(x[i]) * x[i];
    se2 += e * e;
  }
  const Stats s = compute_stats(x.data(), q.data(), nullptr, x.size(), 100, kE4M3);
  EXPECT_NEAR(s.mse, static_cast<double>(se2 / 5000), 1e-13 * static_cast<double>(se2 / 5000));
  EXPECT_NEAR(s.sqnr_db, static_cast<double>(10 * std::log10(sx2 / se2)), 1e-11);
  // The float and double overloads agree on float data.
  const std::vector<double> xd(x.begin(), x.end()), qd(q.begin(), q.end());
  const Stats d = compute_stats(xd.data(), qd.data(), nullptr, x.size(), 100, kE4M3);
  EXPECT_EQ(d.mse, s.mse);
  EXPECT_EQ(d.kl_softmax, s.kl_softmax);
  EXPECT_EQ(d.hist, s.hist);
}

}  // namespace
}  // namespace mx::experiments
