#include "algorithms/ptq.hpp"

#include <array>
#include <chrono>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "algorithms/crossquant.hpp"
#include "algorithms/rtn.hpp"
#include "algorithms/smoothquant.hpp"

namespace mx::algo {

namespace {
constexpr std::array<std::pair<std::string_view, Algorithm>, 8> kAlgorithms = {{
    {"rtn", Algorithm::kRtn},
    {"smoothquant", Algorithm::kSmoothQuant},
    {"awq", Algorithm::kAwq},
    {"gptq", Algorithm::kGptq},
    {"smoothquant+gptq", Algorithm::kSmoothQuantGptq},
    {"awq+gptq", Algorithm::kAwqGptq},
    {"smoothquant+awq+gptq", Algorithm::kSmoothQuantAwqGptq},
    {"crossquant", Algorithm::kCrossQuant},
}};
}  // namespace

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  for (const auto& [n, a] : kAlgorithms)
    if (n == name) return a;
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm a) {
  for (const auto& [n, v] : kAlgorithms)
    if (v == a) return n;
  return "?";
}

std::string_view algorithm_names() {
  return "rtn, smoothquant, awq, gptq, smoothquant+gptq, awq+gptq, smoothquant+awq+gptq, "
         "crossquant";
}

PtqResult run_ptq(const Mat& w, const Mat& x, const PtqOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  if (x.cols() != w.cols())
    throw std::invalid_argument(fmt::format(
        "activations have {} columns but weights have {} (W is out x in, X is samples x in)",
        x.cols(), w.cols()));
  const Algorithm a = opt.algorithm;
  const bool sq = a == Algorithm::kSmoothQuant || a == Algorithm::kSmoothQuantGptq ||
                  a == Algorithm::kSmoothQuantAwqGptq;
  const bool awq =
      a == Algorithm::kAwq || a == Algorithm::kAwqGptq || a == Algorithm::kSmoothQuantAwqGptq;
  const bool gptq = a == Algorithm::kGptq || a == Algorithm::kSmoothQuantGptq ||
                    a == Algorithm::kAwqGptq || a == Algorithm::kSmoothQuantAwqGptq;
  const bool cq = a == Algorithm::kCrossQuant;
  const Quantizer wq(opt.weight), aq(opt.act);
  if (!wq.enabled()) throw std::invalid_argument("a weight format is required");
  if (cq && aq.enabled() && opt.act.kind != QuantKind::kIntChannel)
    throw std::invalid_argument(fmt::format(
        "crossquant quantizes activations itself: the act format must be int<N> (got '{}')",
        opt.act.name));

  PtqResult res;
  Mat xs = x, ws = w;
  res.smooth = Vec::Ones(w.cols());
  if (sq) {
    const Vec s = smoothquant_factors(xs, ws, {opt.alpha, opt.pow2_scales});
    apply_smoothing(xs, ws, s);
    res.smooth = res.smooth.cwiseProduct(s);
    res.ran_smoothquant = true;
  }
  if (awq) {
    res.awq = awq_search_scales(xs, ws, wq, aq, opt.awq);
    apply_smoothing(xs, ws, res.awq.scales);
    res.smooth = res.smooth.cwiseProduct(res.awq.scales);
    if (opt.awq.clip) ws = awq_clip(xs, ws, wq, opt.awq, &res.awq);
    res.ran_awq = true;
  }
  if (gptq) {
    res.gptq = gptq_quantize(ws, hessian(xs), wq, opt.gptq);
    res.w_q_scaled = std::move(res.gptq.q);
    res.gptq.q = Mat();
    res.weight_counts = res.gptq.counts;
    res.ran_gptq = true;
  } else {
    res.w_q_scaled = rtn_quantize(ws, wq, &res.weight_counts);
  }
  res.w_q = res.w_q_scaled * res.smooth.cwiseInverse().asDiagonal();

  const Index ms = opt.stats_rows < 0 ? x.rows() : std::min(x.rows(), opt.stats_rows);
  if (ms < x.rows()) xs.conservativeResize(ms, Eigen::NoChange);
  Mat xq;
  if (cq) {
    const int bits = aq.enabled() ? opt.act.bits : 8;
    CrossQuantResult c = crossquant(xs, bits, opt.alpha, nullptr, opt.act.int_rounding);
    xq = std::move(c.xq);
    res.act_counts = c.counts;
    QuantSpec pt;
    pt.kind = QuantKind::kIntChannel;
    pt.bits = bits;
    pt.int_rounding = opt.act.int_rounding;
    const Mat per_token = Quantizer(pt).quantize_rows(xs);
    res.act_kernel_per_token = kernel_proportion(xs, per_token);
  } else {
    xq = aq.quantize_rows(xs, &res.act_counts);
  }
  res.act_kernel = kernel_proportion(xs, xq);
  const Mat y_ref = x.topRows(ms) * w.transpose();
  const Mat y_q = xq * res.w_q_scaled.transpose();
  res.output = error_stats(y_ref, y_q);
  res.weight = error_stats(w, res.w_q);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace mx::algo
