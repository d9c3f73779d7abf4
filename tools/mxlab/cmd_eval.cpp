// mxlab eval: a Hugging Face Llama checkpoint evaluated on a byte text (bits per byte,
// perplexity) with every linear layer through the emulator's quantizers and accumulators;
// the per-layer output error against the fp32 layers goes to the table and the report.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "algorithms/ptq_step.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/model/eval.hpp"
#include "experiments/model/model_error.hpp"
#include "experiments/model/model_ptq.hpp"
#include "experiments/progress.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct EvalArgs {
  std::string model, text, weight_format = "none", act_format = "none", accum = "fp32", report;
  std::string algorithm = "rtn", calib;
  long long windows = 128, window_size = 512, calib_windows = 0, stats_windows = 1;
  int block_size = 32, threads = 1;
  double bits_budget = 0, alpha = 0.5;
  std::vector<std::string> levels = {"mxint2", "mxint3", "mxint4", "mxint8"};
  bool progress = false;
};

nlohmann::json num_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

void print_ptq(const model::ModelPtqSummary& s) {
  if (s.calib_windows == 0) return;
  std::printf("ptq %s on %zu calibration windows (sequential, %.1f s)", s.algorithm.c_str(),
              s.calib_windows, s.seconds);
  if (s.bits_budget > 0)
    std::printf("; mixed precision: budget %g bits, allocated %.4f bits per weight", s.bits_budget,
                s.weight_bits);
  std::printf("\nper-layer PTQ error on the calibration inputs (layer output vs fp32 layer):\n");
  std::printf("  %-34s %-10s %9s %9s %8s %9s %7s\n", "layer", "weights", "out SQNR", "W SQNR",
              "kernel%", "smooth", "awq r");
  for (const auto& l : s.layers) {
    const std::string smooth = l.smooth_min == 1 && l.smooth_max == 1
                                   ? "-"
                                   : fmt::format("{:.3g}", l.smooth_max / l.smooth_min);
    const std::string awq = l.awq_ratio < 0 ? "-" : fmt::format("{:.2f}", l.awq_ratio);
    std::printf("  %-34s %-10s %9.2f %9.2f %8.3f %9s %7s\n", l.name.c_str(),
                l.weight_format.c_str(), l.output.sqnr_db, l.weight_sqnr_db, 100 * l.act_kernel,
                smooth.c_str(), awq.c_str());
  }
}

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

int run_eval(const EvalArgs& a) {
  using model::ModelError;
  if (a.windows < 0) throw ModelError(fmt::format("--windows must be >= 0 (got {})", a.windows));
  if (a.window_size < 1)
    throw ModelError(fmt::format("--window-size must be >= 1 (got {})", a.window_size));
  if (a.threads < 1) throw ModelError(fmt::format("--threads must be >= 1 (got {})", a.threads));
  if (a.stats_windows < 0)
    throw ModelError(fmt::format("--stats-windows must be >= 0 (got {})", a.stats_windows));
  if (a.calib_windows < 0)
    throw ModelError(fmt::format("--calib-windows must be >= 0 (got {})", a.calib_windows));
  model::ModelPtqOptions ptq;
  ptq.format = model::parse_linear_format(a.weight_format, a.act_format, a.block_size, a.accum);
  ptq.algorithm = a.algorithm;
  ptq.calib_path = a.calib;
  ptq.calib_windows = static_cast<std::size_t>(a.calib_windows);
  ptq.window_size = static_cast<std::size_t>(a.window_size);
  ptq.bits_budget = a.bits_budget;
  ptq.threads = a.threads;
  ptq.block_size = a.block_size;
  ptq.alpha = a.alpha;
  ptq.levels = a.levels;
  ptq.verbose = true;
  if (!(a.alpha >= 0 && a.alpha <= 1))
    throw ModelError(fmt::format("--alpha must be in [0, 1] (got {})", a.alpha));
  if (!a.report.empty()) check_writable("--report", a.report);

  model::EvalOptions eo;
  eo.windows = static_cast<std::size_t>(a.windows);
  eo.window_size = static_cast<std::size_t>(a.window_size);
  eo.threads = a.threads;
  eo.stats_windows = static_cast<std::size_t>(a.stats_windows);

  const std::vector<unsigned char> text = model::read_text(a.text);
  model::LlamaModel m = model::LlamaModel::load(a.model);
  const std::size_t n = model::check_eval_options(m.config(), text.size(), eo);  // before PTQ
  const model::ModelPtqSummary summary = model::apply_model_ptq(m, ptq);

  std::unique_ptr<experiments::Progress> bar;
  if (a.progress || experiments::Progress::stderr_is_terminal()) {
    bar = std::make_unique<experiments::Progress>(n, 0, true);
    eo.progress = [&bar](std::size_t done, std::size_t) { bar->update(done); };
  }
  const model::EvalResult r = model::evaluate(m, text, eo);
  if (bar) bar->finish(r.windows);

  std::printf("model %s: %d layers, hidden %d, vocab %d\n", a.model.c_str(),
              m.config().num_hidden_layers, m.config().hidden_size, m.config().vocab_size);
  std::printf("weights %s, activations %s, block %d, accumulator %s\n", a.weight_format.c_str(),
              a.act_format.c_str(), a.block_size, a.accum.c_str());
  print_ptq(summary);
  if (!r.per_layer.empty()) {
    std::printf("per-layer output error vs fp32 (first %zu window%s):\n",
                std::min<std::size_t>(eo.stats_windows, r.windows),
                eo.stats_windows == 1 ? "" : "s");
    std::printf("  %-34s %9s %11s %11s %9s\n", "layer", "SQNR dB", "MSE", "max |err|", "cosine");
    for (const auto& l : r.per_layer)
      std::printf("  %-34s %9.2f %11.4g %11.4g %9.6f\n", l.name.c_str(), l.stats.sqnr_db(),
                  l.stats.mse(), l.stats.max_abs, l.stats.cosine());
  }
  std::printf("bits per byte %.6f, perplexity %.6f, %zu predictions, %zu windows of %zu, %.2f s\n",
              r.bits_per_byte, r.perplexity, r.predictions, r.windows, r.window_size, r.seconds);

  if (!a.report.empty()) {
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
    j["stats_windows"] =
        r.per_layer.empty() ? 0 : std::min<std::size_t>(eo.stats_windows, r.windows);
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
    j["mxlab_version"] = version_string();
    const std::string s = j.dump(2) + "\n";
    write_file_atomic(a.report, s.data(), s.size());
  }
  return 0;
}

}  // namespace

void register_eval(CLI::App& app, std::vector<Command>& out) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand(
      "eval",
      "evaluate a Hugging Face Llama checkpoint on a byte text (bits per byte) with "
      "emulated MX linear layers");
  sub->add_option("--model", a->model,
                  "checkpoint folder: config.json + model.safetensors (or a sharded index)")
      ->required();
  sub->add_option("--text", a->text, "evaluation text (bytes are tokens)")->required();
  sub->add_option("--windows", a->windows,
                  "windows to evaluate (default 128; 0 = every full window)");
  sub->add_option("--window-size", a->window_size,
                  "bytes predicted per window (default 512; <= the model's context)");
  sub->add_option("--weight-format", a->weight_format,
                  "linear weights: MX format (mxint8, mxfp4_e2m1, ...), element format (e4m3, "
                  "int8) or none (default)");
  sub->add_option(
      "--act-format", a->act_format,
      "linear inputs, blocked along the reduction dimension: same names (default none)");
  sub->add_option("--block-size", a->block_size, "MX block size (default 32)");
  sub->add_option("--accum", a->accum,
                  "fp32 (default: fp32 GEMM on dequantized operands) or an emulator model: exact, "
                  "fp32-seq, fp32-pairwise, h100-mma-fp8, fused:..., ...");
  sub->add_option("--threads", a->threads,
                  "windows evaluated in parallel (default 1; results do not depend on it)");
  sub->add_option("--report", a->report, "JSON report (bits_per_byte, perplexity, per_layer, ...)");
  sub->add_option("--stats-windows", a->stats_windows,
                  "per-layer error statistics over the first N windows (default 1)");
  sub->add_option("--algorithm", a->algorithm,
                  "PTQ recipe before evaluation (default rtn): " + algo::recipe_rule() +
                      " (e.g. gptq, smoothquant+awq+gptq, crossquant)");
  sub->add_option(
      "--calib", a->calib,
      "calibration text (bytes): needed by every algorithm but rtn and by --bits-budget");
  sub->add_option(
      "--calib-windows", a->calib_windows,
      "calibration windows: the first N non-overlapping windows of --calib (default 32)");
  sub->add_option("--bits-budget", a->bits_budget,
                  "mixed precision: mean weight element bits over the linears (needs --calib; "
                  "levels from --levels)");
  sub->add_option(
      "--levels", a->levels,
      "mixed-precision candidate weight formats, ascending (default mxint2 mxint3 mxint4 mxint8)");
  sub->add_option("--alpha", a->alpha,
                  "SmoothQuant migration strength / CrossQuant exponent (default 0.5)");
  sub->add_flag("--progress", a->progress,
                "show progress on stderr even when it is not a terminal");
  out.push_back({sub, [a] {
                   try {
                     return run_eval(*a);
                   } catch (const std::exception& e) {
                     std::fprintf(stderr, "mxlab eval: %s\n", e.what());
                     return 1;
                   }
                 }});
}

}  // namespace mx::cli
