// CrossQuant (Liu et al. 2024; ptq-algorithms.md §1.2, §3.5, the [I] reconstruction):
// activation quantization with a step built from the row (token) and column (channel)
// absolute maxima, Delta_ij = t_i^alpha c_j^(1-alpha) / q_max, q_max = 2^(N-1) - 1,
// Xq_ij = Delta_ij clamp(round(X_ij / Delta_ij), -q_max, q_max). alpha = 1 is per-token absmax
// (bit for bit), alpha = 0 per-channel absmax.
#pragma once

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

struct CrossQuantResult {
  Mat xq;
  QuantCounts counts;  // counts.underflow / total: the quantization-kernel proportion
};

// `static_colmax` (K values, e.g. from calibration) replaces the column maxima of x when given;
// then the clamp can saturate.
CrossQuantResult crossquant(const Mat& x, int bits, double alpha,
                            const Vec* static_colmax = nullptr,
                            Rounding rounding = Rounding::kNearestEven);

// The quantization-kernel proportion: #{x != 0 and xq == 0} / numel (exact zeros of x are
// not counted in the kernel).
double kernel_proportion(const Mat& x, const Mat& xq);

}  // namespace mx::algo
