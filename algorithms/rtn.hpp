// Round to nearest (ptq-algorithms.md §3.1): every group of every row quantized on its own
// parameters, no error compensation. The baseline every other method is measured against.
#pragma once

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

inline Mat rtn_quantize(const Mat& w, const Quantizer& quant, QuantCounts* counts = nullptr) {
  return quant.quantize_rows(w, counts);
}

}  // namespace mx::algo
