// Golden test vectors for kernels and RTL: random and edge-case dot products of MX vectors,
// their inputs as packed element codes + E8M0 scale bytes, and the output bits an
// implementation of the accumulator model must produce. Layouts: results/GOLDEN_VECTORS.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulator/accum_model.hpp"
#include "formats/block_quant.hpp"

namespace mx {

struct GoldenSpec {
  BlockSpec a, b;    // operand formats (E8M0-scaled MX, or element-wise with block 0)
  AccumModel model;  // accumulation, output format and rounding
  std::size_t cases = 0;
  std::size_t k = 0;  // dot-product length
  std::uint64_t seed = 0;
};

struct GoldenCase {
  std::string kind;         // normal, wide, cancel, subnormal, zero, nan, ...
  std::vector<float> a, b;  // inputs before quantization
  float c = 0.0f;           // addend C
  std::vector<std::uint32_t> a_codes, b_codes;
  std::vector<std::uint8_t> a_scales, b_scales;  // empty without shared scales
  std::uint32_t expected = 0;                    // output code in model.out
};

// The first cases are fixed edge cases (exact zero by cancellation, NaN, Inf, NaN scale,
// all-zero, largest magnitudes, subnormal products, non-zero C), the rest random with mixed
// distributions; all deterministic in seed.
std::vector<GoldenCase> make_golden(const GoldenSpec& spec);

// HDF5 file (written under a temporary name, then renamed) and the $readmemh text file.
void write_golden_h5(const std::string& path, const GoldenSpec& spec,
                     const std::vector<GoldenCase>& cases, const std::string& provenance);
void write_golden_hex(const std::string& path, const GoldenSpec& spec,
                      const std::vector<GoldenCase>& cases, const std::string& provenance);

}  // namespace mx
