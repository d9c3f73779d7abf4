// mxlab ptq end to end through the built binary: a good run writes Wq and a report with the
// contract's keys; bad input (shape mismatch, singular Hessian without damping, unknown
// algorithm, bad formats and files) gives one line naming the culprit, exit 1 (2 for usage)
// and no output.
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator/io/tensor_io.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

using test::CmdResult;
CmdResult run(const std::string& args) { return test::run_mxlab(args, "ptq_cli"); }

Tensor random_tensor(std::size_t r, std::size_t c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  Tensor t;
  t.shape = {r, c};
  for (std::size_t i = 0; i < r * c; ++i) t.f32.push_back(nd(rng));
  return t;
}

class PtqCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::fresh_test_dir("mxlab_ptq_cli_test");
    write_npy(p("w.npy"), random_tensor(16, 64, 1));
    write_npy(p("x.npy"), random_tensor(128, 64, 2));
    write_npy(p("x_small.npy"), random_tensor(8, 64, 3));  // 8 samples < 64 inputs
    write_npy(p("x_bad.npy"), random_tensor(128, 48, 4));  // wrong column count
    Tensor t3 = random_tensor(2, 8, 5);
    t3.shape = {2, 2, 4};
    write_npy(p("w3d.npy"), t3);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string p(const std::string& n) const { return (dir / n).string(); }
  fs::path dir;
};

TEST_F(PtqCli, GoodRunWritesWeightsAndReport) {
  std::ofstream(p("wq.npy")) << "old";
  for (const char* alg : {"rtn", "smoothquant", "awq", "gptq", "smoothquant+gptq", "awq+gptq",
                          "smoothquant+awq+gptq"}) {
    const CmdResult r =
        run("ptq --weights " + p("w.npy") + " --activations " + p("x.npy") + " --algorithm " + alg +
            " --weight-format mxint4 --act-format mxint8 --act-order --output " + p("wq.npy") +
            " --report " + p("report.json") + " --awq-grid 4");
    ASSERT_EQ(r.status, 0) << alg << "\n" << r.err;
    const Tensor wq = read_npy(p("wq.npy"));
    EXPECT_EQ(wq.shape, (std::vector<std::size_t>{16, 64}));
    std::ifstream in(p("report.json"));
    const nlohmann::json j = nlohmann::json::parse(in);
    for (const char* key : {"sqnr_db", "mse", "max_abs_error", "cosine"})
      ASSERT_TRUE(j.contains(key) && j[key].is_number()) << alg << " " << key;
    EXPECT_GT(j["sqnr_db"].get<double>(), 5.0) << alg;
    EXPECT_GT(j["cosine"].get<double>(), 0.9) << alg;
  }
  // RTN of plain MXINT4 weights: Wq equals `mxlab quantize` of W.
  ASSERT_EQ(run("ptq --weights " + p("w.npy") + " --activations " + p("x.npy") +
                " --algorithm rtn --weight-format mxint4 --output " + p("wq.npy"))
                .status,
            0);
  ASSERT_EQ(run("quantize --input " + p("w.npy") + " --output " + p("wq2.npy") + " --format mxint4")
                .status,
            0);
  EXPECT_EQ(read_npy(p("wq.npy")).f32, read_npy(p("wq2.npy")).f32);
  // CrossQuant reports its kernel next to the per-token one.
  ASSERT_EQ(
      run("ptq --weights " + p("w.npy") + " --activations " + p("x.npy") +
          " --algorithm crossquant --weight-format int8 --act-format int8 --report " + p("cq.json"))
          .status,
      0);
  std::ifstream in(p("cq.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_TRUE(j.contains("act_kernel_proportion_per_token"));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(PtqCli, BadInputsFailCleanly) {
  const std::string outs = " --output " + p("out.npy") + " --report " + p("out.json");
  const std::string w = " --weights " + p("w.npy"), x = " --activations " + p("x.npy");
  struct Case {
    std::string args, culprit;
    int status;
  };
  const std::vector<Case> cases = {
      {"ptq" + w + " --activations " + p("x_bad.npy") + " --algorithm rtn --weight-format mxint4" +
           outs,
       "x_bad.npy", 1},
      {"ptq" + w + " --activations " + p("x_small.npy") +
           " --algorithm gptq --weight-format mxint4 --damp 0" + outs,
       "--damp", 1},
      {"ptq" + w + x + " --algorithm gptq+awq --weight-format mxint4" + outs, "gptq+awq", 1},
      {"ptq" + w + x + " --algorithm rtn --weight-format mxfp9" + outs, "mxfp9", 1},
      {"ptq" + w + x + " --algorithm rtn --weight-format mxint4 --act-format int1" + outs, "int1",
       1},
      {"ptq" + w + x + " --algorithm crossquant --weight-format mxint4 --act-format mxint8" + outs,
       "--act-format", 1},
      {"ptq" + w + x + " --algorithm rtn --weight-format mxint4 --block-size 0" + outs,
       "--block-size", 1},
      {"ptq" + w + x + " --algorithm smoothquant --weight-format mxint4 --alpha 1.5" + outs,
       "--alpha", 1},
      {"ptq --weights " + p("w3d.npy") + x + " --algorithm rtn --weight-format mxint4" + outs,
       "w3d.npy", 1},
      {"ptq --weights " + p("missing.npy") + x + " --algorithm rtn --weight-format mxint4" + outs,
       "missing.npy", 1},
      {"ptq" + w + x + " --algorithm rtn --weight-format mxint4 --output " + p("nodir/o.npy"),
       "nodir", 1},
      {"ptq" + w + x + " --algorithm rtn --weight-format mxint4", "--output", 2},
      {"ptq" + w + " --algorithm rtn --weight-format mxint4" + outs, "--activations", 2},
  };
  for (const auto& c : cases) {
    test::expect_clean_failure(c.args, c.status, c.culprit, p("out.npy"), "ptq_cli");
    EXPECT_FALSE(fs::exists(p("out.json"))) << c.args;
  }
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace mx
