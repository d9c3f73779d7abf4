#include "experiments/model_point.hpp"

#include <unistd.h>

#include <chrono>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "experiments/model/eval.hpp"
#include "experiments/model/model_error.hpp"
#include "experiments/model/model_ptq.hpp"

namespace mx::experiments {

std::shared_ptr<const ModelData> load_model_data(const WorkloadSpec& spec) {
  const std::string at = fmt::format("workloads.{}", spec.name);
  const ModelWorkload& w = spec.model();
  try {
    auto m = model::LlamaModel::load(w.path);
    auto text = model::read_text(w.text);
    if (w.window_size > m.config().max_position_embeddings)
      throw model::ModelError(fmt::format("window_size {} exceeds the model's context {}",
                                          w.window_size, m.config().max_position_embeddings));
    return std::make_shared<const ModelData>(ModelData{std::move(m), std::move(text)});
  } catch (const model::ModelError& e) {
    throw std::runtime_error(fmt::format("{}: {}", at, e.what()));
  }
}

PointRecord run_model_point(const Point& p, const WorkloadSpec& spec, const ModelData& d) {
  const ModelWorkload& w = spec.model();
  const auto t0 = std::chrono::steady_clock::now();
  model::LlamaModel m = d.model;  // each point quantizes its own copy
  model::ModelPtqOptions o;
  const bool mixed = p.format == "mixed";
  const bool calibrated = p.algorithm != "none" || mixed;
  o.algorithm = p.algorithm == "none" ? "rtn" : p.algorithm;
  if (calibrated) {
    o.calib_path = w.calib;
    o.calib_windows = static_cast<std::size_t>(w.calib_windows);
  }
  o.window_size = static_cast<std::size_t>(w.window_size);
  o.bits_budget = mixed ? w.bits_budget : 0;
  o.levels = w.mixed_levels;
  o.block_size = p.block_size;
  o.scale_rule = p.scale_rule;
  o.rounding = p.rounding;
  o.threads = 1;  // points run in parallel
  model::EvalOptions eo;
  eo.windows = static_cast<std::size_t>(w.windows);
  eo.window_size = static_cast<std::size_t>(w.window_size);
  eo.threads = 1;
  eo.collect_stats = false;
  model::EvalResult r;
  model::ModelPtqSummary s;
  try {
    o.format =
        model::parse_linear_format(mixed ? "none" : p.format, p.act_format, p.block_size, p.accum);
    s = model::apply_model_ptq(m, o);
    r = model::evaluate(m, d.text, eo);
  } catch (const model::ModelError& e) {
    throw std::runtime_error(fmt::format("point {}: {}", p.key(), e.what()));
  }

  PointRecord rec;
  PointRow& row = rec.row;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  set_fixed(row.point_id, p.id());
  set_fixed(row.workload, p.workload);
  row.seed = p.seed;
  set_fixed(row.format, p.format);
  if (p.format == "none" || mixed) {
    set_fixed(row.elem, mixed ? "mixed" : "fp32");
    row.bits = mixed ? 0 : 32;
  } else {
    const MxFormat f = p.mx_format();
    set_fixed(row.elem, f.elem.name_view());
    row.bits = f.elem.bits;
    set_fixed(row.scale, scale_format_name(f.scale));
  }
  row.block_size = p.block_size;
  set_fixed(row.scale_rule, scale_rule_name(p.scale_rule));
  set_fixed(row.rounding, rounding_name(p.rounding));
  row.rounding_seed = p.rounding_seed();
  row.n = r.predictions;
  set_fixed(row.act_format, p.act_format);
  set_fixed(row.algorithm, p.algorithm);
  set_fixed(row.accum, p.accum);
  row.windows = static_cast<std::int32_t>(r.windows);
  row.calib_windows = static_cast<std::int32_t>(s.calib_windows);
  row.bits_budget = o.bits_budget;
  row.mse = row.sqnr_db = row.max_abs_err = row.max_rel_err = row.cosine = row.kl_softmax = nan;
  row.saturation_pct = row.underflow_pct = row.kernel_pct = row.nonfinite_pct = nan;
  row.bits_per_byte = r.bits_per_byte;
  row.perplexity = r.perplexity;
  row.weight_bits = s.weight_bits;
  row.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char host[64] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  set_fixed(row.host, host);
  row.pid = static_cast<std::int64_t>(::getpid());
  return rec;
}

}  // namespace mx::experiments
