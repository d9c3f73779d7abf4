// ptq: one linear layer through mx::algo::run_ptq, as `mxlab ptq` runs it (cmd_ptq.cpp): the
// same checks and messages, and the same JSON report (returned as text; the Python layer
// parses it), so the report equals the CLI's key for key.
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nlohmann/json.hpp>

#include "algorithms/matrix.hpp"
#include "algorithms/ptq.hpp"
#include "tools/python/src/bind.hpp"

namespace mx::py {
namespace {

using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

struct PtqArgs {
  std::string algorithm, weight_format, act_format, rounding, scale_rule;
  int block_size, group_size, gptq_block, awq_grid;
  long awq_tokens;
  double alpha, damp;
  bool act_order, no_awq_clip, pow2_scales;
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
    throw ArgError(fmt::format("{}: {}", flag, e.what()));
  }
}

Tensor to_tensor(const Array& x) {
  Tensor t;
  t.shape = shape_of(x);
  if (x.dtype() == nb::dtype<float>()) {
    const auto* p = static_cast<const float*>(x.data());
    t.f32.assign(p, p + x.size());
  } else {
    t.dtype = DType::kF64;
    const auto* p = static_cast<const double*>(x.data());
    t.f64.assign(p, p + x.size());
  }
  return t;
}

nb::object array_of(const Tensor& t) {
  if (t.dtype == DType::kF32) {
    std::vector<float> v = t.f32;
    return nb::cast(numpy_from_vector(std::move(v), t.shape));
  }
  std::vector<double> v = t.f64;
  return nb::cast(numpy_from_vector(std::move(v), t.shape));
}

// Returns (Wq, report JSON text, smoothing factors s).
nb::tuple ptq_py(Array weights, Array activations, const PtqArgs& a, const std::string& version) {
  algo::PtqOptions o;
  std::string recipe_error;
  const auto alg = algo::Recipe::try_parse(a.algorithm, &recipe_error);
  if (!alg)
    throw ArgError(
        fmt::format("--algorithm: unknown algorithm '{}': {}", a.algorithm, recipe_error));
  o.algorithm = *alg;
  if (a.block_size < 1)
    throw ArgError(fmt::format("--block-size must be >= 1 (got {})", a.block_size));
  if (a.group_size < 0)
    throw ArgError(fmt::format("--group-size must be >= 0 (got {})", a.group_size));
  if (!(a.damp >= 0)) throw ArgError(fmt::format("--damp must be >= 0 (got {})", a.damp));
  if (!(a.alpha >= 0 && a.alpha <= 1))
    throw ArgError(fmt::format("--alpha must be in [0, 1] (got {})", a.alpha));
  if (a.gptq_block < 1)
    throw ArgError(fmt::format("--gptq-block must be >= 1 (got {})", a.gptq_block));
  if (a.awq_grid < 1) throw ArgError(fmt::format("--awq-grid must be >= 1 (got {})", a.awq_grid));
  if (a.awq_tokens < 1)
    throw ArgError(fmt::format("--awq-tokens must be >= 1 (got {})", a.awq_tokens));
  const auto rnd = parse_rounding(a.rounding);
  if (!rnd) throw ArgError(fmt::format("--rounding: unknown rounding mode '{}'", a.rounding));
  const auto rule = parse_scale_rule(a.scale_rule);
  if (!rule) throw ArgError(fmt::format("--scale-rule: unknown scale rule '{}'", a.scale_rule));
  const RoundSpec rs{*rnd, Overflow::kSaturate, 0};
  o.weight = parse_spec("--weight-format", a.weight_format, a, rs, *rule);
  if (o.weight.kind == algo::QuantKind::kNone)
    throw ArgError("--weight-format: 'none' is not a weight format");
  o.act = parse_spec("--act-format", a.act_format, a, rs, *rule);
  if (const algo::PtqStep* as = o.algorithm.activation_step();
      as && o.act.kind != algo::QuantKind::kNone && o.act.kind != algo::QuantKind::kIntChannel)
    throw ArgError(
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

  const Tensor wt = to_tensor(weights);
  const Tensor xt = to_tensor(activations);
  algo::Mat w, x;
  try {
    w = algo::to_matrix(wt, "weights");
    x = algo::to_matrix(xt, "activations");
  } catch (const std::invalid_argument& e) {
    throw ArgError(e.what());
  }
  if (x.cols() != w.cols())
    throw ArgError(fmt::format(
        "activations: shape [{}, {}] does not match weights [{}, {}]: X is samples x in and W "
        "is out x in, so their column counts must agree",
        x.rows(), x.cols(), w.rows(), w.cols()));
  algo::PtqResult r;
  {
    nb::gil_scoped_release release;
    try {
      r = algo::run_ptq(w, x, o);
    } catch (const algo::SingularHessian& e) {
      throw ArgError(fmt::format("--damp {}: {}", a.damp, e.what()));
    }
  }
  // The report exactly as cmd_ptq.cpp builds it.
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
  if (r.ran_smoothquant)
    j["smoothquant"] = {{"alpha", a.alpha}, {"statistic", "absmax"}, {"pow2", a.pow2_scales}};
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
  j["mxlab_version"] = version;
  algo::Mat s = r.smooth.transpose();
  Tensor st = algo::to_tensor(s, wt.dtype);
  st.shape = {static_cast<std::size_t>(s.cols())};
  return nb::make_tuple(array_of(algo::to_tensor(r.w_q, wt.dtype)), j.dump(2), array_of(st));
}

}  // namespace

void register_ptq(nb::module_& m) {
  using namespace nb::literals;
  m.def(
      "ptq",
      [](Array weights, Array activations, const std::string& algorithm,
         const std::string& weight_format, const std::string& act_format, int block_size,
         double alpha, int group_size, double damp, bool act_order, int gptq_block, int awq_grid,
         long awq_tokens, bool no_awq_clip, bool pow2_scales, const std::string& rounding,
         const std::string& scale_rule, const std::string& version) {
        PtqArgs a{algorithm,  weight_format, act_format, rounding,    scale_rule,
                  block_size, group_size,    gptq_block, awq_grid,    awq_tokens,
                  alpha,      damp,          act_order,  no_awq_clip, pow2_scales};
        return ptq_py(weights, activations, a, version);
      },
      "weights"_a, "activations"_a, "algorithm"_a, "weight_format"_a, "act_format"_a,
      "block_size"_a, "alpha"_a, "group_size"_a, "damp"_a, "act_order"_a, "gptq_block"_a,
      "awq_grid"_a, "awq_tokens"_a, "no_awq_clip"_a, "pow2_scales"_a, "rounding"_a, "scale_rule"_a,
      "version"_a);
}

}  // namespace mx::py
