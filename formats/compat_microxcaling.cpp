// Bit-exact reproduction of microsoft/microxcaling's quantize_mx_op (mx/mx_ops.py) for
// float32 inputs, scale_bits = 8, shared_exp_method = "max", flush_fp32_subnorms = False,
// on the torch (non custom-CUDA) code path. Written from reading microxcaling's code; the
// structure follows its functions so each step can be checked against the original:
//
//   _get_format_params   -> McParams / params_for()
//   _shared_exponents    -> shared_exponent()
//   _quantize_mx         -> microxcaling_quantize_block()
//   _quantize_elemwise_core, _safe_lshift, _safe_rshift, _round_mantissa
//                        -> quantize_elem(), round_mantissa()
//
// Every arithmetic step is one float32 operation, as torch performs it on float32
// tensors (python scalars such as 0.5 or 2**k are turned into float32 first). The code
// contains no a*b+c shape that a compiler could contract into an FMA, and it relies on
// plain IEEE float semantics (no -ffast-math / -freciprocal-math): divisions by powers of
// two stay divisions, which matters when the divisor 2^-127 is subnormal.
//
// float32 quirks that are part of microxcaling's results and reproduced here:
//  * The shared exponent is floor(log2(amax)) of a float32 log2. log2 of a value just below
//    2^k rounds up to exactly k once the gap k - log2(x) is under half a float32 ulp of k:
//    the last float below 2^3 (log2(7.9999995f) == 3.0f), the last 5 below 2^10 or 2^-10,
//    22 below 2^-126, 44 below 2^100. Such blocks get an exponent one too big (one bit
//    less precision). The same happens to the per-element exponent in
//    _quantize_elemwise_core. Only floor() of the log2 matters, and for every positive
//    finite float32 floor(torch.log2(x)) (torch CPU, AVX512, AVX2 and default kernels)
//    equals floor of the correctly rounded float32 log2, which we get from a double log2
//    rounded once to float.
//  * amax == 0 is replaced by 2^-126 (FP32_MIN_NORMAL) before log2, giving -126.
//  * log2 of the 44 largest floats (>= 0x7F7FFFD4, about 3.4028147e38, up to FLT_MAX)
//    rounds to 128.0f, so such a block gets shared exponent 128 - emax. Any shared
//    exponent above 127 becomes NaN and turns the whole block into NaN (this hits int8 and
//    int4, whose emax is 0).
//  * Shared exponents below -127 are clamped to -127 (the E8M0 minimum); 2^-127 is a
//    float32 subnormal and the division by it is exact.
//  * x / 2^shared_exp may underflow (round) into float32 subnormals for tiny elements of a
//    block with a large max, before any element rounding happens.
//  * Rounding adds 0.5 in float32 before flooring: |v| = 0.5 - 2^-25 gives 1.0f (the sum
//    rounds to even), so it rounds up in "nearest" and "even".
//  * "even" subtracts 1 where (|v| - 0.5) % 2 == 0 (torch's remainder, float32): exactly
//    the halfway points 0.5, 2.5, 4.5, ...
//  * "floor" is floor(|v|) with the sign put back, i.e. truncation toward zero.
//  * The sign is put back by multiplying with torch.sign(v), which is +0 for +-0: an input
//    -0.0 comes out +0.0, while a negative value that rounds to zero comes out -0.0.
//  * Values are clamped to +-max_norm after scaling back by 2^private_exp (saturation,
//    NaN passes through), and Inf/-Inf elements of the scaled block are forced back to
//    +-Inf (this never triggers for finite inputs, and a block holding Inf already has a
//    NaN shared exponent).
//  * The final product with 2^shared_exp is a plain float32 multiply (may over/underflow).
//  * NaN anywhere in a block makes amax NaN (torch.max propagates NaN), so the whole block
//    is NaN. For finite shared exponents no step can create a NaN, so NaN outputs come only
//    as whole NaN blocks.
//  * NaN bit pattern: torch's vectorized CPU pow (behind 2**shared_exp) turns the NaN
//    shared exponent into the all-ones NaN 0xFFFFFFFF, which the following divisions and
//    multiplications pass on; that is what microxcaling returns for the NaN blocks of a
//    tensor large enough to take torch's vector loops (seen with torch 2.15, AVX2 and
//    AVX512 kernels). We write that pattern. Torch's scalar fallback loops (a short inner
//    dimension, few blocks, or ATEN_CPU_CAPABILITY=default) give 0x7FC00000 or 0x7FFFFFFF
//    instead; that depends on the tensor's layout, not on the block, so it cannot be
//    reproduced per block.

#include "formats/compat_microxcaling.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace mx {
namespace {

// microxcaling's (ebits, mbits, emax, max_norm) from _get_format_params. mbits counts the
// sign and the implicit bit for floats (man_bits + 2); for intN it is N, with ebits = 0.
struct McParams {
  int ebits = 0;
  int mbits = 0;
  int emax = 0;
  float max_norm = 0.0f;
};

bool params_for(const ElemFormat& e, McParams* p) {
  if (e.kind == ElemKind::kInt) {
    if (e.bits != 8 && e.bits != 4) return false;
    p->ebits = 0;
    p->mbits = e.bits;
    p->emax = 0;
    // Sign-magnitude integer with a binary point after the first bit: (2^(N-1)-1)/2^(N-2).
    p->max_norm = static_cast<float>(static_cast<double>((1 << (e.bits - 1)) - 1) /
                                     static_cast<double>(1 << (e.bits - 2)));
    return true;
  }
  if (e.kind != ElemKind::kFloat || e.bits != 1 + e.exp_bits + e.man_bits) return false;
  const int eb = e.exp_bits, mb = e.man_bits;
  const bool known = (eb == 4 && mb == 3) || (eb == 5 && mb == 2) || (eb == 3 && mb == 2) ||
                     (eb == 2 && mb == 3) || (eb == 2 && mb == 1);
  if (!known) return false;
  p->ebits = eb;
  p->mbits = mb + 2;
  // e5m2 keeps the top exponent for Inf/NaN (emax = 2^(ebits-1) - 1); e4m3 and the
  // fp6/fp4 formats use it for numbers (emax = 2^(ebits-1)).
  p->emax = (eb == 5) ? (1 << (eb - 1)) - 1 : (1 << (eb - 1));
  if (eb == 4 && mb == 3) {
    p->max_norm = std::ldexp(1.75f, p->emax);  // e4m3's special 448 (S.1111.110)
  } else {
    // 2^emax * (2^(mbits-1) - 1) / 2^(mbits-2): all-ones mantissa at emax.
    p->max_norm = static_cast<float>(std::ldexp(
        static_cast<double>((1 << (p->mbits - 1)) - 1) / static_cast<double>(1 << (p->mbits - 2)),
        p->emax));
  }
  return true;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
// The NaN torch's vectorized kernels produce (all bits set); see the header comment.
constexpr float kTorchVecNaN = std::bit_cast<float>(std::uint32_t{0xFFFFFFFFu});

// torch.log2 on a float32 tensor. Correctly rounded float32 log2: computed in double (whose
// error is far below a float32 ulp) and rounded once. The only place the rounding shows
// through floor() is just below powers of two, where it rounds up to the integer.
float log2_f32(float v) { return static_cast<float>(std::log2(static_cast<double>(v))); }

// 2 ** e for a float32 tensor e holding integers (or NaN/Inf), i.e. torch.pow(2, e):
// exact powers of two, subnormal down to 2^-149, Inf above 2^127.
float pow2_f32(float e) {
  if (std::isnan(e)) return kNaN;
  if (e > 127.0f) return kInf;
  if (e < -149.0f) return 0.0f;
  return std::ldexp(1.0f, static_cast<int>(e));
}

// torch.sign: +1 / -1 / 0, and 0 (positive) for both zeros and NaN.
float sign_f32(float v) {
  const float pos = (v > 0.0f) ? 1.0f : 0.0f;
  const float neg = (v < 0.0f) ? 1.0f : 0.0f;
  return pos - neg;
}

// torch.remainder(a, b) for floats: fmod, moved into b's sign when the signs differ.
float remainder_f32(float a, float b) {
  float mod = std::fmod(a, b);
  if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) mod = mod + b;
  return mod;
}

// torch.clamp(v, lo, hi): NaN stays NaN, -0.0 stays -0.0.
float clamp_f32(float v, float lo, float hi) {
  if (std::isnan(v)) return v;
  if (v < lo) return lo;
  if (v > hi) return hi;
  return v;
}

// _round_mantissa (clamp=False): round the scaled magnitude to an integer, put the sign
// back by multiplying with torch.sign.
float round_mantissa(float v, McRound round) {
  const float s = sign_f32(v);
  const float a = std::fabs(v);
  switch (round) {
    case McRound::kFloor:
      return s * std::floor(a);
    case McRound::kNearest: {
      const float t = a + 0.5f;  // float32 add first: may round up to the next integer
      return s * std::floor(t);
    }
    case McRound::kEven: {
      // Halfway points 0.5, 2.5, 4.5, ... are detected as (|v| - 0.5) % 2 == 0 and pulled
      // down by one after the half-away rounding.
      const float d = a - 0.5f;
      const float mask = (remainder_f32(d, 2.0f) == 0.0f) ? 1.0f : 0.0f;
      const float t = a + 0.5f;
      const float f = std::floor(t) - mask;
      return s * f;
    }
  }
  return v;
}

// _quantize_elemwise_core(A, mbits, ebits, max_norm, round, allow_denorm=True,
// saturate_normals=True) on one element of the block already divided by 2^shared_exp.
float quantize_elem(float a, const McParams& p, McRound round) {
  const float m = pow2_f32(static_cast<float>(p.mbits - 2));  // 2**(bits-2), exact
  float out;
  if (p.ebits != 0) {
    // Private exponent floor(log2(|a|)) (|a| == 0 uses log2(1) = 0), clipped below at the
    // format's minimum normal exponent so that subnormals share it.
    const float absa = std::fabs(a);
    const float arg = absa + ((a == 0.0f) ? 1.0f : 0.0f);
    float pe = std::floor(log2_f32(arg));
    const float min_exp = static_cast<float>(2 - (1 << (p.ebits - 1)));
    if (!std::isnan(pe) && pe < min_exp) pe = min_exp;  // tensor.clip(min=): NaN stays
    const float pp = pow2_f32(pe);
    // _safe_lshift: divide by 2^private_exp, then multiply by 2^(bits-2).
    const float q = a / pp;
    const float scaled = q * m;
    const float r = round_mantissa(scaled, round);
    // _safe_rshift: divide by 2^(bits-2), then multiply by 2^private_exp.
    const float u = r / m;
    out = u * pp;
  } else {
    // Integers: no private exponent, only the fixed 2^(bits-2) shift.
    const float scaled = a * m;
    const float r = round_mantissa(scaled, round);
    out = r / m;
  }
  // saturate_normals (and always for ints): clamp to +-max_norm.
  out = clamp_f32(out, -p.max_norm, p.max_norm);
  // Infinities of the (scaled) input are written back unchanged.
  if (a == kInf) out = kInf;
  if (a == -kInf) out = -kInf;
  return out;
}

// _shared_exponents(method="max", ebits=0) followed by _quantize_mx's offset by the
// element emax and the scale_bits = 8 range handling. Returns NaN or an integer in
// [-127, 127].
float shared_exponent(const float* x, std::size_t n, const McParams& p) {
  // torch.max(torch.abs(.)) over the block; NaN wins (torch.max propagates NaN).
  float amax = 0.0f;
  bool has_nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = std::fabs(x[i]);
    if (std::isnan(v))
      has_nan = true;
    else if (v > amax)
      amax = v;
  }
  if (has_nan) amax = kNaN;
  // FP32_MIN_NORMAL (2^-126) is added only where amax == 0, so log2 never sees 0.
  const float tiny = (amax == 0.0f) ? std::ldexp(1.0f, -126) : 0.0f;
  const float arg = amax + tiny;
  float se = std::floor(log2_f32(arg));
  se = se - static_cast<float>(p.emax);
  // scale_emax = 2^(8-1) - 1 = 127: larger exponents become NaN (overflow), smaller ones
  // are clamped to -127 (the element values then underflow). NaN compares false: stays.
  if (se > 127.0f) se = kNaN;
  if (se < -127.0f) se = -127.0f;
  return se;
}

}  // namespace

bool microxcaling_supports(const ElemFormat& elem) {
  McParams p;
  return params_for(elem, &p);
}

void microxcaling_quantize_block(const ElemFormat& elem, McRound round, const float* x, float* y,
                                 std::size_t n, unsigned* scale_code) {
  McParams p;
  if (!params_for(elem, &p)) {
    for (std::size_t i = 0; i < n; ++i) y[i] = kNaN;
    if (scale_code != nullptr) *scale_code = 0xFFu;
    return;
  }
  const float se = shared_exponent(x, n, p);
  if (scale_code != nullptr) {
    *scale_code = std::isnan(se) ? 0xFFu : static_cast<unsigned>(static_cast<int>(se) + 127);
  }
  if (std::isnan(se)) {
    // A NaN shared exponent makes every element NaN (x / NaN); write torch's pattern.
    for (std::size_t i = 0; i < n; ++i) y[i] = kTorchVecNaN;
    return;
  }
  const float scale = pow2_f32(se);  // 2**shared_exp: exact, 2^-127 is subnormal
  for (std::size_t i = 0; i < n; ++i) {
    const float a = x[i] / scale;  // A / (2**shared_exp)
    const float q = quantize_elem(a, p, round);
    y[i] = q * scale;  // A * (2**shared_exp)
  }
}

}  // namespace mx
