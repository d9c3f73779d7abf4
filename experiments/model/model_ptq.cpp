#include "experiments/model/model_ptq.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "algorithms/gptq.hpp"
#include "algorithms/mixed_precision.hpp"
#include "algorithms/ptq.hpp"
#include "experiments/model/act_quant.hpp"
#include "experiments/model/calibration.hpp"
#include "experiments/model/eval.hpp"
#include "experiments/model/model_error.hpp"

namespace mx::model {

namespace {

using Clock = std::chrono::steady_clock;

// Per-linear error statistics over the first this many calibration tokens (two windows).
constexpr algo::Index kStatsTokens = 1024;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// How one linear is quantized: its formats for the evaluation (with --accum) and for the
// calibration passes (fp32 accumulation), and the matching mx::algo quantizers.
struct Plan {
  LinearFormat eval, calib;
  algo::QuantSpec weight, act;  // act: what run_ptq quantizes activations with
  bool int_act = false;         // per-token int<N> through an act quantizer
};

bool is_int_name(const std::string& s) { return s.starts_with("int"); }

class Planner {
 public:
  Planner(const ModelPtqOptions& o, const algo::Recipe& recipe) : o_(o) {
    act_name_ = o.format.act_name;
    if (const algo::PtqStep* a = recipe.activation_step()) {
      if (act_name_ == "none") act_name_ = "int8";
      if (!is_int_name(act_name_))
        throw ModelError(
            fmt::format("--act-format {}: {} quantizes activations itself and needs int<N> (or "
                        "none: int8)",
                        act_name_, a->name));
    }
  }

  Plan plan(const std::string& weight_name) const {
    if (is_int_name(weight_name))
      throw ModelError(fmt::format(
          "--weight-format {}: per-channel integer weights are not supported at model scale; "
          "use an MX format (mxint4, ...)",
          weight_name));
    const bool int_act = is_int_name(act_name_);
    Plan p;
    p.int_act = int_act;
    p.eval = parse_linear_format(weight_name, int_act ? "none" : act_name_, o_.block_size,
                                 o_.format.accum_name);
    for (auto* s : {&p.eval.weight, &p.eval.act})
      if (*s) {
        (*s)->format.rule = o_.scale_rule;
        (*s)->round = RoundSpec{o_.rounding, Overflow::kSaturate, 0};
        if ((*s)->format.block_size > 0 && (*s)->format.scale != ScaleFormat::kE8m0)
          throw ModelError(fmt::format(
              "{}: model PTQ supports E8M0-scaled MX formats and element formats (got {})",
              s == &p.eval.weight ? "--weight-format" : "--act-format", (*s)->format.name));
      }
    if (int_act) p.eval.act_name = act_name_;
    p.calib = p.eval;
    p.calib.accum.reset();
    p.calib.accum_name = "fp32";
    p.weight = to_spec(p.eval.weight, weight_name);
    if (int_act) {
      try {
        p.act =
            algo::parse_quant_spec(act_name_, o_.block_size, 0,
                                   RoundSpec{o_.rounding, Overflow::kSaturate, 0}, o_.scale_rule);
      } catch (const std::invalid_argument& e) {
        throw ModelError(fmt::format("--act-format: {}", e.what()));
      }
      if (p.act.kind != algo::QuantKind::kIntChannel)
        throw ModelError(fmt::format(
            "--act-format {}: integer activations are per token (int<N>, optionally _asym)",
            act_name_));
    } else {
      p.act = to_spec(p.eval.act, act_name_);
    }
    return p;
  }

 private:
  static algo::QuantSpec to_spec(const std::optional<BlockSpec>& b, const std::string& name) {
    algo::QuantSpec s;
    s.name = name;
    if (!b) return s;
    s.kind = algo::QuantKind::kMx;
    s.mx = *b;
    return s;
  }
  const ModelPtqOptions& o_;
  std::string act_name_;
};

void log(const ModelPtqOptions& o, const std::string& s) {
  if (o.verbose) std::fprintf(stderr, "mxlab eval: ptq: %s\n", s.c_str());
}

// One linear through run_ptq on its calibration inputs; installs the result.
LinearPtqReport quantize_linear(QuantLinear& lin, const algo::Mat& x, const Plan& p,
                                const algo::Recipe& recipe, const ModelPtqOptions& o) {
  const auto t0 = Clock::now();
  algo::PtqOptions po;
  po.algorithm = recipe;
  po.weight = p.weight;
  po.act = p.act;
  po.alpha = o.alpha;
  po.stats_rows = kStatsTokens;
  const algo::Mat w = lin.original_weight().cast<double>();
  algo::PtqResult r;
  try {
    r = algo::run_ptq(w, x, po);
  } catch (const algo::SingularHessian& e) {
    throw ModelError(fmt::format("{}: GPTQ: {}", lin.id().name, e.what()));
  } catch (const std::invalid_argument& e) {
    throw ModelError(fmt::format("{}: {}", lin.id().name, e.what()));
  }
  lin.set_weight(r.w_q_scaled.cast<float>(), p.calib, /*requantize=*/false);
  if (r.ran_smoothquant || r.ran_awq)
    lin.set_input_scale(r.smooth.cwiseInverse().cast<float>());
  else
    lin.set_input_scale({});
  if (r.act_quantizer) {
    lin.set_act_quantizer(act_quantizer(std::move(r.act_quantizer)));
  } else if (p.int_act) {
    lin.set_act_quantizer(per_token_int_quantizer(p.act));
  } else {
    lin.set_act_quantizer(nullptr);
  }
  LinearPtqReport rep;
  rep.name = lin.id().name;
  rep.weight_format = p.eval.weight_name;
  rep.weight_bits = p.eval.weight ? p.eval.weight->format.elem.bits : 32;
  rep.params = static_cast<long long>(w.size());
  rep.output = r.output;
  rep.weight_sqnr_db = r.weight.sqnr_db;
  rep.act_kernel = r.act_kernel;
  rep.smooth_min = r.smooth.minCoeff();
  rep.smooth_max = r.smooth.maxCoeff();
  if (r.ran_awq) rep.awq_ratio = r.awq.best_ratio;
  if (r.ran_gptq) rep.gptq_damp = r.gptq.damp_used;
  rep.seconds = since(t0);
  return rep;
}

std::vector<std::size_t> group_members(const LlamaModel& m, int layer, int g) {
  const std::size_t b = m.linear_index(layer, LinearKind::kQ);
  switch (g) {
    case 0:
      return {b + 0, b + 1, b + 2};  // q k v
    case 1:
      return {b + 3};  // o
    case 2:
      return {b + 4, b + 5};  // gate up
    default:
      return {b + 6};  // down
  }
}

// Mixed precision: the weight format of every linear (forward order) under the budget. The
// cost is the raw output squared error (not relative to the output's energy: normalising
// starved lm_head to 2 bits and cost 0.13 bpb on bytellama-7m at 3 bits, results/model_eval.md).
std::vector<std::string> allocate(const LlamaModel& model, const std::vector<unsigned char>& text,
                                  std::size_t windows, const ModelPtqOptions& o,
                                  std::vector<double>* distortion) {
  std::vector<double> bits;
  std::vector<algo::QuantSpec> specs;
  for (const std::string& name : o.levels) {
    algo::QuantSpec s;
    try {
      s = algo::parse_quant_spec(name, o.block_size, 0,
                                 RoundSpec{o.rounding, Overflow::kSaturate, 0}, o.scale_rule);
    } catch (const std::invalid_argument& e) {
      throw ModelError(fmt::format("--levels: {}", e.what()));
    }
    if (s.kind != algo::QuantKind::kMx)
      throw ModelError(fmt::format("--levels: {} is not an MX format", name));
    if (!bits.empty() && !(s.mx.format.elem.bits > bits.back()))
      throw ModelError(
          fmt::format("--levels: {} must have more element bits than the level "
                      "before it",
                      name));
    bits.push_back(s.mx.format.elem.bits);
    specs.push_back(s);
  }
  if (!(o.bits_budget >= bits.front()))
    throw ModelError(fmt::format("--bits-budget {}: below the lowest level {} ({} bits per weight)",
                                 o.bits_budget, o.levels.front(), bits.front()));
  Calibration cal(model, text, windows, o.window_size, o.threads);
  std::vector<algo::LayerCost> costs(model.num_linears());
  for (int l = 0; l < model.config().num_hidden_layers; ++l) {
    const auto t0 = Clock::now();
    const std::vector<RowMatrixXf> in = cal.capture_groups_and_propagate(l);
    for (int g = 0; g < 4; ++g) {
      const algo::Mat xd = in[std::size_t(g)].cast<double>();
      const algo::Mat gram = xd.transpose() * xd;
      for (std::size_t i : group_members(model, l, g))
        costs[i] =
            algo::measured_cost_gram(model.linear(i).original_weight().cast<double>(), gram, specs);
    }
    log(o, fmt::format("sensitivity: layer {}/{} ({:.1f} s)", l + 1,
                       model.config().num_hidden_layers, since(t0)));
  }
  const std::size_t head = model.num_linears() - 1;
  {
    const algo::Mat x = cal.capture(-1, head);
    costs[head] = algo::measured_cost_gram(model.linear(head).original_weight().cast<double>(),
                                           x.transpose() * x, specs);
  }
  double params = 0;
  for (const auto& c : costs) params += static_cast<double>(c.params);
  const algo::BitAllocation a = algo::allocate_bits(costs, bits, o.bits_budget * params);
  std::vector<std::string> out;
  distortion->clear();
  for (std::size_t i = 0; i < costs.size(); ++i) {
    out.push_back(o.levels[a.level[i]]);
    distortion->push_back(costs[i].distortion[a.level[i]]);
  }
  return out;
}

}  // namespace

ModelPtqSummary apply_model_ptq(LlamaModel& model, const ModelPtqOptions& opt) {
  const auto t0 = Clock::now();
  std::string recipe_error;
  const std::optional<algo::Recipe> alg = algo::Recipe::try_parse(opt.algorithm, &recipe_error);
  if (!alg)
    throw ModelError(
        fmt::format("--algorithm {}: unknown algorithm: {}", opt.algorithm, recipe_error));
  const bool mixed = opt.bits_budget != 0;
  if (mixed && !(opt.bits_budget > 0 && std::isfinite(opt.bits_budget)))
    throw ModelError(fmt::format("--bits-budget must be > 0 (got {})", opt.bits_budget));
  if (mixed && opt.format.weight)
    throw ModelError(fmt::format(
        "--weight-format {}: --bits-budget chooses every linear's weight format from the "
        "levels; leave --weight-format out",
        opt.format.weight_name));
  const bool calibrate = alg->needs_calibration() || mixed || !opt.calib_path.empty();
  ModelPtqSummary sum;
  sum.algorithm = opt.algorithm;
  sum.bits_budget = opt.bits_budget;
  const Planner planner(opt, *alg);
  const std::size_t n = model.num_linears();

  if (!calibrate) {  // direct cast: round to nearest from the loaded weights
    if (opt.calib_windows != 0)
      throw ModelError("--calib-windows: give --calib too (the calibration text)");
    const Plan p = planner.plan(opt.format.weight_name);
    double bits = 0, params = 0;
    for (std::size_t i = 0; i < n; ++i) {
      QuantLinear& lin = model.linear(i);
      lin.set_format(p.eval);
      lin.set_act_quantizer(p.int_act ? per_token_int_quantizer(p.act) : nullptr);
      const double k = static_cast<double>(lin.original_weight().size());
      bits += k * (p.eval.weight ? p.eval.weight->format.elem.bits : 32);
      params += k;
    }
    sum.weight_bits = bits / params;
    sum.seconds = since(t0);
    return sum;
  }

  if (opt.calib_path.empty())
    throw ModelError(
        fmt::format("--calib: {} needs a calibration text (e.g. ../shared/models/bytellama-7m/data/"
                    "wiki_valid.txt)",
                    mixed ? "--bits-budget" : "--algorithm " + opt.algorithm));
  if (!mixed && !opt.format.weight)
    throw ModelError(
        fmt::format("--weight-format: --algorithm {} needs a weight format", opt.algorithm));
  const std::vector<unsigned char> text = read_text(opt.calib_path);
  const std::size_t windows = opt.calib_windows ? opt.calib_windows : kDefaultCalibWindows;
  if (text.size() < windows * opt.window_size)
    throw ModelError(fmt::format(
        "--calib {}: {} bytes hold {} windows of {}; --calib-windows asks for {}", opt.calib_path,
        text.size(), text.size() / opt.window_size, opt.window_size, windows));
  sum.calib_windows = windows;

  // Every linear's plan (per-layer weight formats under a budget).
  std::vector<std::string> weight_names(n, opt.format.weight_name);
  std::vector<double> distortion;
  if (mixed) weight_names = allocate(model, text, windows, opt, &distortion);
  std::vector<Plan> plans;
  for (std::size_t i = 0; i < n; ++i) plans.push_back(planner.plan(weight_names[i]));

  // The sequential pass.
  Calibration cal(model, text, windows, opt.window_size, opt.threads);
  sum.layers.resize(n);
  const int layers = model.config().num_hidden_layers;
  for (int l = 0; l < layers; ++l) {
    const auto tl = Clock::now();
    for (int g = 0; g < 4; ++g) {
      const std::vector<std::size_t> members = group_members(model, l, g);
      const algo::Mat x = cal.capture(l, members.front());
      for (std::size_t i : members) {
        if (opt.on_calibration) opt.on_calibration(model.linear(i).id().name, x);
        sum.layers[i] = quantize_linear(model.linear(i), x, plans[i], *alg, opt);
      }
    }
    cal.propagate(l);
    log(opt, fmt::format("layer {}/{} quantized ({}, {} calibration tokens, {:.1f} s)", l + 1,
                         layers, opt.algorithm, cal.tokens(), since(tl)));
  }
  {
    const std::size_t head = n - 1;
    const algo::Mat x = cal.capture(-1, head);
    if (opt.on_calibration) opt.on_calibration(model.linear(head).id().name, x);
    sum.layers[head] = quantize_linear(model.linear(head), x, plans[head], *alg, opt);
    log(opt, "lm_head quantized");
  }
  // The evaluation formats (the accumulator model) now; weights stay as quantized.
  double bits = 0, params = 0;
  for (std::size_t i = 0; i < n; ++i) {
    QuantLinear& lin = model.linear(i);
    RowMatrixXf w = lin.weight();
    lin.set_weight(std::move(w), plans[i].eval, /*requantize=*/false);
    if (mixed) sum.layers[i].distortion = distortion[i];
    bits += static_cast<double>(sum.layers[i].params) * sum.layers[i].weight_bits;
    params += static_cast<double>(sum.layers[i].params);
  }
  sum.weight_bits = bits / params;
  sum.seconds = since(t0);
  return sum;
}

}  // namespace mx::model
