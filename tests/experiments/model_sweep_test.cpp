// Model workloads through `mxlab sweep` (fork/exec of the built binary): a point's bits per
// byte equals `mxlab eval`'s for the same settings, --resume continues a killed model sweep,
// and the model axes' config errors name the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/record.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

using ::testing::HasSubstr;

const std::string kModelDir = std::string(MX_SHARED_DIR) + "/models/bytellama-7m";

std::string model_config(const std::string& sweep_body, int windows = 2, int calib = 1) {
  return fmt::format(R"([sweep]
{}
workloads = ["byte"]
[workloads.byte]
kind = "model"
path = "{}"
text = "{}/data/wiki_test.txt"
windows = {}
calib = "{}/data/wiki_valid.txt"
calib_windows = {}
)",
                     sweep_body, kModelDir, kModelDir, windows, kModelDir, calib);
}

class ModelSweep : public ::testing::Test {
 protected:
  testing::Exit mxlab(std::vector<std::string> args) {
    args.insert(args.begin(), MXLAB_BIN);
    return testing::run(args, dir_ / fmt::format("log{}", n_++));
  }
  double field(const PointRow& r, const char* name) { return field_number(r, *find_field(name)); }
  testing::TempDir dir_{"model_sweep"};
  int n_ = 0;
};

TEST_F(ModelSweep, PointEqualsMxlabEval) {
  testing::write_text(dir_ / "m.toml",
                      model_config("formats = [\"mxint4\"]\nact_formats = [\"mxint8\"]\n"
                                   "algorithms = [\"none\", \"gptq\"]"));
  auto e = mxlab({"sweep", "--config", dir_ / "m.toml", "--output", dir_ / "m.h5", "--threads", "2",
                  "--no-table"});
  ASSERT_EQ(e.code, 0) << e.err;
  const ResultFile rf = read_results(dir_ / "m.h5");
  ASSERT_EQ(rf.records.size(), 2u);
  EXPECT_EQ(rf.complete, 1);
  EXPECT_EQ(rf.axes.at("algorithm"), (std::vector<std::string>{"none", "gptq"}));
  for (const PointRecord& r : rf.records) {
    const std::string alg = get_fixed(r.row.algorithm);
    std::vector<std::string> args = {"eval",
                                     "--model",
                                     kModelDir,
                                     "--text",
                                     kModelDir + "/data/wiki_test.txt",
                                     "--windows",
                                     "2",
                                     "--weight-format",
                                     "mxint4",
                                     "--act-format",
                                     "mxint8",
                                     "--report",
                                     dir_ / ("r_" + alg + ".json")};
    if (alg == "gptq")
      for (const char* a : {"--algorithm", "gptq", "--calib", "CALIB", "--calib-windows", "1"})
        args.push_back(a == std::string("CALIB") ? kModelDir + "/data/wiki_valid.txt" : a);
    e = mxlab(args);
    ASSERT_EQ(e.code, 0) << e.err;
    std::ifstream in(dir_ / ("r_" + alg + ".json"));
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(field(r.row, "bits_per_byte"), j.at("bits_per_byte").get<double>()) << alg;
    EXPECT_EQ(field(r.row, "perplexity"), j.at("perplexity").get<double>()) << alg;
    EXPECT_EQ(r.row.n, 1024u);
    EXPECT_EQ(r.row.windows, 2);
    EXPECT_EQ(r.row.calib_windows, alg == "gptq" ? 1 : 0);
    EXPECT_EQ(get_fixed(r.row.act_format), "mxint8");
    EXPECT_EQ(get_fixed(r.row.accum), "fp32");
    EXPECT_EQ(field(r.row, "weight_bits"), 4.0);
  }
  // `mxlab table` makes a bits-per-byte table of it.
  e = mxlab({"table", "--input", dir_ / "m.h5", "--rows", "algorithm", "--cols", "format",
             "--metric", "bits_per_byte"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("| algorithm \\ format | mxint4 |"));
  EXPECT_THAT(e.out, HasSubstr("| gptq | "));
}

TEST_F(ModelSweep, ResumeContinuesAKilledModelSweep) {
  testing::write_text(dir_ / "r.toml",
                      model_config("formats = [\"mxint8\", \"mxint4\", \"mxint3\"]", 3));
  const std::string out = dir_ / "r.h5";
  const pid_t pid = testing::spawn({MXLAB_BIN, "sweep", "--config", dir_ / "r.toml", "--output",
                                    out, "--threads", "1", "--commit-interval", "0"},
                                   dir_ / "killed");
  // Kill it once the first point is in the file.
  std::size_t have = 0;
  for (int i = 0; i < 6000 && have == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      have = std::filesystem::exists(out) ? read_results(out).records.size() : 0;
    } catch (const std::exception&) {
    }
  }
  ::kill(pid, SIGKILL);
  testing::wait_for(pid, dir_ / "killed");
  const ResultFile part = read_results(out);
  ASSERT_GE(part.records.size(), 1u);
  ASSERT_LT(part.records.size(), 3u) << "the sweep finished before it was killed";
  EXPECT_EQ(part.complete, 0);
  auto e = mxlab({"sweep", "--config", dir_ / "r.toml", "--output", out, "--resume", "--no-table"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_THAT(e.err, HasSubstr(fmt::format("({} computed, {} already in the file)",
                                           3 - part.records.size(), part.records.size())));
  const ResultFile full = read_results(out);
  ASSERT_EQ(full.records.size(), 3u);
  EXPECT_EQ(full.complete, 1);
  for (std::size_t i = 0; i < part.records.size(); ++i)
    EXPECT_EQ(field(full.records[i].row, "bits_per_byte"),
              field(part.records[i].row, "bits_per_byte"));
  // An uninterrupted run gives the same file (up to time, host and pid).
  e = mxlab({"sweep", "--config", dir_ / "r.toml", "--output", dir_ / "u.h5", "--no-table"});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(testing::compare_results(full, read_results(dir_ / "u.h5")), "");
  // Another model setting is another config: --resume refuses the file.
  testing::write_text(dir_ / "r.toml",
                      model_config("formats = [\"mxint8\", \"mxint4\", \"mxint3\"]", 4));
  e = mxlab({"sweep", "--config", dir_ / "r.toml", "--output", out, "--resume"});
  EXPECT_EQ(e.code, 1);
  EXPECT_THAT(e.err, HasSubstr("was written by a different sweep config"));
}

TEST_F(ModelSweep, ConfigErrorsNameTheKey) {
  auto err = [&](const std::string& text) {
    testing::write_text(dir_ / "e.toml", text);
    const auto e = mxlab({"sweep", "--config", dir_ / "e.toml", "--output", dir_ / "e.h5"});
    EXPECT_EQ(e.code, 1);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "e.h5"));
    return e.err;
  };
  const std::string f = dir_ / "e.toml";
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]\nalgorithms = [\"optq\"]")),
              HasSubstr(f + ": sweep.algorithms[0]: unknown algorithm 'optq'"));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]\naccum_models = [\"h200-magic\"]")),
              HasSubstr(f + ": sweep.accum_models[0]: "));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]\nact_formats = [\"mxint9z\"]")),
              HasSubstr(f + ": sweep.act_formats[0]: "));
  EXPECT_THAT(err(model_config("formats = [\"mixed\"]")),
              HasSubstr(f + ": workloads.byte.bits_budget: missing"));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]\nact_formats = [\"mxint8\"]\n"
                               "algorithms = [\"crossquant\"]")),
              HasSubstr(f + ": sweep.algorithms[0]: crossquant quantizes activations itself"));
  EXPECT_THAT(err(model_config("formats = [\"none\"]\nalgorithms = [\"gptq\"]")),
              HasSubstr(f + ": sweep.formats[0]: 'none' (fp32 weights) cannot run algorithm"));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]", 100000)),
              HasSubstr(f + ": workloads.byte.windows: "));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]", 2, 100000)),
              HasSubstr(f + ": workloads.byte.calib_windows: "));
  std::string no_calib = model_config("formats = [\"mxint4\"]\nalgorithms = [\"gptq\"]");
  no_calib.erase(no_calib.find("calib = "),
                 no_calib.find("calib_windows") - no_calib.find("calib = "));
  EXPECT_THAT(err(no_calib), HasSubstr(f + ": workloads.byte.calib: missing: algorithm 'gptq'"));
  EXPECT_THAT(err(model_config("formats = [\"mxint4\"]\nroundings = [\"stochastic\"]")),
              HasSubstr(f + ": sweep.roundings[0]: model workloads need a deterministic"));
  std::string bad_path = model_config("formats = [\"mxint4\"]");
  bad_path.replace(bad_path.find("path = \"") + 8, kModelDir.size(), "/nonexistent");
  EXPECT_THAT(err(bad_path), HasSubstr(f + ": workloads.byte.path: no such folder"));
}

}  // namespace
}  // namespace mx::experiments
