// Mixed-precision bit allocation under a bit budget (ptq-algorithms.md §3.7; Hasan's exact
// formula is unknown, this is the standard high-resolution model it describes): layer l with
// n_l weights at b bits adds distortion D_l(b) (measured, or modelled as s_l n_l var_l 2^(-2b)
// with a sensitivity s_l, e.g. tr(H_l)/K_l). Minimise sum D_l subject to sum n_l b_l <= budget.
#pragma once

#include <cstddef>
#include <vector>

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

struct LayerCost {
  Index params = 0;                // n_l
  std::vector<double> distortion;  // D_l at each bit level (same order as the levels)
};

struct BitAllocation {
  std::vector<std::size_t> level;  // chosen level per layer
  std::vector<double> bits;        // chosen bits per layer
  double total_bits = 0;           // sum n_l b_l
  double distortion = 0;           // sum D_l
};

// Greedy marginal gain: start every layer at the lowest level, then repeatedly take the
// upgrade with the largest distortion decrease per extra bit that still fits the budget and
// lowers the distortion, until none fits. The total never exceeds `budget_bits`; when every
// upgrade costs a multiple of a common step that divides the slack, the budget is met
// exactly. `levels` must be ascending. Throws std::invalid_argument when even the lowest
// level exceeds the budget.
BitAllocation allocate_bits(const std::vector<LayerCost>& layers, const std::vector<double>& levels,
                            double budget_bits);

// The same number of bits for every layer: the highest level that fits the budget.
BitAllocation uniform_allocation(const std::vector<LayerCost>& layers,
                                 const std::vector<double>& levels, double budget_bits);

// The model D(b) = s n var 2^(-2b) at each level.
LayerCost model_cost(double sensitivity, Index params, double variance,
                     const std::vector<double>& levels);

// The real-valued optimum of the model (reverse water-filling):
// b_l = avg + 1/2 log2(s_l var_l / G), G the n-weighted geometric mean of s var.
std::vector<double> closed_form_bits(const std::vector<double>& sensitivity,
                                     const std::vector<Index>& params,
                                     const std::vector<double>& variance, double avg_bits);

// Measured cost of a layer: the sum of squared errors of its output X W^T when W is
// quantized by RTN with each quantizer in turn (one per level).
LayerCost measured_cost(const Mat& w, const Mat& x, const std::vector<QuantSpec>& per_level);

// The same cost from the Gram matrix G = X^T X of the calibration inputs (K x K):
// |X dW^T|_F^2 = tr(dW G dW^T), dW = RTN(W) - W. For many tokens this is far cheaper than
// measured_cost (no T x R products) and G can be shared by layers with the same input.
LayerCost measured_cost_gram(const Mat& w, const Mat& gram,
                             const std::vector<QuantSpec>& per_level);

}  // namespace mx::algo
