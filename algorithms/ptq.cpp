#include "algorithms/ptq.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "algorithms/crossquant.hpp"

namespace mx::algo {

std::optional<Recipe> parse_algorithm(std::string_view name) { return Recipe::try_parse(name); }

std::string algorithm_name(const Recipe& r) { return r.name(); }

PtqResult run_ptq(const Mat& w, const Mat& x, const PtqOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (x.cols() != w.cols())
    throw std::invalid_argument(fmt::format(
        "activations have {} columns but weights have {} (W is out x in, X is samples x in)",
        x.cols(), w.cols()));
  const Recipe& recipe = opt.algorithm;
  const Quantizer wq(opt.weight), aq(opt.act);
  if (!wq.enabled()) throw std::invalid_argument("a weight format is required");
  for (const PtqStep* s : recipe.steps())
    if (s->check) s->check(opt);

  PtqResult res;
  PtqContext c{opt, wq, aq, x, w, res, {}};
  res.smooth = Vec::Ones(w.cols());
  for (const PtqStep* s : recipe.steps())
    if (s->role == PtqRole::kTransform) s->run(c);
  recipe.weight_step()->run(c);
  res.w_q = res.w_q_scaled * res.smooth.cwiseInverse().asDiagonal();

  const PtqStep* act = recipe.activation_step();
  if (act && act->deploy) res.act_quantizer = act->deploy(c.x, opt);
  const Index ms = opt.stats_rows < 0 ? x.rows() : std::min(x.rows(), opt.stats_rows);
  if (ms < x.rows()) c.x.conservativeResize(ms, Eigen::NoChange);
  if (act)
    act->run(c);
  else
    c.xq = aq.quantize_rows(c.x, &res.act_counts);
  res.act_kernel = kernel_proportion(c.x, c.xq);
  const Mat y_ref = x.topRows(ms) * w.transpose();
  const Mat y_q = c.xq * res.w_q_scaled.transpose();
  res.output = error_stats(y_ref, y_q);
  res.weight = error_stats(w, res.w_q);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace mx::algo
