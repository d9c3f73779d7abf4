// Shared synthetic data for the algorithms tests.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "algorithms/matrix.hpp"

namespace mx::algo::testing {

using mx::algo::gaussian;

// LLM-like activations: correlated channels (a random mixing of Gaussian factors), a few
// outlier channels scaled by `outlier` (every `every`-th channel), heavier-tailed tokens.
inline Mat llm_activations(Index t, Index k, std::uint64_t seed, double outlier = 50.0,
                           Index every = 97) {
  Mat z = gaussian(t, k, seed);
  Mat mix = Mat::Identity(k, k) + gaussian(k, k, seed + 1, 0.6 / std::sqrt(double(k)));
  Mat x = z * mix;
  std::mt19937_64 rng(seed + 2);
  std::chi_squared_distribution<double> chi(3.0);
  for (Index i = 0; i < t; ++i) x.row(i) *= std::sqrt(3.0 / std::max(chi(rng), 0.05)) * 0.5 + 0.5;
  for (Index j = 3; j < k; j += every) x.col(j) *= outlier;
  return x;
}

}  // namespace mx::algo::testing
