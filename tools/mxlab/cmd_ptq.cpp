// mxlab ptq: one Linear layer through a PTQ recipe (RTN, SmoothQuant, AWQ, GPTQ, their
// combinations, CrossQuant) on the emulator's quantizers; writes the quantized weights and a
// JSON report of the layer-output error against the unquantized layer.
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "algorithms/ptq.hpp"
#include "emulator/io/tensor_io.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct PtqArgs {
  std::string weights, activations, algorithm, weight_format, act_format = "none";
  std::string output, report, smooth_output, rounding = "nearest-even", scale_rule = "floor";
  int block_size = 32, group_size = 0, gptq_block = 128, awq_grid = 20;
  long awq_tokens = 512;
  double alpha = 0.5, damp = 0.01;
  bool act_order = false, no_awq_clip = false, pow2_scales = false;
};

nlohmann::json stats_json(const algo::ErrorStats& s) {
  return {{"sqnr_db", s.sqnr_db},
          {"mse", s.mse},
          {"max_abs_error", s.max_abs_error},
          {"max_rel_error", s.max_rel_error},
          {"cosine", s.cosine},
          {"rel_fro_error", s.rel_fro},
          {"kl_divergence", s.kl_divergence}};
}

algo::QuantSpec parse_spec(const std::string& flag, const std::string& name, const PtqArgs& a,
                           const RoundSpec& rs, ScaleRule rule) {
  try {
    return algo::parse_quant_spec(name, a.block_size, a.group_size, rs, rule);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("{}: {}", flag, e.what()));
  }
}

int run_ptq_cmd(const PtqArgs& a) {
  algo::PtqOptions o;
  std::string recipe_error;
  const auto alg = algo::Recipe::try_parse(a.algorithm, &recipe_error);
  if (!alg)
    throw std::runtime_error(
        fmt::format("--algorithm: unknown algorithm '{}': {}", a.algorithm, recipe_error));
  o.algorithm = *alg;
  if (a.block_size < 1)
    throw std::runtime_error(fmt::format("--block-size must be >= 1 (got {})", a.block_size));
  if (a.group_size < 0)
    throw std::runtime_error(fmt::format("--group-size must be >= 0 (got {})", a.group_size));
  if (!(a.damp >= 0)) throw std::runtime_error(fmt::format("--damp must be >= 0 (got {})", a.damp));
  if (!(a.alpha >= 0 && a.alpha <= 1))
    throw std::runtime_error(fmt::format("--alpha must be in [0, 1] (got {})", a.alpha));
  if (a.gptq_block < 1)
    throw std::runtime_error(fmt::format("--gptq-block must be >= 1 (got {})", a.gptq_block));
  if (a.awq_grid < 1)
    throw std::runtime_error(fmt::format("--awq-grid must be >= 1 (got {})", a.awq_grid));
  if (a.awq_tokens < 1)
    throw std::runtime_error(fmt::format("--awq-tokens must be >= 1 (got {})", a.awq_tokens));
  const auto rnd = parse_rounding(a.rounding);
  if (!rnd)
    throw std::runtime_error(fmt::format("--rounding: unknown rounding mode '{}'", a.rounding));
  const auto rule = parse_scale_rule(a.scale_rule);
  if (!rule)
    throw std::runtime_error(fmt::format("--scale-rule: unknown scale rule '{}'", a.scale_rule));
  const RoundSpec rs{*rnd, Overflow::kSaturate, 0};
  o.weight = parse_spec("--weight-format", a.weight_format, a, rs, *rule);
  if (o.weight.kind == algo::QuantKind::kNone)
    throw std::runtime_error("--weight-format: 'none' is not a weight format");
  o.act = parse_spec("--act-format", a.act_format, a, rs, *rule);
  if (const algo::PtqStep* as = o.algorithm.activation_step();
      as && o.act.kind != algo::QuantKind::kNone && o.act.kind != algo::QuantKind::kIntChannel)
    throw std::runtime_error(
        fmt::format("--act-format: {} quantizes activations itself and needs int<N> (got '{}')",
                    as->name, a.act_format));
  o.alpha = a.alpha;
  o.pow2_scales = a.pow2_scales;
  o.gptq.damp = a.damp;
  o.gptq.block = a.gptq_block;
  o.gptq.act_order = a.act_order;
  o.awq.grid = a.awq_grid;
  o.awq.max_tokens = a.awq_tokens;
  o.awq.clip = !a.no_awq_clip;
  o.awq.pow2 = a.pow2_scales;
  if (a.output.empty() && a.report.empty())
    throw UsageError("ptq: give at least one of --output, --report");
  if (!a.output.empty()) check_writable("--output", a.output);
  if (!a.report.empty()) check_writable("--report", a.report);
  if (!a.smooth_output.empty()) check_writable("--smooth-output", a.smooth_output);

  const Tensor wt = read_tensor(a.weights);
  const Tensor xt = read_tensor(a.activations);
  algo::Mat w, x;
  try {
    w = algo::to_matrix(wt, "--weights " + a.weights);
    x = algo::to_matrix(xt, "--activations " + a.activations);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  if (x.cols() != w.cols())
    throw std::runtime_error(fmt::format(
        "--activations {}: shape [{}, {}] does not match --weights {} [{}, {}]: X is samples x "
        "in and W is out x in, so their column counts must agree",
        a.activations, x.rows(), x.cols(), a.weights, w.rows(), w.cols()));

  algo::PtqResult r;
  try {
    r = algo::run_ptq(w, x, o);
  } catch (const algo::SingularHessian& e) {
    throw std::runtime_error(fmt::format("--damp {}: {}", a.damp, e.what()));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }

  nlohmann::json j = stats_json(r.output);
  j["weight_error"] = stats_json(r.weight);
  j["weight_saturation_rate"] = r.weight_counts.saturation_rate();
  j["weight_underflow_rate"] = r.weight_counts.underflow_rate();
  j["act_saturation_rate"] = r.act_counts.saturation_rate();
  j["act_underflow_rate"] = r.act_counts.underflow_rate();
  j["act_kernel_proportion"] = r.act_kernel;
  if (r.act_kernel_per_token >= 0) j["act_kernel_proportion_per_token"] = r.act_kernel_per_token;
  j["algorithm"] = algo::algorithm_name(o.algorithm);
  j["weight_format"] = a.weight_format;
  j["act_format"] = a.act_format;
  j["block_size"] = a.block_size;
  j["group_size"] = a.group_size;
  j["rounding"] = a.rounding;
  j["scale_rule"] = a.scale_rule;
  j["weights_shape"] = {w.rows(), w.cols()};
  j["activations_shape"] = {x.rows(), x.cols()};
  j["evaluated_on"] = "the calibration activations";
  if (r.ran_smoothquant) {
    j["smoothquant"] = {{"alpha", a.alpha}, {"statistic", "absmax"}, {"pow2", a.pow2_scales}};
  }
  if (r.ran_awq) {
    j["awq"] = {{"best_ratio", r.awq.best_ratio},
                {"loss_identity", r.awq.loss_identity},
                {"loss_best", r.awq.loss_best},
                {"grid", a.awq_grid},
                {"clip", !a.no_awq_clip},
                {"clip_err_before", r.awq.clip_err_before},
                {"clip_err_after", r.awq.clip_err_after},
                {"acts_quantized_in_search", o.act.kind != algo::QuantKind::kNone}};
  }
  if (r.ran_gptq) {
    j["gptq"] = {{"damp", a.damp},
                 {"damp_used", r.gptq.damp_used},
                 {"lambda", r.gptq.lambda},
                 {"act_order", a.act_order},
                 {"lazy_block", r.gptq.lazy_block},
                 {"dead_columns", r.gptq.dead_columns},
                 {"loss", r.gptq.loss},
                 {"hessian_inputs", "float activations after smoothing/scaling"},
                 {"mx_scales", a.act_order ? "static (original W, variant C)"
                                           : "when the block is first reached (variant B)"}};
  }
  if (o.algorithm.has("crossquant")) j["crossquant"] = {{"alpha", a.alpha}};
  j["seconds"] = r.seconds;
  j["mxlab_version"] = version_string();

  // Everything is computed; now the outputs, each atomically.
  if (!a.output.empty()) write_tensor(a.output, algo::to_tensor(r.w_q, wt.dtype));
  if (!a.smooth_output.empty()) {
    algo::Mat s = r.smooth.transpose();
    Tensor st = algo::to_tensor(s, wt.dtype);
    st.shape = {static_cast<std::size_t>(s.cols())};
    write_tensor(a.smooth_output, st);
  }
  if (!a.report.empty()) {
    const std::string text = j.dump(2) + "\n";
    write_file_atomic(a.report, text.data(), text.size());
  }
  return 0;
}

}  // namespace

void register_ptq(CLI::App& app, std::vector<Command>& out) {
  auto a = std::make_shared<PtqArgs>();
  CLI::App* sub = app.add_subcommand(
      "ptq", "post-training quantization of one Linear layer (W: out x in, X: samples x in)");
  sub->add_option("--weights", a->weights, "W.npy or file.h5:/ds, out x in")->required();
  sub->add_option("--activations", a->activations,
                  "X.npy or file.h5:/ds, samples x in (calibration and evaluation)")
      ->required();
  sub->add_option("--algorithm", a->algorithm,
                  "PTQ recipe: " + algo::recipe_rule() +
                      " (e.g. rtn, gptq, smoothquant+awq+gptq, crossquant)")
      ->required();
  sub->add_option("--weight-format", a->weight_format,
                  "MX format (mxint4, mxfp4_e2m1, mxfp8_e4m3, ...) or int<N>[_tensor|_g<G>][_asym]")
      ->required();
  sub->add_option("--act-format", a->act_format,
                  "activation format (same names; default none = weight-only; crossquant: int<N>)");
  sub->add_option("--block-size", a->block_size,
                  "MX block size along the input dimension (default 32)");
  sub->add_option("--alpha", a->alpha,
                  "SmoothQuant migration strength / CrossQuant exponent (default 0.5)");
  sub->add_option("--group-size", a->group_size,
                  "int<N> formats: groups of G inputs (default 0: per channel)");
  sub->add_option("--damp", a->damp,
                  "GPTQ damping, relative to mean(diag H) (default 0.01; 0 = none)");
  sub->add_flag("--act-order", a->act_order,
                "GPTQ: visit columns by decreasing Hessian diagonal (static MX scales)");
  sub->add_option("--output", a->output, "quantized weights Wq (out x in, original input basis)");
  sub->add_option("--report", a->report, "JSON report (sqnr_db, mse, max_abs_error, cosine, ...)");
  sub->add_option(
      "--smooth-output", a->smooth_output,
      "the per-input smoothing factors s (SmoothQuant x AWQ; the GEMM runs X/s against Wq*s)");
  sub->add_option("--gptq-block", a->gptq_block,
                  "GPTQ lazy batch (default 128, rounded to a multiple of the block)");
  sub->add_option("--awq-grid", a->awq_grid, "AWQ scale grid points (default 20)");
  sub->add_option("--awq-tokens", a->awq_tokens,
                  "AWQ scale search: at most this many tokens (strided; default 512)");
  sub->add_flag("--no-awq-clip", a->no_awq_clip, "AWQ: skip the clipping search");
  sub->add_flag("--pow2-scales", a->pow2_scales, "round SmoothQuant/AWQ factors to powers of two");
  sub->add_option("--rounding", a->rounding,
                  "element rounding: nearest-even (default)|nearest-away|toward-zero|...");
  sub->add_option("--scale-rule", a->scale_rule, "MX scale rule: floor (OCP)|ceil|even|rceil");
  out.push_back({sub, [a] { return run_ptq_cmd(*a); }});
}

}  // namespace mx::cli
