// Sweep config validation: every error names the config, the key path and the bad value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "experiments/config.hpp"
#include "experiments/sweep.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kWorkload = R"(
[workloads.w]
kind = "normal"
shape = [4, 64]
)";

SweepConfig parse(const std::string& text) { return parse_config(text, "test.toml", "", "test"); }

// The message of the ConfigError that parsing `text` throws ("" if none).
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
std::string sweep_error(const std::string& sweep_body) {
  return error_of("[sweep]\n" + sweep_body + "\n" + kWorkload);
}

TEST(SweepConfig, DefaultConfigIsTheDocumentedSweep) {
  const SweepConfig c = default_config();
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.formats.size(), 6u);
  EXPECT_EQ(c.block_sizes, (std::vector<int>{8, 16, 32, 64, 128, 256}));
  EXPECT_EQ(c.roundings, (std::vector<Rounding>{Rounding::kNearestEven, Rounding::kNearestAway,
                                                Rounding::kTowardZero, Rounding::kStochastic}));
  EXPECT_EQ(c.workload_specs.at("llm_act").kind(), WorkloadKind::kLlmActivations);
  EXPECT_EQ(expand(c).size(), 144u);
  EXPECT_EQ(c.report.where.size(), 1u);
  EXPECT_EQ(c.text, default_config_text());
}

TEST(SweepConfig, MinimalConfigTakesDefaults) {
  const SweepConfig c = parse(std::string("[sweep]\nformats = [\"mxint8\"]\n") + kWorkload);
  EXPECT_EQ(c.name, "test");
  EXPECT_EQ(c.block_sizes, std::vector<int>{32});
  EXPECT_EQ(c.scale_rules, std::vector<ScaleRule>{ScaleRule::kFloor});
  EXPECT_EQ(c.roundings, std::vector<Rounding>{Rounding::kNearestEven});
  EXPECT_EQ(c.seeds, std::vector<std::int64_t>{0});
  EXPECT_EQ(c.workloads, std::vector<std::string>{"w"});
  EXPECT_EQ(std::get<NormalWorkload>(c.workload_specs.at("w").params).shape,
            (std::vector<std::size_t>{4, 64}));
}

TEST(SweepConfig, BlockSizeZeroNamesTheKeyPath) {
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nblock_sizes = [8, 16, 0]"),
            "test.toml: sweep.block_sizes[2]: block size must be >= 1 (got 0)");
}

TEST(SweepConfig, UnknownKeyIsAnError) {
  EXPECT_THAT(
      sweep_error("formats = [\"mxint8\"]\nblock_size = [32]"),
      StartsWith(
          "test.toml: sweep.block_size: unknown key (expected one of: name, formats, block_sizes"));
  EXPECT_THAT(error_of(std::string("colour = 1\n[sweep]\nformats = [\"mxint8\"]\n") + kWorkload),
              StartsWith("test.toml: colour: unknown key"));
  EXPECT_THAT(error_of("[sweep]\nformats = [\"mxint8\"]\n[workloads.w]\nkind = \"normal\"\nshape = "
                       "[4]\nsigma = 2\n"),
              StartsWith("test.toml: workloads.w.sigma: unknown key (expected one of: kind, shape, "
                         "axis, mean, std)"));
}

TEST(SweepConfig, UnknownFormatNamesTheEntry) {
  const std::string e = sweep_error("formats = [\"mxint8\", \"mxfp9_e9m9\"]");
  EXPECT_THAT(e, StartsWith("test.toml: sweep.formats[1]: "));
  EXPECT_THAT(e, HasSubstr("mxfp9_e9m9"));
  EXPECT_THAT(
      sweep_error("formats = [\"e4m3\"]"),
      StartsWith(
          "test.toml: sweep.formats[0]: 'e4m3' is an element format without a shared scale"));
  EXPECT_THAT(sweep_error("formats = [\"nvfp4\"]"),
              StartsWith("test.toml: sweep.formats[0]: 'nvfp4' has a nvfp4 scale"));
  EXPECT_THAT(sweep_error("formats = []"),
              StartsWith("test.toml: sweep.formats: must not be empty"));
  EXPECT_THAT(sweep_error("block_sizes = [8]"), StartsWith("test.toml: sweep.formats: missing"));
}

TEST(SweepConfig, BadValuesNameKeyAndValue) {
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nblock_sizes = [\"32\"]"),
            "test.toml: sweep.block_sizes[0]: expected an integer (got \"32\")");
  EXPECT_EQ(sweep_error("formats = \"mxint8\""),
            "test.toml: sweep.formats: expected an array (got \"mxint8\")");
  EXPECT_THAT(sweep_error("formats = [\"mxint8\"]\nroundings = [\"nearest\"]"),
              StartsWith("test.toml: sweep.roundings[0]: unknown rounding mode 'nearest'"));
  EXPECT_THAT(sweep_error("formats = [\"mxint8\"]\nscale_rules = [\"floor\", \"round\"]"),
              StartsWith("test.toml: sweep.scale_rules[1]: unknown scale rule 'round'"));
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nseeds = [1, -2]"),
            "test.toml: sweep.seeds[1]: seed must be >= 0 (got -2)");
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nblock_sizes = [32, 16, 32]"),
            "test.toml: sweep.block_sizes[2]: duplicate of sweep.block_sizes[0] (32)");
  EXPECT_THAT(sweep_error("formats = [\"mxfp8_e4m3\", \"mxe4m3\"]"),
              StartsWith("test.toml: sweep.formats[1]: duplicate of sweep.formats[0]"));
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nblock_sizes = [2000000]"),
            "test.toml: sweep.block_sizes[0]: block size must be <= 1048576 (got 2000000)");
  EXPECT_THAT(sweep_error("formats = [\"mxint8\"]\nworkloads = [\"zz\"]"),
              StartsWith("test.toml: sweep.workloads[0]: no workload 'zz'"));
}

TEST(SweepConfig, ModelAxesNeedAModelWorkload) {
  EXPECT_EQ(sweep_error("formats = [\"mxint8\"]\nalgorithms = [\"gptq\"]"),
            "test.toml: sweep.algorithms: applies to model workloads only (no workload in "
            "sweep.workloads has kind = \"model\")");
  EXPECT_THAT(sweep_error("formats = [\"mxint8\"]\naccum_models = [\"h100-mma-fp8\"]"),
              StartsWith("test.toml: sweep.accum_models: applies to model workloads only"));
  EXPECT_THAT(sweep_error("formats = [\"mxint8\"]\nact_formats = [\"mxint8\"]"),
              StartsWith("test.toml: sweep.act_formats: applies to model workloads only"));
  EXPECT_THAT(sweep_error("formats = [\"none\"]"),
              StartsWith("test.toml: sweep.formats[0]: 'none' applies to model workloads only"));
  EXPECT_THAT(
      error_of(std::string("[sweep]\nformats = [\"mxint8\"]\n[accum_models.h100]\nalign = 25\n") +
               kWorkload),
      StartsWith("test.toml: accum_models: custom accumulation-model tables are reserved"));
  EXPECT_THAT(
      error_of(std::string("[sweep]\nformats = [\"mxint8\"]\n[algorithms.gptq]\nblock = 1\n") +
               kWorkload),
      StartsWith("test.toml: algorithms: per-algorithm option tables are reserved"));
}

TEST(SweepConfig, WorkloadValidation) {
  auto wl = [](const std::string& body) {
    return error_of("[sweep]\nformats = [\"mxint8\"]\n[workloads.w]\n" + body + "\n");
  };
  EXPECT_EQ(wl("shape = [4]"),
            "test.toml: workloads.w.kind: missing (normal, laplace, student_t, llm_activations, "
            "weights, file, model)");
  EXPECT_THAT(wl("kind = \"gauss\"\nshape = [4]"),
              StartsWith("test.toml: workloads.w.kind: unknown workload kind 'gauss'"));
  EXPECT_EQ(wl("kind = \"normal\"\nshape = [4, 0]"),
            "test.toml: workloads.w.shape[1]: dimension must be >= 1 (got 0)");
  EXPECT_EQ(wl("kind = \"normal\""),
            "test.toml: workloads.w.shape: missing (e.g. shape = [256, 4096])");
  EXPECT_EQ(wl("kind = \"normal\"\nshape = [4, 8]\naxis = 2"),
            "test.toml: workloads.w.axis: axis 2 is out of range for shape of rank 2");
  EXPECT_EQ(wl("kind = \"normal\"\nshape = [4]\nstd = 0"),
            "test.toml: workloads.w.std: must be > 0 (got 0)");
  EXPECT_EQ(wl("kind = \"llm_activations\"\nshape = [4096]"),
            "test.toml: workloads.w.shape: llm_activations needs a rank-2 shape ([tokens, "
            "channels]) (got rank 1)");
  EXPECT_EQ(wl("kind = \"llm_activations\"\nshape = [4, 8]\noutlier_scale = [10.0]"),
            "test.toml: workloads.w.outlier_scale: expected [min, max] (got 1 values)");
  EXPECT_EQ(wl("kind = \"llm_activations\"\nshape = [4, 8]\noutlier_channel_fraction = 1.5"),
            "test.toml: workloads.w.outlier_channel_fraction: must be <= 1 (got 1.5)");
  EXPECT_THAT(wl("kind = \"file\"\npath = \"/nonexistent/x.npy\""),
              StartsWith("test.toml: workloads.w.path: no such file '/nonexistent/x.npy'"));
  EXPECT_EQ(error_of("[sweep]\nformats = [\"mxint8\"]\n"),
            "test.toml: workloads: missing (define at least one [workloads.NAME] table)");
}

TEST(SweepConfig, ReportIsValidatedAgainstTheAxes) {
  const std::string base = std::string("[sweep]\nformats = [\"mxint8\"]\n") + kWorkload;
  EXPECT_THAT(error_of(base + "[report]\nmetric = \"snr\"\n"),
              StartsWith("test.toml: report.metric: unknown metric 'snr'"));
  EXPECT_THAT(error_of(base + "[report]\nrows = \"colour\"\n"),
              StartsWith("test.toml: report.rows: 'colour' is not a sweep parameter"));
  EXPECT_THAT(error_of(base + "[report]\nwhere = { rounding = \"stochastic\" }\n"),
              StartsWith("test.toml: report.where.rounding: 'stochastic' is not a value of the "
                         "rounding axis (nearest-even)"));
  EXPECT_EQ(parse(base + "[report]\nwhere = { block_size = 32 }\n").report.where.at(0).second,
            "32");
}

TEST(SweepConfig, SyntaxErrorsGiveLineAndColumn) {
  EXPECT_THAT(error_of("[sweep]\nformats = [\"mxint8\"\n"),
              StartsWith("test.toml:2:21: TOML syntax error: Error while parsing array"));
}

TEST(SweepConfig, MissingFileNamesTheFlag) {
  try {
    load_config_file("/nonexistent/sweep.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "--config /nonexistent/sweep.toml: cannot read the file");
  }
}

TEST(SweepConfig, FileWorkloadPathsResolveAgainstTheConfigFolder) {
  testing::TempDir dir("cfg");
  testing::write_text(dir / "x.npy", "");
  testing::write_text(
      dir / "s.toml",
      "[sweep]\nformats = [\"mxint8\"]\n[workloads.f]\nkind = \"file\"\npath = \"x.npy\"\n");
  const SweepConfig c = load_config_file(dir / "s.toml");
  EXPECT_EQ(c.name, "s");
  EXPECT_EQ(std::get<FileWorkload>(c.workload_specs.at("f").params).path, dir / "x.npy");
}

TEST(SweepConfig, CanonicalTextIgnoresLayoutButNotValues) {
  const SweepConfig a = parse(
      std::string("[sweep]\nformats = [\"mxint8\"] # c\nblock_sizes = [16, 32]\n") + kWorkload);
  const SweepConfig b = parse(std::string(kWorkload) +
                              "\n[sweep]\nblock_sizes = [ 16,32 ]\n\nformats = "
                              "[\"mxint8\"]\n[report]\nrows = \"block_size\"\ncols = \"format\"\n");
  const SweepConfig c =
      parse(std::string("[sweep]\nformats = [\"mxint8\"]\nblock_sizes = [32, 16]\n") + kWorkload);
  EXPECT_EQ(canonical_text(a), canonical_text(b));
  EXPECT_NE(canonical_text(a), canonical_text(c));
}

// The canonical text (what --resume compares with the result file) of every workload kind is
// the one recorded from the code before workloads became a std::variant of per-kind structs:
// result files written before it stay resumable.
TEST(SweepConfig, CanonicalTextOfEveryWorkloadKindIsUnchanged) {
  testing::TempDir dir("canon");
  testing::write_text(dir / "x.npy", "");
  std::filesystem::create_directory(dir / "m");
  testing::write_text(dir / "m/config.json", "{}");
  testing::write_text(dir / "text.txt", std::string(1000, 'a'));
  auto canonical = [&](const char* toml) {
    return canonical_text(parse_config(toml, "t.toml", dir.path(), "t"));
  };
  auto recorded = [&](std::string s) {
    for (std::size_t p; (p = s.find("{dir}")) != std::string::npos;) s.replace(p, 5, dir.path());
    return s;
  };
  EXPECT_EQ(canonical(R"([sweep]
formats = ["mxint8", "mxfp4_e2m1"]
block_sizes = [16, 32]
workloads = ["n", "l", "t", "a", "w", "f"]

[workloads.n]
kind = "normal"
shape = [4, 64]
mean = 0.25
std = 3.5
axis = 0

[workloads.l]
kind = "laplace"
shape = [128]
loc = -1.5
scale = 0.125

[workloads.t]
kind = "student_t"
shape = [2, 3, 64]
dof = 4.5
scale = 2

[workloads.a]
kind = "llm_activations"
shape = [16, 256]
outlier_channel_fraction = 0.01
outlier_scale = [10, 30.5]
heavy_token_fraction = 0.1
dof = 2.5

[workloads.w]
kind = "weights"
shape = [8, 64]
row_scale_sigma = 0.5

[workloads.f]
kind = "file"
path = "x.npy"
axis = -1
)"),
            recorded(R"(formats = mxint8 mxfp4_e2m1
block_sizes = 16 32
scale_rules = floor
roundings = nearest-even
seeds = 0
workloads = n l t a w f
workload n: kind=normal axis=0 shape=4x64 mean=0.25 std=3.5
workload l: kind=laplace axis=-1 shape=128 loc=-1.5 scale=0.125
workload t: kind=student_t axis=-1 shape=2x3x64 dof=4.5 scale=2
workload a: kind=llm_activations axis=-1 shape=16x256 outlier_channel_fraction=0.01 outlier_scale=10,30.5 heavy_token_fraction=0.1 dof=2.5
workload w: kind=weights axis=-1 shape=8x64 std=0.02 row_scale_sigma=0.5
workload f: kind=file axis=-1 path={dir}/x.npy
)"));
  EXPECT_EQ(canonical(R"([sweep]
formats = ["mxint4", "mixed"]
act_formats = ["none", "int8"]
algorithms = ["none", "gptq", "smoothquant+awq+gptq"]
workloads = ["m"]

[workloads.m]
kind = "model"
path = "m"
text = "text.txt"
calib = "text.txt"
windows = 2
window_size = 128
calib_windows = 3
bits_budget = 3.5
mixed_levels = ["mxint2", "mxint4", "mxint8"]
)"),
            recorded(R"(formats = mxint4 mixed
block_sizes = 32
scale_rules = floor
roundings = nearest-even
seeds = 0
workloads = m
act_formats = none int8
algorithms = none gptq smoothquant+awq+gptq
accum_models = fp32
workload m: kind=model path={dir}/m text={dir}/text.txt windows=2 window_size=128 calib={dir}/text.txt calib_windows=3 bits_budget=3.5 mixed_levels=mxint2,mxint4,mxint8
)"));
}

}  // namespace
}  // namespace mx::experiments
