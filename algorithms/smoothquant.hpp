// SmoothQuant (Xiao et al. 2023; ptq-algorithms.md §3.2): migrate activation outliers into
// the weights with per-input-channel factors s_j = max(a_j^alpha / w_j^(1-alpha), 1e-5),
// a_j = max_t |X_tj| and w_j = max(max_i |W_ij|, 1e-5) (the reference's absmax statistic, P13).
// X' = X diag(s)^-1 and W' = W diag(s) leave X W^T unchanged in exact arithmetic.
#pragma once

#include "algorithms/matrix.hpp"

namespace mx::algo {

struct SmoothQuantOptions {
  double alpha = 0.5;  // migration strength: 0 leaves X alone, 1 flattens X completely
  bool pow2 = false;   // round each factor to a power of two (the fold is then exact in fp)
};

Vec smoothquant_factors(const Mat& x, const Mat& w, const SmoothQuantOptions& opt);

// x <- x diag(s)^-1, w <- w diag(s).
void apply_smoothing(Mat& x, Mat& w, const Vec& s);

// 2^round(log2 s) elementwise (ties of the exponent away from zero).
Vec round_pow2(const Vec& s);

}  // namespace mx::algo
