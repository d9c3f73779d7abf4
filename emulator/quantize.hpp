// Tensor-level MX quantization: blocks of `block_size` consecutive elements along one axis
// (the last block along the axis may be shorter), each with its own shared scale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "emulator/tensor.hpp"
#include "formats/block_quant.hpp"

namespace mx {

struct QuantizeOptions {
  BlockSpec block;  // format (block_size 0 = element-wise), rounding, compat
  int axis = -1;    // may be negative (counts from the end)
  int threads = 1;
};

// Shape of the blocking: the tensor viewed as [outer, length, inner] around the axis.
struct Blocking {
  std::size_t outer = 1, length = 1, inner = 1, block = 1, blocks_per_lane = 1;
  std::size_t num_blocks() const { return outer * blocks_per_lane * inner; }
};
// Validates the axis against the shape (throws std::invalid_argument naming --axis).
Blocking make_blocking(const std::vector<std::size_t>& shape, int axis, int block_size);

// Quantizes `in` (fp32 or fp64). Any of the outputs may be null:
//   dequantized: same shape and dtype as the input (may alias the input data for in-place);
//   codes: one element code per input element, in the input's element order;
//   scales: one scale code per block, in C order of the shape [outer, blocks, inner].
// Stochastic rounding draws element i's bits from (seed, position of i in axis-major order),
// so the result does not depend on the thread count.
void quantize_tensor(const QuantizeOptions& opt, const Tensor& in, Tensor* dequantized,
                     std::vector<std::uint32_t>* codes, std::vector<std::uint32_t>* scales);

// The same on caller-owned memory, so a front end (the Python module) quantizes its arrays
// without copying them into a Tensor: x holds the product of `shape` values in C order; y (the
// dequantized values, may equal x), codes (one per element) and scales (one per block) may
// each be null. Bit-identical to quantize_tensor, which calls it.
void quantize_buffer(const QuantizeOptions& opt, const float* x,
                     const std::vector<std::size_t>& shape, float* y, std::uint32_t* codes,
                     std::uint32_t* scales);
void quantize_buffer(const QuantizeOptions& opt, const double* x,
                     const std::vector<std::size_t>& shape, double* y, std::uint32_t* codes,
                     std::uint32_t* scales);
// Number of scale codes quantize_buffer writes (0 for element-wise formats); validates the
// axis like make_blocking.
std::size_t num_scales(const QuantizeOptions& opt, const std::vector<std::size_t>& shape);

// Runs fn(begin, end) over [0, n) split into `threads` contiguous chunks.
template <typename Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn);

}  // namespace mx

#include "emulator/parallel-inl.hpp"
