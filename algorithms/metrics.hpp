// Error statistics of a quantized result against its reference (ptq-algorithms.md §5).
#pragma once

#include "algorithms/matrix.hpp"

namespace mx::algo {

struct ErrorStats {
  double mse = 0;            // (1/n) sum e^2
  double sqnr_db = 0;        // 10 log10(sum x^2 / sum e^2), aggregated over the whole matrix
  double max_abs_error = 0;  // max |e|
  double max_rel_error = 0;  // max |e| / max(|x|, 1e-30)
  double cosine = 0;         // <x, xq> / (|x| |xq|) over the flattened matrix
  double rel_fro = 0;        // |e|_F / |x|_F
  // Mean over rows (tokens) of KL(softmax(x_row) || softmax(xq_row)) in nats: the layer output
  // read as logits. Only meaningful where the output feeds a softmax.
  double kl_divergence = 0;
};

// x: reference, xq: quantized. Same shape. SQNR is +inf when the error is zero.
ErrorStats error_stats(const Mat& x, const Mat& xq);

// sum over rows of the row-softmax KL divergence, divided by rows.
double mean_softmax_kl(const Mat& x, const Mat& xq);

}  // namespace mx::algo
