// Error statistics of a quantized tensor against its input, computed in double
// (results/README.md gives the definitions; ../shared/reference/ptq-algorithms.md §5).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "experiments/record.hpp"
#include "formats/descriptor.hpp"

namespace mx::experiments {

struct Stats {
  double mse = 0;          // (1/m) sum e^2 over the m elements with x and q finite
  double sqnr_db = 0;      // 10 log10(sum x^2 / sum e^2), same elements (algo::sqnr_db; NaN: m = 0)
  double max_abs_err = 0;  // max |e|
  double max_rel_err = 0;  // max |e| / |x| over x != 0
  double cosine = 0;       // algo::cosine_similarity: 1 when both are 0, 0 when one is
  double kl_softmax = 0;   // mean over rows of KL(softmax(x_row) || softmax(q_row)), nats
  double saturation_pct = 0;  // % of n: |x| beyond the block's extreme value (clamped)
  double underflow_pct = 0;   // % of the nonzero finite inputs whose q is 0
  double kernel_pct = 0;      // % of n with q == 0
  double nonfinite_pct = 0;   // % of n with q NaN or Inf
  std::array<std::uint64_t, kHistBins> hist{};  // |e|/|x| over x != 0 (record.hpp)
};

// x: input, q: dequantized values, codes: q's element codes (to tell saturation), n elements
// in C order whose last axis has length row_len (the rows of the softmax KL).
// codes may be null (saturation is then reported as 0).
Stats compute_stats(const float* x, const float* q, const std::uint32_t* codes, std::size_t n,
                    std::size_t row_len, const ElemFormat& elem);
Stats compute_stats(const double* x, const double* q, const std::uint32_t* codes, std::size_t n,
                    std::size_t row_len, const ElemFormat& elem);

}  // namespace mx::experiments
