// One Linear layer through a PTQ recipe: a pipeline of registered steps (ptq_step.hpp), e.g.
// "smoothquant+awq+gptq": transforms (SmoothQuant, then AWQ scale and clip), one weight
// quantizer (RTN or GPTQ) and optionally an activation quantizer (CrossQuant); the order is
// that of the Sharify et al. study (ptq-algorithms.md §3.6; the dmx-compressor / Brevitas
// order).
//
// The quantized layer computes Yq = Qa(X diag(s)^-1) Qw(W diag(s))^T, where s is the product
// of the transforms' factors (ones when none runs); its error is measured against
// Y = X W^T on the same activations X used for calibration.
#pragma once

#include <optional>
#include <string_view>

#include "algorithms/awq.hpp"
#include "algorithms/gptq.hpp"
#include "algorithms/metrics.hpp"
#include "algorithms/ptq_step.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

// The names callers used before recipes: an algorithm is a recipe.
using Algorithm = Recipe;
// nullopt for anything Recipe::parse rejects.
std::optional<Recipe> parse_algorithm(std::string_view name);
std::string algorithm_name(const Recipe& r);

struct PtqOptions {
  Recipe algorithm;    // default rtn
  QuantSpec weight;    // weight quantizer (blocks along K of each output row)
  QuantSpec act;       // activation quantizer (blocks along K of each token); kNone = weight-only
  double alpha = 0.5;  // SmoothQuant migration strength; CrossQuant exponent
  bool pow2_scales = false;  // SmoothQuant / AWQ factors rounded to powers of two
  GptqOptions gptq;
  AwqOptions awq;
  // Error statistics (output, act counts and kernel) on the first this many rows of X only
  // (-1: all). The quantized weights never depend on it; at model scale the statistics on
  // every calibration token would cost more than the algorithms.
  Index stats_rows = -1;
};

struct PtqResult {
  Mat w_q;            // quantized weights in the original input basis: Qw(W diag(s)) diag(s)^-1
  Mat w_q_scaled;     // Qw(W diag(s)): what the quantized GEMM multiplies with X diag(s)^-1
  Vec smooth;         // s
  ErrorStats output;  // Yq against Y
  ErrorStats weight;  // w_q against W
  QuantCounts weight_counts, act_counts;
  double act_kernel = 0;             // kernel proportion of the quantized activations
  double act_kernel_per_token = -1;  // CrossQuant: the per-token int<N> baseline's (else -1)
  // An activation step's quantizer for the deployed layer (from all calibration rows, after
  // the transforms); empty when the act format's own quantizer applies.
  ActQuantFn act_quantizer;
  AwqResult awq;  // when AWQ ran
  bool ran_awq = false, ran_gptq = false, ran_smoothquant = false;
  GptqResult gptq;  // when GPTQ ran (its q is moved out into w_q_scaled)
  double seconds = 0;
};

// Runs opt.algorithm's steps. Throws std::invalid_argument for a shape mismatch or options a
// step cannot run with, and SingularHessian from GPTQ.
PtqResult run_ptq(const Mat& w, const Mat& x, const PtqOptions& opt);

}  // namespace mx::algo
