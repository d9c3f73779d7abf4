// Workload tensors: synthetic data drawn from a counter-based generator (element i's value is a
// pure function of (seed, i), so the data is the same for any thread count, rank or order),
// or a tensor read from disk.
#pragma once

#include <cstdint>

#include "emulator/tensor.hpp"
#include "experiments/config.hpp"

namespace mx::experiments {

// fp32 tensor of a synthetic workload, or the file's tensor (fp32 or fp64) for kind "file".
// Throws std::runtime_error naming workloads.NAME.path / .axis when a file cannot be used.
Tensor make_workload(const WorkloadSpec& w, std::uint64_t seed, int threads);

// The generator's primitives, exposed for tests. `key` selects a stream, `i` the draw.
double uniform01(std::uint64_t key, std::uint64_t i);                   // in (0, 1), never 0 or 1
double normal_draw(std::uint64_t key, std::uint64_t i);                 // N(0, 1), Box-Muller
double student_t_draw(std::uint64_t key, std::uint64_t i, double dof);  // Bailey's polar method
double laplace_draw(std::uint64_t key, std::uint64_t i);                // Laplace(0, 1)

}  // namespace mx::experiments
