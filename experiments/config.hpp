// The sweep configuration: TOML text -> a validated, typed SweepConfig.
//
// Validation happens once, here: every error names the config (file or "<default config>"),
// the key path and the bad value, e.g.
//   sweep.toml: sweep.block_sizes[2]: block size must be >= 1 (got 0)
// Unknown keys are errors. The model axes (sweep.act_formats, sweep.algorithms,
// sweep.accum_models) apply to `model` workloads only; tables [algorithms] / [accum_models]
// are reserved and rejected with their own message.
// The schema is documented in results/README.md and by the default config (default_config.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "formats/mx_format.hpp"
#include "formats/rounding.hpp"

namespace mx::experiments {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A workload: its name, the axis along which MX blocks run, and the parameters of its kind
// (one struct per kind; the TOML keys of [workloads.NAME] are the struct's members, `std` for
// stddev and `outlier_scale = [min, max]`).
struct NormalWorkload {  // N(mean, std^2)
  std::vector<std::size_t> shape;
  double mean = 0.0, stddev = 1.0;
};
struct LaplaceWorkload {  // Laplace(loc, scale)
  std::vector<std::size_t> shape;
  double loc = 0.0, scale = 1.0;
};
struct StudentTWorkload {  // scale * t(dof)
  std::vector<std::size_t> shape;
  double dof = 3.0, scale = 1.0;
};
struct LlmActivationsWorkload {  // [tokens, channels]: N(0,1), heavy-tailed tokens, outliers
  std::vector<std::size_t> shape;
  double outlier_channel_fraction = 0.005;
  double outlier_scale_min = 20.0, outlier_scale_max = 100.0;
  double heavy_token_fraction = 0.05;
  double dof = 3.0;  // of the heavy-tailed tokens
};
struct WeightsWorkload {  // [out, in]: N(0, std^2) times a log-normal per-row scale
  std::vector<std::size_t> shape;
  double stddev = 0.02, row_scale_sigma = 0.25;
};
struct FileWorkload {  // a tensor from disk (.npy or file.h5:/dataset)
  std::string path;    // as resolved
};
// A Llama checkpoint evaluated on a text (bits per byte), optionally PTQ'd: the evaluation
// text, its first `windows` non-overlapping windows of `window_size` bytes; calibration text
// and windows for PTQ; mixed precision (format "mixed").
struct ModelWorkload {
  std::string path;  // the checkpoint folder
  std::string text, calib;
  int windows = 8, window_size = 512, calib_windows = 32;
  double bits_budget = 0;                 // > 0: format "mixed" allocates under this budget
  std::vector<std::string> mixed_levels;  // candidate weight formats, ascending bits
};

// The kinds, in the order of WorkloadParams' alternatives.
enum class WorkloadKind : std::uint8_t {
  kNormal,
  kLaplace,
  kStudentT,
  kLlmActivations,
  kWeights,
  kFile,
  kModel,
};
std::string_view workload_kind_name(WorkloadKind k);

using WorkloadParams =
    std::variant<NormalWorkload, LaplaceWorkload, StudentTWorkload, LlmActivationsWorkload,
                 WeightsWorkload, FileWorkload, ModelWorkload>;

// std::visit over a WorkloadParams with one lambda per kind.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

struct WorkloadSpec {
  std::string name;
  int axis = -1;  // the axis along which MX blocks run (model: unused)
  WorkloadParams params;
  WorkloadKind kind() const { return static_cast<WorkloadKind>(params.index()); }
  bool is_model() const { return std::holds_alternative<ModelWorkload>(params); }
  const ModelWorkload& model() const { return std::get<ModelWorkload>(params); }
};

// The table printed after a sweep ([report]); also the defaults of `mxlab table`.
struct ReportSpec {
  std::string rows = "format";
  std::string cols = "block_size";
  std::string metric = "sqnr_db";
  std::vector<std::pair<std::string, std::string>> where;
};

struct SweepConfig {
  std::string name;                  // sweep.name; default: the config file's stem
  std::vector<std::string> formats;  // MX format names as written (validated)
  std::vector<int> block_sizes;
  std::vector<ScaleRule> scale_rules;
  std::vector<Rounding> roundings;
  std::vector<std::int64_t> seeds;
  // Model workloads only (tensor workloads run each point once, with these left empty):
  std::vector<std::string> act_formats;   // default ["none"]
  std::vector<std::string> algorithms;    // default ["none"]: direct cast, no PTQ
  std::vector<std::string> accum_models;  // default ["fp32"]
  std::vector<std::string> workloads;     // the names run, in sweep.workloads order
  std::map<std::string, WorkloadSpec> workload_specs;
  ReportSpec report;
  std::string text;    // the TOML text as given
  std::string origin;  // the file it came from, or "<default config>"
};

// Parses and validates. `origin` prefixes error messages; relative workload paths are
// resolved against `base_dir` (the config file's folder). Throws ConfigError.
SweepConfig parse_config(std::string_view text, const std::string& origin,
                         const std::string& base_dir, const std::string& default_name);

// Reads `path` and parses it (name defaults to the file's stem). Throws ConfigError naming
// the file when it cannot be read.
SweepConfig load_config_file(const std::string& path);

// The embedded default config (name "default").
SweepConfig default_config();
std::string_view default_config_text();

// A canonical one-line-per-setting text of everything that determines the points and their
// values (not `report`, not comments or key order). Two configs with equal canonical text
// produce the same result file; --resume checks this.
std::string canonical_text(const SweepConfig& c);

}  // namespace mx::experiments
