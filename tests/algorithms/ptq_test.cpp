// The PTQ recipes on one synthetic LLM-like layer (W4A8 MXINT): the combinations in the
// paper's order, the ordering the Sharify et al. study reports, and bad input.
#include <map>

#include <gtest/gtest.h>

#include "algorithms/ptq.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

PtqOptions w4a8(Algorithm a) {
  PtqOptions o;
  o.algorithm = a;
  o.weight = parse_quant_spec("mxint4", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  o.act = parse_quant_spec("mxint8", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  return o;
}

TEST(Ptq, NamesRoundTrip) {
  for (const char* n : {"rtn", "smoothquant", "awq", "gptq", "smoothquant+gptq", "awq+gptq",
                        "smoothquant+awq+gptq", "crossquant"}) {
    ASSERT_TRUE(parse_algorithm(n).has_value()) << n;
    EXPECT_EQ(algorithm_name(*parse_algorithm(n)), n);
  }
  EXPECT_FALSE(parse_algorithm("gptq+awq").has_value());
}

TEST(Ptq, W4A8MxintOrdering) {
  const Mat x = testing::llm_activations(768, 256, 70, 50.0, 61);
  const Mat w = testing::gaussian(64, 256, 71, 0.02);
  std::map<std::string, double> sqnr;
  for (const char* n : {"rtn", "smoothquant", "awq", "gptq", "smoothquant+gptq", "awq+gptq",
                        "smoothquant+awq+gptq"}) {
    const PtqResult r = run_ptq(w, x, w4a8(*parse_algorithm(n)));
    sqnr[n] = r.output.sqnr_db;
    EXPECT_TRUE(r.w_q.allFinite());
    // w_q is in the original basis: X w_q^T is the weight-only part of the output.
    EXPECT_LT((r.w_q * r.smooth.asDiagonal() - r.w_q_scaled).norm(), 1e-12 * r.w_q_scaled.norm());
  }
  for (const auto& [n, v] : sqnr) std::printf("%-22s %.3f dB\n", n.c_str(), v);
  EXPECT_GT(sqnr["smoothquant"], sqnr["rtn"]);
  EXPECT_GT(sqnr["awq"], sqnr["rtn"]);
  EXPECT_GT(sqnr["gptq"], sqnr["rtn"]);
  EXPECT_GT(sqnr["smoothquant+gptq"], std::max(sqnr["smoothquant"], sqnr["gptq"]));
  EXPECT_GT(sqnr["awq+gptq"], std::max(sqnr["awq"], sqnr["gptq"]));
}

TEST(Ptq, StatsRowsOnlyLimitTheStatistics) {
  const Mat x = testing::llm_activations(512, 128, 72, 50.0, 62);
  const Mat w = testing::gaussian(32, 128, 73, 0.02);
  for (const char* n : {"smoothquant+awq+gptq", "crossquant"}) {
    PtqOptions o = w4a8(*parse_algorithm(n));
    if (std::string(n) == "crossquant")
      o.act = parse_quant_spec("int8", 32, 0, RoundSpec{}, ScaleRule::kFloor);
    const PtqResult all = run_ptq(w, x, o);
    o.stats_rows = 100;
    const PtqResult some = run_ptq(w, x, o);
    EXPECT_EQ(all.w_q_scaled, some.w_q_scaled) << n;
    EXPECT_EQ(all.smooth, some.smooth) << n;
    EXPECT_EQ(some.act_counts.total, 100u * 128u) << n;
    EXPECT_EQ(all.act_counts.total, 512u * 128u) << n;
    EXPECT_NE(all.output.sqnr_db, some.output.sqnr_db) << n;
  }
}

TEST(Ptq, CrossQuantReportsKernel) {
  const Mat x = testing::llm_activations(256, 128, 72, 50.0, 31);
  const Mat w = testing::gaussian(32, 128, 73);
  PtqOptions o = w4a8(Algorithm::kCrossQuant);
  o.act = parse_quant_spec("int8", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  const PtqResult r = run_ptq(w, x, o);
  EXPECT_GE(r.act_kernel_per_token, 0);
  EXPECT_LT(r.act_kernel, r.act_kernel_per_token);
  o.act = parse_quant_spec("mxint8", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  EXPECT_THROW(run_ptq(w, x, o), std::invalid_argument);
}

TEST(Ptq, BadInput) {
  const Mat x = testing::gaussian(16, 64, 74);
  const Mat w = testing::gaussian(8, 32, 75);
  EXPECT_THROW(run_ptq(w, x, w4a8(Algorithm::kRtn)), std::invalid_argument);
  PtqOptions o = w4a8(Algorithm::kGptq);
  o.gptq.damp = 0;
  const Mat w2 = testing::gaussian(8, 64, 76);
  EXPECT_THROW(run_ptq(w2, x, o), SingularHessian);  // 16 samples, 64 inputs
}

}  // namespace
}  // namespace mx::algo
