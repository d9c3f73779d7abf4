// Generic element codec: any ElemFormat, any rounding mode, from fp64 (fp32 converts to fp64
// exactly). This is the slow, general path; formats/fast_f32.hpp is the fast fp32 path and is
// tested equal to this one.
#pragma once

#include <cstdint>

#include "formats/descriptor.hpp"
#include "formats/rounding.hpp"

namespace mx {

// The exact value of a code (every mxlab format fits a double). NaN codes give a quiet NaN
// with the code's sign, Inf codes give +-Inf.
double decode(const ElemFormat& f, std::uint32_t code);

// Rounds x * 2^-scale_exp (exactly, the scale is applied to the exponent, never by a
// floating-point division) to a code of `f`. `rnd` supplies the random bits of stochastic
// rounding (see stochastic_bits); `status` gets the flags OR-ed in when non-null. The
// rounding itself is round_pack (formats/round_pack.hpp), which also defines the flags.
//
// Semantics (README "Conversion rules"): rounding as IEEE 754 with an unbounded exponent,
// then overflow per policy (directed modes away from the overflow, and odd, clamp to the
// largest finite value); NaN gives the format's NaN or, without one, +0 and kInvalid;
// Inf saturates or becomes Inf/NaN by policy; floats keep the sign of zero, integers do not.
// E8M0 has no zero and no sign: negative inputs give NaN, tiny ones the smallest scale.
std::uint32_t encode(const ElemFormat& f, double x, const RoundSpec& spec, Status* status = nullptr,
                     std::uint64_t rnd = 0, int scale_exp = 0);

}  // namespace mx
