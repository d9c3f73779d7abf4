// The command line: bad input gives one clear line naming the culprit, a non-zero exit and
// no output file; good input works end to end and replaces an existing output.
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
CmdResult run(const std::string& args) { return test::run_mxlab(args, "cli"); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::fresh_test_dir("mxlab_cli_test");
    Tensor t;
    t.shape = {4, 64};
    for (int i = 0; i < 256; ++i) t.f32.push_back(static_cast<float>(i % 17) - 8.25f);
    write_npy(p("x.npy"), t);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string p(const std::string& n) const { return (dir / n).string(); }
  fs::path dir;
};

TEST_F(Cli, GoodRunAndAtomicReplace) {
  std::ofstream(p("y.npy")) << "old";
  const CmdResult r = run("quantize --input " + p("x.npy") + " --output " + p("y.npy") +
                          " --format mxfp4_e2m1 --codes-output " + p("c.bin") +
                          " --scales-output " + p("s.bin") + " --threads 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_npy(p("y.npy")).shape, (std::vector<std::size_t>{4, 64}));
  EXPECT_EQ(fs::file_size(p("c.bin")), 128u);  // 256 fp4 codes
  EXPECT_EQ(fs::file_size(p("s.bin")), 8u);    // 4 rows x 2 blocks of 32
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(Cli, BadInputsFailCleanly) {
  std::ofstream(p("bad.npy")) << "garbage";
  const std::string base = "quantize --input " + p("x.npy") + " --output " + p("out.npy");
  struct Case {
    std::string args, culprit;
    int status;
  };
  const std::vector<Case> cases = {
      {base + " --format mxfp9", "mxfp9", 1},
      {base + " --format mxfp8_e4m3 --block-size 0", "--block-size", 1},
      {base + " --format mxfp8_e4m3 --axis 2", "--axis 2", 1},
      {base + " --format mxfp8_e4m3 --rounding sideways", "sideways", 1},
      {base + " --format mxfp8_e4m3 --overflow wrap", "wrap", 1},
      {base + " --format mxfp8_e4m3 --scale-rule up", "up", 1},
      {"quantize --input " + p("missing.npy") + " --output " + p("out.npy") + " --format mxint8",
       "missing.npy", 1},
      {"quantize --input " + p("bad.npy") + " --output " + p("out.npy") + " --format mxint8",
       "bad.npy", 1},
      {"quantize --input " + p("x.npy") + " --output " + p("nodir/out.npy") + " --format mxint8",
       "nodir", 1},
      {base + " --format mxfp8_e4m3 --compat microxcaling --rounding odd", "--compat", 1},
      {base + " --format mxint8 --no-such-flag", "--no-such-flag", 2},
      {"quantize --input " + p("x.npy"), "--format", 2},
  };
  for (const auto& c : cases) {
    test::expect_clean_failure(c.args, c.status, c.culprit, p("out.npy"), "cli");
  }
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(Cli, VersionAndHelp) {
  EXPECT_EQ(run("--version").status, 0);
  EXPECT_EQ(run("--help").status, 0);
  EXPECT_EQ(run("quantize --help").status, 0);
}

}  // namespace
}  // namespace mx
