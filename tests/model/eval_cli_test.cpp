// mxlab eval from the outside: bad inputs fail with one line naming the culprit, exit 1, and
// leave no report; a good run writes the report with its documented keys.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/run_mxlab.hpp"

namespace mx::test {
namespace {

namespace fs = std::filesystem;
const fs::path kModel = fs::path(MX_SHARED_DIR) / "models/bytellama-7m";
const std::string kText = (kModel / "data/wiki_test.txt").string();

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), std::streamsize(s.size()));
}

// A copy of the model in dir/model; returns its path.
fs::path copy_model(const fs::path& dir) {
  const fs::path m = dir / "model";
  fs::create_directories(m);
  fs::copy_file(kModel / "config.json", m / "config.json");
  fs::copy_file(kModel / "model.safetensors", m / "model.safetensors");
  return m;
}

// Rewrites the safetensors header of `file` with edit(json).
template <typename Fn>
void edit_header(const fs::path& file, Fn&& edit) {
  const std::string all = slurp(file);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(all[std::size_t(i)]);
  nlohmann::json h = nlohmann::json::parse(all.substr(8, n));
  edit(h);
  const std::string hs = h.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[std::size_t(i)] = static_cast<char>((hs.size() >> (8 * i)) & 0xFF);
  spit(file, out + hs + all.substr(8 + n));
}

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel / "model.safetensors")) GTEST_SKIP() << kModel << " missing";
    dir_ = fresh_test_dir("evalcli");
    report_ = dir_ / "report.json";
  }
  std::string args(const fs::path& model, const std::string& text, const std::string& more = "") {
    return "eval --model " + model.string() + " --text " + text + " --windows 1 --report " +
           report_.string() + " " + more;
  }
  fs::path dir_, report_;
};

TEST_F(EvalCli, MissingModelFolder) {
  expect_clean_failure(args(dir_ / "nope", kText), 1, "does not exist", report_, "eval1");
}

TEST_F(EvalCli, TruncatedSafetensors) {
  const fs::path m = copy_model(dir_);
  fs::resize_file(m / "model.safetensors", fs::file_size(m / "model.safetensors") / 2);
  expect_clean_failure(args(m, kText), 1, "truncated", report_, "eval2");
  fs::resize_file(m / "model.safetensors", 5);
  expect_clean_failure(args(m, kText), 1, "too short", report_, "eval2b");
}

TEST_F(EvalCli, UnsupportedDtype) {
  const fs::path m = copy_model(dir_);
  edit_header(m / "model.safetensors",
              [](nlohmann::json& h) { h["model.norm.weight"]["dtype"] = "I16"; });
  expect_clean_failure(args(m, kText), 1, "tensor model.norm.weight has dtype I16, unsupported",
                       report_, "eval3");
}

TEST_F(EvalCli, MissingTensor) {
  const fs::path m = copy_model(dir_);
  edit_header(m / "model.safetensors",
              [](nlohmann::json& h) { h.erase("model.layers.2.mlp.up_proj.weight"); });
  expect_clean_failure(args(m, kText), 1, "missing tensor model.layers.2.mlp.up_proj.weight",
                       report_, "eval3b");
}

TEST_F(EvalCli, ShapeMismatchWithConfig) {
  const fs::path m = copy_model(dir_);
  std::string cfg = slurp(m / "config.json");
  nlohmann::json j = nlohmann::json::parse(cfg);
  j["intermediate_size"] = 800;
  spit(m / "config.json", j.dump());
  expect_clean_failure(args(m, kText), 1,
                       "model.layers.0.mlp.gate_proj.weight: shape [864, 320] does not match "
                       "config.json (expected [800, 320])",
                       report_, "eval4");
}

TEST_F(EvalCli, UnsupportedArchitecture) {
  const fs::path m = copy_model(dir_);
  nlohmann::json j = nlohmann::json::parse(slurp(m / "config.json"));
  j["architectures"] = {"MistralForCausalLM"};
  j["model_type"] = "mistral";
  spit(m / "config.json", j.dump());
  expect_clean_failure(args(m, kText), 1, "unsupported architecture", report_, "eval5");
}

TEST_F(EvalCli, BadTextAndWindows) {
  spit(dir_ / "empty.txt", "");
  expect_clean_failure(args(kModel, (dir_ / "empty.txt").string()), 1, "is empty", report_,
                       "eval6");
  expect_clean_failure(args(kModel, (dir_ / "none.txt").string()), 1, "--text", report_, "eval6b");
  expect_clean_failure(args(kModel, kText, "--window-size 1024"), 1,
                       "--window-size 1024 exceeds the model's context", report_, "eval7");
  expect_clean_failure(args(kModel, kText, "--window-size 0"), 1, "--window-size", report_,
                       "eval7b");
  spit(dir_ / "short.txt", std::string(100, 'a'));
  expect_clean_failure(args(kModel, (dir_ / "short.txt").string()), 1, "no full window", report_,
                       "eval7c");
  expect_clean_failure("eval --model " + kModel.string() + " --text " + kText +
                           " --windows 5000 --report " + report_.string(),
                       1, "--windows 5000: the text holds only 2454", report_, "eval7d");
}

TEST_F(EvalCli, UnknownFormatsAndAccumulator) {
  expect_clean_failure(args(kModel, kText, "--weight-format mxfp5"), 1, "--weight-format", report_,
                       "eval8");
  expect_clean_failure(args(kModel, kText, "--act-format bogus"), 1, "--act-format", report_,
                       "eval8b");
  expect_clean_failure(args(kModel, kText, "--accum h200-magic"), 1, "--accum", report_, "eval8c");
  expect_clean_failure(args(kModel, kText, "--weight-format nvfp4 --accum exact"), 1, "--accum",
                       report_, "eval8d");
  expect_clean_failure(args(kModel, kText, "--algorithm gptq"), 1, "--algorithm gptq", report_,
                       "eval8e");
  expect_clean_failure("eval --text " + kText, 2, "--model", report_, "eval8f");
}

TEST_F(EvalCli, WritesReport) {
  const CmdResult r = run_mxlab(
      args(kModel, kText, "--weight-format mxint8 --act-format mxint8 --threads 2"), "eval9");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(slurp(report_));
  for (const char* k :
       {"bits_per_byte", "perplexity", "predictions", "windows", "window_size", "weight_format",
        "act_format", "block_size", "accum", "per_layer", "seconds"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["predictions"], 512);
  EXPECT_EQ(j["per_layer"].size(), 43u);
  EXPECT_EQ(j["per_layer"][42]["name"], "lm_head");
  EXPECT_GT(j["per_layer"][0]["sqnr_db"].get<double>(), 25.0);
}

}  // namespace
}  // namespace mx::test
