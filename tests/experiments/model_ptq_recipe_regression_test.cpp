// Model-level PTQ gives the same bits for every recipe string that existed before recipes
// became pipelines of registered steps: the expected hashes were recorded with the enum-based
// code (main at 2800a66) on this fixed case before the refactor, not taken from the code under
// test. Covers what only the model level does: the sequential pass, the input scales, and the
// deployed activation quantizer (CrossQuant's static channel maxima), through the logits.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "experiments/model/eval.hpp"
#include "experiments/model/llama_forward.hpp"
#include "experiments/model/model_ptq.hpp"

namespace mx::model {
namespace {

const std::string kModelDir = std::string(MX_SHARED_DIR) + "/models/bytellama-7m";

struct Fnv {
  std::uint64_t h = 1469598103934665603ull;
  void add_bits(std::uint64_t b, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      h ^= (b >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  void add(float v) { add_bits(std::bit_cast<std::uint32_t>(v), 4); }
  void add(double v) { add_bits(std::bit_cast<std::uint64_t>(v), 8); }
  template <class M>
  void add_all(const M& m) {
    add(double(m.size()));
    for (Eigen::Index i = 0; i < m.size(); ++i) add(m.data()[i]);
  }
};

struct Case {
  const char* recipe;
  std::uint64_t hash;
};

// Recorded with the enum-based code (see the file comment).
constexpr Case kRecorded[] = {
    {"rtn", 0xfdc44d06069d9fd7ull},
    {"smoothquant", 0x8777efad9b2ead09ull},
    {"awq", 0xb7c6526474a61399ull},
    {"gptq", 0x93f6accb3e0ff0ceull},
    {"smoothquant+gptq", 0xeb0c83029dcb24f7ull},
    {"awq+gptq", 0xefd29aeffed64357ull},
    {"smoothquant+awq+gptq", 0xc2ed1ac147b92960ull},
    {"crossquant", 0x1b568918088b9d79ull},
};

TEST(ModelPtqRecipeRegression, EveryExistingRecipeIsBitIdentical) {
  static const LlamaModel fp32 = LlamaModel::load(kModelDir);
  const std::vector<unsigned char> text = read_text(kModelDir + "/data/wiki_test.txt");
  for (const Case& c : kRecorded) {
    const bool cq = std::string(c.recipe) == "crossquant";
    LlamaModel m = fp32;
    ModelPtqOptions o;
    o.algorithm = c.recipe;
    o.calib_path = kModelDir + "/data/wiki_valid.txt";
    o.calib_windows = 1;
    o.window_size = 128;
    o.format = parse_linear_format("mxint4", cq ? "none" : "mxint8", 32, "fp32");
    if (cq) o.format.act_name = "int6";
    o.threads = 2;
    const ModelPtqSummary s = apply_model_ptq(m, o);
    Fnv f;
    for (std::size_t i = 0; i < m.num_linears(); ++i) {
      f.add_all(m.linear(i).weight());
      f.add_all(m.linear(i).input_scale());
    }
    for (const LinearPtqReport& r : s.layers)
      for (double v : {r.output.sqnr_db, r.output.mse, r.output.cosine, r.weight_sqnr_db,
                       r.act_kernel, r.smooth_min, r.smooth_max, r.awq_ratio, r.gptq_damp})
        f.add(v);
    EvalOptions eo;
    eo.windows = 1;
    eo.window_size = 128;
    eo.collect_stats = false;
    f.add(evaluate(m, text, eo).bits_per_byte);
    if (f.h != c.hash)  // the line to record, should the case change
      std::printf("    {\"%s\", 0x%016llxull},\n", c.recipe, static_cast<unsigned long long>(f.h));
    EXPECT_EQ(f.h, c.hash) << c.recipe;
  }
}

}  // namespace
}  // namespace mx::model
