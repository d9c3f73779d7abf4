// GPTQ (Frantar et al. 2022; ptq-algorithms.md §3.4): quantize the columns of W one at a
// time in the reduction dimension, spreading each column's error over the columns not yet
// quantized through the upper Cholesky factor of the inverse Hessian, with lazy batches.
//
// MX blocks (and integer groups) use variant B: a block's parameters (the E8M0 exponent of
// each row) are found from the current, error-updated values when the block's first column is
// reached, read from the lazy batch's local copy, which always holds the whole block (the lazy
// batch is a multiple of the block), so they are never stale (pitfall P1). With act-order the
// parameters are static (variant C): found from the original W per original block before any
// update, while columns are visited in order of decreasing Hessian diagonal (a stable sort,
// ties by index: pitfall P5); blocks stay contiguous in stored order (P4).
#pragma once

#include <stdexcept>

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

// Raised when the (damped) Hessian is not positive definite.
class SingularHessian : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GptqOptions {
  double damp = 0.01;  // relative damping: lambda = damp * mean(diag H)
  Index block = 128;   // lazy batch (rounded to a multiple of the quantizer's group)
  bool act_order = false;
  int damp_retries = 3;  // damp > 0 and still not positive definite: damp *= 10, this often
};

struct GptqResult {
  Mat q;                   // the quantized (dequantized) weights, original column order
  double loss = 0;         // sum of the per-column OBS losses (w - q)^2 / (2 d^2)
  double damp_used = 0;    // relative damping finally used
  double lambda = 0;       // absolute damping added to the diagonal
  Index dead_columns = 0;  // inputs never active (diag H = 0): weights zeroed (pitfall P3)
  Index lazy_block = 0;    // lazy batch used
  QuantCounts counts;
};

// H = (2 / T) X^T X for calibration activations X (T x K), each row counted as one sample.
Mat hessian(const Mat& x);

// U, upper triangular with U^T U = H^-1, for a symmetric positive definite H: the Cholesky
// factor of the reversed H, inverted and reversed back (half the work of inverting H and
// factoring the inverse). Throws SingularHessian when a pivot is not clearly positive.
Mat inverse_cholesky_upper(const Mat& h);

// The inverse of a lower triangular matrix (blocked, recursive: one third of a GEMM's work).
Mat invert_lower(const Mat& l);

GptqResult gptq_quantize(const Mat& w, const Mat& h, const Quantizer& quant,
                         const GptqOptions& opt);

}  // namespace mx::algo
