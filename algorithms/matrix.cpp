#include "algorithms/matrix.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mx::algo {

Mat to_matrix(const Tensor& t, const std::string& what) {
  if (t.shape.size() != 2)
    throw std::invalid_argument(
        fmt::format("{}: expected a 2-D array, got {} dimensions", what, t.shape.size()));
  const std::size_t rows = t.shape[0], cols = t.shape[1];
  if (rows == 0 || cols == 0)
    throw std::invalid_argument(fmt::format("{}: empty array [{}, {}]", what, rows, cols));
  Mat m(static_cast<Index>(rows), static_cast<Index>(cols));
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t k = i * cols + j;
      const double v = t.dtype == DType::kF32 ? static_cast<double>(t.f32[k]) : t.f64[k];
      if (!std::isfinite(v))
        throw std::invalid_argument(fmt::format("{}: non-finite value at [{}, {}]", what, i, j));
      m(static_cast<Index>(i), static_cast<Index>(j)) = v;
    }
  }
  return m;
}

Tensor to_tensor(const Mat& m, DType dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
  const std::size_t n = t.size();
  if (dtype == DType::kF32)
    t.f32.resize(n);
  else
    t.f64.resize(n);
  std::size_t k = 0;
  for (Index i = 0; i < m.rows(); ++i) {
    for (Index j = 0; j < m.cols(); ++j, ++k) {
      if (dtype == DType::kF32)
        t.f32[k] = static_cast<float>(m(i, j));
      else
        t.f64[k] = m(i, j);
    }
  }
  return t;
}

}  // namespace mx::algo
