// eval_model (a Llama checkpoint on a byte text, as `mxlab eval`) and the sweep result reader
// behind mxlab.results.load.
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include "experiments/h5_results.hpp"
#include "experiments/model/eval.hpp"
#include "experiments/model/model_error.hpp"
#include "experiments/model/model_ptq.hpp"
#include "experiments/record.hpp"
#include "tools/python/src/bind.hpp"

namespace mx::py {
namespace {

nlohmann::json num_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

struct EvalArgs {
  std::string model, text, weight_format, act_format, accum, algorithm;
  std::optional<std::string> calib;
  long long windows, window_size, calib_windows, stats_windows;
  int block_size, threads;
  double bits_budget, alpha;
  std::vector<std::string> levels;
};

nlohmann::json ptq_json(const model::ModelPtqSummary& s) {
  nlohmann::json j = {{"algorithm", s.algorithm},
                      {"calib_windows", s.calib_windows},
                      {"bits_budget", s.bits_budget},
                      {"weight_bits", s.weight_bits},
                      {"seconds", s.seconds}};
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers)
    layers.push_back(
        {{"name", l.name},
         {"weight_format", l.weight_format},
         {"weight_bits", l.weight_bits},
         {"params", l.params},
         {"calib_output_sqnr_db", num_or_null(l.output.sqnr_db)},
         {"calib_output_mse", num_or_null(l.output.mse)},
         {"calib_output_cosine", num_or_null(l.output.cosine)},
         {"weight_sqnr_db", num_or_null(l.weight_sqnr_db)},
         {"act_kernel_proportion", l.act_kernel},
         {"smooth_min", l.smooth_min},
         {"smooth_max", l.smooth_max},
         {"awq_ratio", l.awq_ratio < 0 ? nlohmann::json() : nlohmann::json(l.awq_ratio)},
         {"gptq_damp", l.gptq_damp < 0 ? nlohmann::json() : nlohmann::json(l.gptq_damp)},
         {"rtn_distortion", l.distortion < 0 ? nlohmann::json() : nlohmann::json(l.distortion)},
         {"seconds", l.seconds}});
  j["layers"] = layers;
  return j;
}

// The checks and the report of cmd_eval.cpp's run_eval; returns the report as JSON text.
std::string eval_py(const EvalArgs& a, const std::string& version) {
  using model::ModelError;
  if (a.windows < 0) throw ArgError(fmt::format("--windows must be >= 0 (got {})", a.windows));
  if (a.window_size < 1)
    throw ArgError(fmt::format("--window-size must be >= 1 (got {})", a.window_size));
  if (a.threads < 1) throw ArgError(fmt::format("--threads must be >= 1 (got {})", a.threads));
  if (a.stats_windows < 0)
    throw ArgError(fmt::format("--stats-windows must be >= 0 (got {})", a.stats_windows));
  if (a.calib_windows < 0)
    throw ArgError(fmt::format("--calib-windows must be >= 0 (got {})", a.calib_windows));
  model::ModelPtqOptions ptq;
  ptq.format = model::parse_linear_format(a.weight_format, a.act_format, a.block_size, a.accum);
  ptq.algorithm = a.algorithm;
  ptq.calib_path = a.calib.value_or("");
  ptq.calib_windows = static_cast<std::size_t>(a.calib_windows);
  ptq.window_size = static_cast<std::size_t>(a.window_size);
  ptq.bits_budget = a.bits_budget;
  ptq.threads = a.threads;
  ptq.block_size = a.block_size;
  ptq.alpha = a.alpha;
  ptq.levels = a.levels;
  if (!(a.alpha >= 0 && a.alpha <= 1))
    throw ArgError(fmt::format("--alpha must be in [0, 1] (got {})", a.alpha));
  model::EvalOptions eo;
  eo.windows = static_cast<std::size_t>(a.windows);
  eo.window_size = static_cast<std::size_t>(a.window_size);
  eo.threads = a.threads;
  eo.stats_windows = static_cast<std::size_t>(a.stats_windows);

  nb::gil_scoped_release release;
  const std::vector<unsigned char> text = model::read_text(a.text);
  model::LlamaModel m = model::LlamaModel::load(a.model);
  model::check_eval_options(m.config(), text.size(), eo);  // before PTQ
  const model::ModelPtqSummary summary = model::apply_model_ptq(m, ptq);
  const model::EvalResult r = model::evaluate(m, text, eo);

  nlohmann::json j;
  j["bits_per_byte"] = r.bits_per_byte;
  j["perplexity"] = r.perplexity;
  j["predictions"] = r.predictions;
  j["windows"] = r.windows;
  j["window_size"] = r.window_size;
  j["weight_format"] = a.weight_format;
  j["act_format"] = a.act_format;
  j["block_size"] = a.block_size;
  j["accum"] = a.accum;
  j["algorithm"] = summary.algorithm;
  j["threads"] = a.threads;
  j["stats_windows"] = r.per_layer.empty() ? 0 : std::min<std::size_t>(eo.stats_windows, r.windows);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.per_layer)
    layers.push_back({{"name", l.name},
                      {"sqnr_db", num_or_null(l.stats.sqnr_db())},
                      {"mse", num_or_null(l.stats.mse())},
                      {"max_abs_error", num_or_null(l.stats.max_abs)},
                      {"cosine", num_or_null(l.stats.cosine())},
                      {"outputs", l.stats.n}});
  j["per_layer"] = layers;
  j["ptq"] = ptq_json(summary);
  j["seconds"] = r.seconds;
  j["model"] = a.model;
  j["text"] = a.text;
  j["mxlab_version"] = version;
  return j.dump(2);
}

// An integer column read from the rows at the field's offset (exact, also for 64-bit values).
template <typename T>
std::vector<T> int_column(const experiments::ResultFile& f, const experiments::FieldDef& fd) {
  std::vector<T> v(f.records.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    std::memcpy(&v[i], reinterpret_cast<const char*>(&f.records[i].row) + fd.offset, sizeof(T));
  return v;
}

// A sweep result file (experiments/h5_reader.cpp) as columns: each /points field a list (text)
// or a float64 array (numbers), the error histograms an N x bins uint64 array, and the root
// attributes and axes.
nb::dict read_results_py(const std::string& path) {
  experiments::ResultFile f;
  {
    nb::gil_scoped_release release;
    f = experiments::read_results(path);
  }
  nb::dict d;
  nb::dict attrs;
  for (const auto& [k, v] : f.attrs) attrs[k.c_str()] = v;
  attrs["schema_version"] = f.schema_version;
  attrs["points_total"] = f.points_total;
  attrs["complete"] = f.complete;
  d["attrs"] = attrs;
  nb::dict axes;
  for (const auto& [k, v] : f.axes) axes[k.c_str()] = v;
  d["axes"] = axes;
  nb::list names;
  nb::dict cols;
  const std::size_t n = f.records.size();
  for (const experiments::FieldDef& fd : experiments::point_fields()) {
    const std::string name(fd.name);
    names.append(name);
    if (fd.type == experiments::FieldType::kStr) {
      nb::list v;
      for (const auto& r : f.records) v.append(experiments::field_string(r.row, fd));
      cols[name.c_str()] = v;
    } else if (fd.type == experiments::FieldType::kF64) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) v[i] = experiments::field_number(f.records[i].row, fd);
      cols[name.c_str()] = numpy_from_vector(std::move(v), {n});
    } else if (fd.type == experiments::FieldType::kU64) {
      cols[name.c_str()] = numpy_from_vector(int_column<std::uint64_t>(f, fd), {n});
    } else if (fd.type == experiments::FieldType::kI64) {
      cols[name.c_str()] = numpy_from_vector(int_column<std::int64_t>(f, fd), {n});
    } else {
      cols[name.c_str()] = numpy_from_vector(int_column<std::int32_t>(f, fd), {n});
    }
  }
  d["names"] = names;
  d["columns"] = cols;
  std::vector<std::uint64_t> hist(n * experiments::kHistBins);
  for (std::size_t i = 0; i < n; ++i)
    std::copy(f.records[i].hist.begin(), f.records[i].hist.end(),
              hist.begin() + i * experiments::kHistBins);
  d["hist"] = numpy_from_vector(std::move(hist), {n, std::size_t{experiments::kHistBins}});
  const auto edges = experiments::error_histogram_edges();
  d["hist_edges"] = std::vector<double>(edges.begin(), edges.end());
  return d;
}

}  // namespace

void register_model(nb::module_& m) {
  using namespace nb::literals;
  m.def(
      "eval_model",
      [](const std::string& model, const std::string& text, long long windows,
         long long window_size, const std::string& weight_format, const std::string& act_format,
         int block_size, const std::string& accum, int threads, long long stats_windows,
         const std::string& algorithm, std::optional<std::string> calib, long long calib_windows,
         double bits_budget, std::vector<std::string> levels, double alpha,
         const std::string& version) {
        EvalArgs a{model,   text,        weight_format, act_format,    accum,         algorithm,
                   calib,   windows,     window_size,   calib_windows, stats_windows, block_size,
                   threads, bits_budget, alpha,         levels};
        return eval_py(a, version);
      },
      "model"_a, "text"_a, "windows"_a, "window_size"_a, "weight_format"_a, "act_format"_a,
      "block_size"_a, "accum"_a, "threads"_a, "stats_windows"_a, "algorithm"_a, "calib"_a.none(),
      "calib_windows"_a, "bits_budget"_a, "levels"_a, "alpha"_a, "version"_a);
  m.def("read_results", &read_results_py, "path"_a);
}

}  // namespace mx::py
