// AVX2 versions of the fast fp32 kernels, chosen at run time when the CPU has AVX2. They
// compute exactly what quantize_bits_f32 computes (tests/formats/simd_test.cpp proves it on
// random and special inputs; the exhaustive test runs through them), so they are instances of
// round_pack (formats/round_pack.hpp) too: tests/formats/round_pack_kernels_test.cpp checks
// their codes against round_pack directly. Codes only, no Status flags.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/fast_f32.hpp"
#include "formats/mx_format.hpp"

namespace mx {

// Fake-quantizes x[0..n) onto the grid; returns false (and does nothing) when no vector
// kernel applies (no AVX2, stochastic rounding, or a format without mantissa bits), so the
// caller runs the scalar loop.
bool quantize_values_f32_simd(const F32Grid& g, Rounding mode, const float* x, std::size_t n,
                              float* y);

// Element codes for values already on the grid of `elem` scaled by 2^s (bit patterns as
// written by quantize_bits_f32), as grid_bits_to_code computes them. Returns false when no
// vector kernel applies.
bool grid_codes_f32_simd(const ElemFormat& elem, int s, const float* y, std::size_t n,
                         std::uint32_t* codes);

// A run of consecutive E8M0-scaled blocks of `block` elements (the last one may be shorter)
// in one pass: per block the amax, the shared exponent by `rule`, then the elements on
// grids[s + 127]. Writes y and one scale code per block. Returns false when no vector kernel
// applies (as above).
bool quantize_blocks_f32_simd(const F32Grid* grids, const ElemFormat& elem, ScaleRule rule,
                              Rounding mode, const float* x, std::size_t n, std::size_t block,
                              float* y, std::uint32_t* scales);

// max over i of (bit pattern of x[i] with the sign cleared).
std::uint32_t amax_bits_f32(const float* x, std::size_t n);

}  // namespace mx
