// Bit-exact compatibility mode with microsoft/microxcaling's quantize_mx_op.
//
// Reproduces the PyTorch (non-custom-CUDA) path of microxcaling's `_quantize_mx` for
// float32 inputs with scale_bits = 8, shared_exp_method = "max" and
// flush_fp32_subnorms = False: the shared exponent is floor(log2(amax)) taken from a float32
// log2, the block is divided by 2^shared_exp, each element goes through
// `_quantize_elemwise_core` (saturating, subnormals allowed) and is multiplied back. Every
// step is carried out in float32 the way torch evaluates it on the CPU, so the float32
// quirks of that code (log2 rounding up just below powers of two, `floor(|x| + 0.5)`
// rounding the sum first, NaN blocks for exponents above 127, ...) are part of the result.
// See compat_microxcaling.cpp for the list.
#pragma once

#include <cstddef>

#include "formats/descriptor.hpp"

namespace mx {

// microxcaling's rounding modes: "nearest" rounds half away from zero, "even" rounds half
// to even, "floor" truncates toward zero (it floors the magnitude, not the value).
enum class McRound { kNearest, kEven, kFloor };

// True if microxcaling has this element format: fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3,
// fp4_e2m1 (matched on kind/bits/exp_bits/man_bits) and int8/int4. Note that microxcaling's
// intN is sign-magnitude with the symmetric range +-(2^(N-1)-1) / 2^(N-2) (int8: +-127/64):
// it never produces the two's-complement code -2^(N-1) that OCP's intN has.
bool microxcaling_supports(const ElemFormat& elem);

// Fake-quantizes one block x[0..n) exactly as microxcaling's quantize_mx_op does, writing
// y[0..n) (y may alias x). A block shorter than the block size behaves as microxcaling's
// zero padding does (padding zeros never change the block's max). If scale_code is
// non-null it receives the shared exponent as an E8M0 code (exponent + 127; 0xFF when
// microxcaling's shared exponent is NaN). elem must satisfy microxcaling_supports().
void microxcaling_quantize_block(const ElemFormat& elem, McRound round, const float* x, float* y,
                                 std::size_t n, unsigned* scale_code);

}  // namespace mx
