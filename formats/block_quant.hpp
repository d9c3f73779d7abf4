// One MX block: shared scale from the block's amax (OCP MX v1.0 §6.3) and the elements
// rounded against it. Fast fp32 kernels for power-of-two (E8M0) scales; a generic path for
// the other scale formats and for fp64 data.
#pragma once

#include <cstddef>
#include <cstdint>

#include <vector>

#include "formats/fast_f32.hpp"
#include "formats/mx_format.hpp"
#include "formats/rounding.hpp"

namespace mx {

enum class Compat : std::uint8_t { kOcp, kMicroxcaling };

struct BlockSpec {
  MxFormat format;
  RoundSpec round;
  Compat compat = Compat::kOcp;
  double tensor_scale = 1.0;  // NVFP4 only: the per-tensor fp32 scale
};

// Quantizes blocks with one spec; prepares the per-scale grids once (construct it once per
// tensor, then call from any number of threads).
class BlockQuantizer {
 public:
  explicit BlockQuantizer(const BlockSpec& spec);
  std::uint32_t f32(const float* x, std::size_t n, float* y, std::uint32_t* codes,
                    std::uint64_t index0) const;
  std::uint32_t f64(const double* x, std::size_t n, double* y, std::uint32_t* codes,
                    std::uint64_t index0) const;
  // Consecutive blocks of format.block_size along x[0..n) (the last may be shorter): y and
  // one scale code per block; no element codes. Same result as f32 block by block.
  void f32_blocks(const float* x, std::size_t n, float* y, std::uint32_t* scales,
                  std::uint64_t index0) const;
  // Element-wise (no shared scale) fp32 conversion.
  void elems_f32(const float* x, std::size_t n, float* y, std::uint32_t* codes,
                 std::uint64_t index0) const;
  const BlockSpec& spec() const { return spec_; }

 private:
  BlockSpec spec_;
  std::vector<F32Grid> grids_;  // E8M0 scales: the grid for scale exponent s at [s + 127]
};

// Quantizes x[0..n) as one block (convenience: builds a BlockQuantizer per call). Writes the
// dequantized values to y and the element codes to codes (either may be null) and returns the scale
// code: the E8M0 code (0xFF = NaN), or the ue4m3 / fp32 bit pattern for those scale formats.
// `index0` is the flat index of x[0] in its tensor, which keys the stochastic-rounding stream.
std::uint32_t quantize_block_f32(const BlockSpec& spec, const float* x, std::size_t n, float* y,
                                 std::uint32_t* codes, std::uint64_t index0);

// The same for fp64 data (generic path, exact).
std::uint32_t quantize_block_f64(const BlockSpec& spec, const double* x, std::size_t n, double* y,
                                 std::uint32_t* codes, std::uint64_t index0);

// Element-wise conversion without a shared scale (format.block_size == 0).
void quantize_elems_f32(const BlockSpec& spec, const float* x, std::size_t n, float* y,
                        std::uint32_t* codes, std::uint64_t index0);

// The NVFP4 per-tensor scale from the tensor's amax: amax / (448 * 6) rounded to fp32
// (1 when amax is 0 or not finite).
double nvfp4_tensor_scale(double amax);

}  // namespace mx
