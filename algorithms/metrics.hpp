// Error statistics of a quantized result against its reference (ptq-algorithms.md §5), and
// the one definition of SQNR, cosine similarity and relative Frobenius error that every
// caller uses (algo::error_stats, the sweep's experiments::compute_stats, the model's
// LinearStats), from the sums over the compared elements:
//   ref2 = sum x^2, err2 = sum (x - q)^2, q2 = sum q^2, dot = sum x q.
// Degenerate cases (the convention, tested in tests/algorithms/metrics_test.cpp):
//   err2 == 0 (q equals x, including both all zero):  SQNR +inf, rel_fro 0;
//   ref2 == 0, err2 > 0 (x zero, q not):              SQNR -inf, rel_fro +inf;
//   ref2 == 0 and q2 == 0 (both all zero):            cosine 1 (q reproduces x exactly);
//   exactly one of ref2, q2 zero:                     cosine 0.
// An empty comparison is the both-zero case here; a caller that can compare nothing (the
// sweep, when no element is finite) reports NaN itself.
#pragma once

#include "algorithms/matrix.hpp"

namespace mx::algo {

double sqnr_db(double ref2, double err2);                      // 10 log10(ref2 / err2)
double cosine_similarity(double dot, double ref2, double q2);  // dot / (sqrt ref2 sqrt q2)
double rel_fro_error(double ref2, double err2);                // sqrt(err2 / ref2)

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

// x: reference, xq: quantized. Same shape. Degenerate cases as above.
ErrorStats error_stats(const Mat& x, const Mat& xq);

// sum over rows of the row-softmax KL divergence, divided by rows.
double mean_softmax_kl(const Mat& x, const Mat& xq);

}  // namespace mx::algo
