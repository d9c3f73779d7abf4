// Dense matrices of the algorithms layer: Eigen, fp64, column-major. The PTQ algorithms work
// on a weight W (out x in = R x K, K the reduction dimension) and calibration activations X
// (samples x in = T x K); a layer computes Y = X W^T.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <Eigen/Dense>

#include "emulator/tensor.hpp"

namespace mx::algo {

using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;
using Index = Eigen::Index;

// A 2-D tensor (fp32 or fp64, C order) as a matrix, exactly (fp32 widens exactly). Throws
// std::invalid_argument naming `what` when the tensor is not 2-D, is empty, or holds a
// non-finite value.
Mat to_matrix(const Tensor& t, const std::string& what);

// A matrix as a 2-D C-order tensor of `dtype` (fp32 rounds to nearest-even, as a cast).
Tensor to_tensor(const Mat& m, DType dtype);

// rows x cols of N(0, scale^2) draws from mt19937_64(seed), filled column by column
// (synthetic layers and calibration data for tests and benchmarks).
inline Mat gaussian(Index rows, Index cols, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, scale);
  Mat m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = nd(rng);
  return m;
}

}  // namespace mx::algo
