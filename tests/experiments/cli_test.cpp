// mxlab sweep / mxlab table through the command line: exit codes, messages, --resume rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "experiments/config.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConfig = R"([sweep]
formats = ["mxint8", "mxfp4_e2m1"]
block_sizes = [16, 32]
roundings = ["nearest-even", "toward-zero"]
[workloads.w]
kind = "laplace"
shape = [16, 256]
[report]
where = { rounding = "nearest-even" }
)";

class SweepCli : public ::testing::Test {
 protected:
  void SetUp() override { testing::write_text(dir_ / "c.toml", kConfig); }
  testing::Exit mxlab(std::vector<std::string> args) {
    args.insert(args.begin(), MXLAB_BIN);
    return testing::run(args, dir_ / fmt::format("log{}", n_++));
  }
  testing::Exit sweep(const std::string& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"sweep", "--config", dir_ / "c.toml", "--output", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return mxlab(a);
  }
  testing::TempDir dir_{"cli"};
  int n_ = 0;
};

TEST_F(SweepCli, SweepPrintsTheReportTableAndSummary) {
  const auto e = sweep(dir_ / "r.h5", {"--progress"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.out, ::testing::StartsWith(
                         "| format \\ block_size | 16 | 32 |\n|:--|--:|--:|\n| mxint8 | "));
  EXPECT_THAT(e.out, HasSubstr("metric: sqnr_db; where rounding=nearest-even\n"));
  EXPECT_THAT(e.err, HasSubstr("sweep: 8/8 points (100.0%)"));
  EXPECT_THAT(e.err, HasSubstr("mxlab sweep: 8 points (8 computed, 0 already in the file)"));
  EXPECT_EQ(read_results(dir_ / "r.h5").complete, 1);
}

TEST_F(SweepCli, ConfigErrorsExitWith1AndNameTheKey) {
  testing::write_text(dir_ / "bad.toml",
                      "[sweep]\nformats = [\"mxint8\"]\nblock_sizes = [0]\n[workloads.w]\nkind = "
                      "\"normal\"\nshape = [4]\n");
  auto e = mxlab({"sweep", "--config", dir_ / "bad.toml", "--output", dir_ / "x.h5"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "mxlab: error: " + (dir_ / "bad.toml") +
                       ": sweep.block_sizes[0]: block size must be >= 1 (got 0)\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.h5"));
  testing::write_text(dir_ / "ptq.toml", std::string(kConfig) + "[algorithms.gptq]\nblock = 128\n");
  e = mxlab({"sweep", "--config", dir_ / "ptq.toml", "--output", dir_ / "x.h5"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("ptq.toml: algorithms: per-algorithm option tables are reserved"));
  e = mxlab({"sweep", "--config", dir_ / "none.toml"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--config " + (dir_ / "none.toml") + ": cannot read the file"));
  e = mxlab({"sweep", "--config", dir_ / "c.toml", "--output", dir_ / "nodir/x.h5"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--output"));
  e = mxlab({"sweep", "--threads", "-1"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--threads must be >= 0 (got -1)"));
}

TEST_F(SweepCli, ResumeRules) {
  const std::string out = dir_ / "r.h5";
  // --resume without a file starts afresh.
  auto e = sweep(out, {"--resume", "--no-table"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.err, HasSubstr("(8 computed, 0 already in the file)"));
  const ResultFile first = read_results(out);
  // Resuming a complete file computes nothing and changes nothing.
  e = sweep(out, {"--resume", "--no-table"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.err, HasSubstr("(0 computed, 8 already in the file)"));
  EXPECT_EQ(testing::compare_results(first, read_results(out)), "");
  // A file from another config is not resumed.
  testing::write_text(dir_ / "c2.toml", std::string(kConfig).replace(
                                            std::string(kConfig).find("[16, 32]"), 8, "[16, 64]"));
  e = mxlab({"sweep", "--config", dir_ / "c2.toml", "--output", out, "--resume"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--resume: " + out + " was written by a different sweep config"));
  // Without --resume or --overwrite an existing file is an error and stays as it was.
  e = sweep(out, {"--no-table"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--output " + out + " already exists: pass --resume"));
  EXPECT_EQ(testing::compare_results(first, read_results(out)), "");
  // With --overwrite the file is replaced by a fresh run.
  e = sweep(out, {"--no-table", "--overwrite"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.err, HasSubstr("(8 computed, 0 already in the file)"));
  EXPECT_EQ(testing::compare_results(first, read_results(out)), "");
  // A file that is not a result file is not resumed either.
  testing::write_text(dir_ / "junk.h5", "junk");
  e = sweep(dir_ / "junk.h5", {"--resume"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--resume: " + (dir_ / "junk.h5") + ": not an HDF5 file"));
}

TEST_F(SweepCli, TableCommand) {
  ASSERT_EQ(sweep(dir_ / "r.h5", {"--no-table"}).code, 0);
  auto e =
      mxlab({"table", "--input", dir_ / "r.h5", "--as", "csv", "--rows", "rounding", "--cols",
             "format", "--metric", "kernel_pct", "--where", "block_size=16", "--precision", "3"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.out, ::testing::MatchesRegex("rounding,mxint8,mxfp4_e2m1\n"
                                             "nearest-even,[0-9.]+,[0-9.]+\n"
                                             "toward-zero,[0-9.]+,[0-9.]+\n"));
  e = mxlab(
      {"table", "--input", dir_ / "r.h5", "--as", "latex", "--where", "rounding=toward-zero"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("\\toprule\n & \\multicolumn{2}{c}{block\\_size} \\\\\n"));
  e = mxlab({"table", "--input", dir_ / "r.h5", "--as", "html"});
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.err, "mxlab: error: --as: unknown table style 'html' (markdown, latex, csv)\n");
  e = mxlab({"table", "--input", dir_ / "r.h5", "--where", "rounding=odd"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--where rounding=odd: no point has rounding = odd"));
  e = mxlab({"table", "--input", dir_ / "none.h5"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("--input " + (dir_ / "none.h5") + ": no such file"));
  EXPECT_EQ(mxlab({"table"}).code, 2);  // --input is required
}

TEST_F(SweepCli, PrintDefaultConfig) {
  const auto e = mxlab({"sweep", "--print-default-config"});
  ASSERT_EQ(e.code, 0);
  EXPECT_EQ(e.out, default_config_text());
}

}  // namespace
}  // namespace mx::experiments
