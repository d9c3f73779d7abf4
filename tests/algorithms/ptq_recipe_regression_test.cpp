// Every recipe string that existed before PTQ recipes became pipelines of registered steps
// gives the same bits as then: the expected hashes were recorded with the enum-based run_ptq
// (main at 2800a66) on this fixed case, before the refactor, and are not taken from the code
// under test.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "algorithms/ptq.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

// FNV-1a over the bytes of the doubles (exact: any bit change changes the hash).
struct Fnv {
  std::uint64_t h = 1469598103934665603ull;
  void add(double v) {
    std::uint64_t b = std::bit_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) {
      h ^= (b >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  void add(const Mat& m) {
    add(double(m.rows()));
    add(double(m.cols()));
    for (Index j = 0; j < m.cols(); ++j)
      for (Index i = 0; i < m.rows(); ++i) add(m(i, j));
  }
  void add(const Vec& v) {
    add(double(v.size()));
    for (Index i = 0; i < v.size(); ++i) add(v(i));
  }
  void add(const ErrorStats& s) {
    for (double v :
         {s.mse, s.sqnr_db, s.max_abs_error, s.max_rel_error, s.cosine, s.rel_fro, s.kl_divergence})
      add(v);
  }
  void add(const QuantCounts& c) {
    add(double(c.total));
    add(double(c.saturated));
    add(double(c.underflow));
  }
};

std::uint64_t result_hash(const PtqResult& r) {
  Fnv f;
  f.add(r.w_q);
  f.add(r.w_q_scaled);
  f.add(r.smooth);
  f.add(r.output);
  f.add(r.weight);
  f.add(r.weight_counts);
  f.add(r.act_counts);
  f.add(r.act_kernel);
  f.add(r.act_kernel_per_token);
  f.add(double(r.ran_smoothquant) + 2 * double(r.ran_awq) + 4 * double(r.ran_gptq));
  if (r.ran_awq) {
    f.add(r.awq.scales);
    f.add(r.awq.best_ratio);
    f.add(r.awq.loss_identity);
    f.add(r.awq.loss_best);
    f.add(r.awq.clip_err_before);
    f.add(r.awq.clip_err_after);
    for (double l : r.awq.losses) f.add(l);
  }
  if (r.ran_gptq) {
    f.add(r.gptq.damp_used);
    f.add(r.gptq.lambda);
    f.add(r.gptq.loss);
    f.add(double(r.gptq.dead_columns));
    f.add(double(r.gptq.lazy_block));
  }
  return f.h;
}

struct Case {
  const char* recipe;
  std::uint64_t w4a8, fp4_int_act;
};

// Recorded with the enum-based code (see the file comment).
constexpr Case kRecorded[] = {
    {"rtn", 0xc1b51550d7a6132dull, 0xbaa5466ae88c6b6cull},
    {"smoothquant", 0xbd3b553846fad49dull, 0x9bf95c767d57b5f5ull},
    {"awq", 0x187d4658e958f80bull, 0xd02fe501d1acbaafull},
    {"gptq", 0x9fea85afc3c02f3aull, 0x5e9e02d034a8146bull},
    {"smoothquant+gptq", 0xeeec91ac4f72e891ull, 0xf7e62ba6e95785a6ull},
    {"awq+gptq", 0x244425320653f17dull, 0x28d10cb009939181ull},
    {"smoothquant+awq+gptq", 0xc9285f6d8086b206ull, 0x946cf9475e28cd6bull},
    {"crossquant", 0xb650fd9a72a50efaull, 0x72e5ed9b8c5bc1b3ull},
};

PtqOptions options(const char* recipe, const char* wfmt, const char* afmt) {
  PtqOptions o;
  o.algorithm = *parse_algorithm(recipe);
  o.weight = parse_quant_spec(wfmt, 32, 0, RoundSpec{}, ScaleRule::kFloor);
  o.act = parse_quant_spec(afmt, 32, 0, RoundSpec{}, ScaleRule::kFloor);
  o.stats_rows = 150;
  o.awq.grid = 8;
  o.gptq.block = 64;
  return o;
}

TEST(PtqRecipeRegression, EveryExistingRecipeIsBitIdentical) {
  const Mat x = testing::llm_activations(192, 128, 80, 40.0, 23);
  const Mat w = testing::gaussian(24, 128, 81, 0.05);
  for (const Case& c : kRecorded) {
    const bool cq = std::string(c.recipe) == "crossquant";
    const std::uint64_t a =
        result_hash(run_ptq(w, x, options(c.recipe, "mxint4", cq ? "int8" : "mxint8")));
    const std::uint64_t b =
        result_hash(run_ptq(w, x, options(c.recipe, "mxfp4_e2m1", cq ? "int6" : "int8")));
    if (a != c.w4a8 || b != c.fp4_int_act)  // the line to record, should the case change
      std::printf("    {\"%s\", 0x%016llxull, 0x%016llxull},\n", c.recipe,
                  static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
    EXPECT_EQ(a, c.w4a8) << c.recipe;
    EXPECT_EQ(b, c.fp4_int_act) << c.recipe;
  }
}

}  // namespace
}  // namespace mx::algo
