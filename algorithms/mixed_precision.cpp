#include "algorithms/mixed_precision.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mx::algo {

namespace {
BitAllocation finish(const std::vector<LayerCost>& layers, const std::vector<double>& levels,
                     std::vector<std::size_t> level) {
  BitAllocation a;
  a.level = std::move(level);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const double b = levels[a.level[l]];
    a.bits.push_back(b);
    a.total_bits += double(layers[l].params) * b;
    a.distortion += layers[l].distortion[a.level[l]];
  }
  return a;
}

void check(const std::vector<LayerCost>& layers, const std::vector<double>& levels, double budget) {
  if (levels.empty()) throw std::invalid_argument("bit allocation: no levels");
  for (std::size_t i = 1; i < levels.size(); ++i)
    if (!(levels[i] > levels[i - 1]))
      throw std::invalid_argument("bit allocation: levels must ascend");
  double min_bits = 0;
  for (const auto& l : layers) {
    if (l.distortion.size() != levels.size())
      throw std::invalid_argument("bit allocation: one distortion per level needed");
    min_bits += double(l.params) * levels[0];
  }
  if (min_bits > budget)
    throw std::invalid_argument(fmt::format(
        "bit allocation: budget {} bits is below the minimum {} bits", budget, min_bits));
}
}  // namespace

BitAllocation allocate_bits(const std::vector<LayerCost>& layers, const std::vector<double>& levels,
                            double budget_bits) {
  check(layers, levels, budget_bits);
  std::vector<std::size_t> level(layers.size(), 0);
  double used = 0;
  for (const auto& l : layers) used += double(l.params) * levels[0];
  for (;;) {
    double best_gain = 0;
    std::size_t best = layers.size();
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const std::size_t cur = level[l];
      if (cur + 1 >= levels.size()) continue;
      const double cost = double(layers[l].params) * (levels[cur + 1] - levels[cur]);
      if (used + cost > budget_bits) continue;
      const double gain = (layers[l].distortion[cur] - layers[l].distortion[cur + 1]) / cost;
      if (gain > best_gain) {  // strict: ties keep the lowest index (deterministic)
        best_gain = gain;
        best = l;
      }
    }
    if (best == layers.size()) break;
    used += double(layers[best].params) * (levels[level[best] + 1] - levels[level[best]]);
    ++level[best];
  }
  return finish(layers, levels, std::move(level));
}

BitAllocation uniform_allocation(const std::vector<LayerCost>& layers,
                                 const std::vector<double>& levels, double budget_bits) {
  check(layers, levels, budget_bits);
  double n = 0;
  for (const auto& l : layers) n += double(l.params);
  std::size_t best = 0;
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (n * levels[i] <= budget_bits) best = i;
  return finish(layers, levels, std::vector<std::size_t>(layers.size(), best));
}

LayerCost model_cost(double sensitivity, Index params, double variance,
                     const std::vector<double>& levels) {
  LayerCost c;
  c.params = params;
  for (double b : levels)
    c.distortion.push_back(sensitivity * double(params) * variance * std::exp2(-2.0 * b));
  return c;
}

std::vector<double> closed_form_bits(const std::vector<double>& sensitivity,
                                     const std::vector<Index>& params,
                                     const std::vector<double>& variance, double avg_bits) {
  double ntot = 0, log_g = 0;
  for (std::size_t l = 0; l < params.size(); ++l) ntot += double(params[l]);
  for (std::size_t l = 0; l < params.size(); ++l)
    log_g += double(params[l]) / ntot * std::log2(sensitivity[l] * variance[l]);
  std::vector<double> b;
  for (std::size_t l = 0; l < params.size(); ++l)
    b.push_back(avg_bits + 0.5 * (std::log2(sensitivity[l] * variance[l]) - log_g));
  return b;
}

LayerCost measured_cost(const Mat& w, const Mat& x, const std::vector<QuantSpec>& per_level) {
  LayerCost c;
  c.params = w.size();
  const Mat y = x * w.transpose();
  for (const QuantSpec& s : per_level) {
    const Mat yq = x * Quantizer(s).quantize_rows(w).transpose();
    c.distortion.push_back((y - yq).squaredNorm());
  }
  return c;
}

LayerCost measured_cost_gram(const Mat& w, const Mat& gram,
                             const std::vector<QuantSpec>& per_level) {
  if (gram.rows() != w.cols() || gram.cols() != w.cols())
    throw std::invalid_argument(
        fmt::format("measured_cost_gram: Gram matrix is {} x {}, weights "
                    "have {} columns",
                    gram.rows(), gram.cols(), w.cols()));
  LayerCost c;
  c.params = w.size();
  for (const QuantSpec& s : per_level) {
    const Mat d = Quantizer(s).quantize_rows(w) - w;
    c.distortion.push_back((d * gram).cwiseProduct(d).sum());
  }
  return c;
}

}  // namespace mx::algo
