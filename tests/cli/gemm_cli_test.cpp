// mxlab gemm from the command line: a good run matches the library, thread counts agree,
// and bad input (shape / K mismatch, unknown model, k = 0, W < 1) gives one error line
// naming the culprit, exit 1 and no output file.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "emulator/io/tensor_io.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

using test::CmdResult;
CmdResult run(const std::string& args) { return test::run_mxlab(args, "gemm_cli"); }

class GemmCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::fresh_test_dir("mxlab_gemm_cli_test");
    write(p("a.npy"), {6, 64}, 0);
    write(p("b.npy"), {64, 5}, 3);
    write(p("b_badk.npy"), {32, 5}, 5);
    write(p("c.npy"), {6, 5}, 7);
    write(p("c_bad.npy"), {5, 6}, 7);
    write(p("v.npy"), {64}, 1);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static void write(const std::string& path, std::vector<std::size_t> shape, int seed) {
    Tensor t;
    t.shape = shape;
    for (std::size_t i = 0; i < t.size(); ++i)
      t.f32.push_back(static_cast<float>((static_cast<int>(i) * 37 + seed * 11) % 29) * 0.37f -
                      5.0f);
    write_npy(path, t);
  }
  std::string p(const std::string& n) const { return (dir / n).string(); }
  fs::path dir;
};

TEST_F(GemmCli, GoodRunsAgreeAcrossThreadsAndModels) {
  const std::string base = "gemm --a " + p("a.npy") + " --b " + p("b.npy") + " --c " + p("c.npy") +
                           " --format mxfp8_e4m3 ";
  for (const std::string accum : {"exact", "fp32-seq", "fp32-pairwise", "h100-mma", "h100-wgmma",
                                  "fused:k=16,w=25,acc=fp32,round=toward-zero"}) {
    CmdResult r = run(base + "--accum " + accum + " --threads 1 --output " + p("y1.npy"));
    ASSERT_EQ(r.status, 0) << r.err;
    r = run(base + "--accum " + accum + " --threads 3 --output " + p("y3.npy"));
    ASSERT_EQ(r.status, 0) << r.err;
    const Tensor y1 = read_npy(p("y1.npy")), y3 = read_npy(p("y3.npy"));
    EXPECT_EQ(y1.shape, (std::vector<std::size_t>{6, 5}));
    EXPECT_EQ(y1.f32, y3.f32) << accum;
  }
  const CmdResult r = run(base +
                          "--output-format bf16 --rounding toward-zero --accum h100-wgmma-fast "
                          "--promote-every 64 --output " +
                          p("y.npy"));
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(GemmCli, BadInputsFailCleanly) {
  const std::string out = " --output " + p("out.npy");
  const std::string ab = "gemm --a " + p("a.npy") + " --b " + p("b.npy") + " --format mxfp8_e4m3";
  struct Case {
    std::string args, culprit;
    int status;
  };
  const std::vector<Case> cases = {
      {"gemm --a " + p("a.npy") + " --b " + p("b_badk.npy") + " --format mxfp8_e4m3" + out,
       "K mismatch", 1},
      {"gemm --a " + p("v.npy") + " --b " + p("b.npy") + " --format mxfp8_e4m3" + out, "--a", 1},
      {ab + " --c " + p("c_bad.npy") + out, "--c", 1},
      {ab + " --accum fastest" + out, "fastest", 1},
      {ab + " --accum fused:k=0" + out, "k=0", 1},
      {ab + " --accum fused:w=0" + out, "w=", 1},
      {ab + " --accum fused:k=16,w=-1" + out, "w=", 1},
      {ab + " --accum fused:k=16 --promote-every 24" + out, "promote", 1},
      {ab + " --block-size 0" + out, "--block-size", 1},
      {ab + " --output-format fp99" + out, "--output-format", 1},
      {ab + " --rounding sideways" + out, "--rounding", 1},
      {"gemm --a " + p("a.npy") + " --b " + p("b.npy") + " --format mxfp9" + out, "mxfp9", 1},
      {"gemm --a " + p("a.npy") + " --b " + p("b.npy") + " --format nvfp4" + out, "nvfp4", 1},
      {"gemm --a " + p("missing.npy") + " --b " + p("b.npy") + " --format mxint8" + out,
       "missing.npy", 1},
      {ab + " --output " + p("nodir/out.npy"), "nodir", 1},
      {"gemm --a " + p("a.npy") + " --format mxint8" + out, "--b", 2},
  };
  for (const Case& c : cases) {
    test::expect_clean_failure(c.args, c.status, c.culprit, p("out.npy"), "gemm_cli");
  }
}

}  // namespace
}  // namespace mx
