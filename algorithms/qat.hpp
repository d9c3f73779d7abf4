// Quantization-aware training with a straight-through estimator (ptq-algorithms.md §3.8), on
// one Linear layer distilled from its float teacher: minimise mean((X Q(W)^T - X Wt^T)^2) over
// a latent float W, Q the fake quantizer, gradients passed straight through Q inside its
// range and zeroed where the value saturates (the clip mask; the MX exponent is a constant
// of each step: stop-gradient). For the PTQ-vs-QAT comparison: step 0 is RTN.
#pragma once

#include <vector>

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

struct SteResult {
  Mat wq;    // Q(w)
  Mat mask;  // 1 where |w| <= the largest magnitude of its group's grid, else 0
};

// Fake quantization forward with the STE mask (parameters from the current w, by row/group).
SteResult fake_quant_ste(const Quantizer& q, const Mat& w);

struct QatOptions {
  int steps = 200;
  double lr = 1e-3;  // Adam step, relative to mean |Wt|
  double beta1 = 0.9, beta2 = 0.999;
};

struct QatResult {
  Mat w_latent;                 // the trained float weights
  Mat w_q;                      // Q(w_latent) at the best step
  double loss_rtn = 0;          // the objective of RTN (step 0)
  double loss_qat = 0;          // the best objective reached (<= loss_rtn)
  std::vector<double> history;  // objective per step
};

QatResult qat_linear(const Mat& w_teacher, const Mat& x, const Quantizer& q, const QatOptions& opt);

}  // namespace mx::algo
