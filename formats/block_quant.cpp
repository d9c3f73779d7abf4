#include "formats/block_quant.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "formats/codec.hpp"
#include "formats/compat_microxcaling.hpp"
#include "formats/dispatch.hpp"
#include "formats/fast_f32.hpp"
#include "formats/fast_f32_simd.hpp"

namespace mx {
namespace {

constexpr std::uint32_t kNanScale = 0xFF;

// The fake-quant-only loop: the AVX2 kernel when it applies, else this scalar loop.
template <Rounding R>
void run_grid_values(const F32Grid& g, std::uint64_t seed, const float* x, std::size_t n, float* y,
                     std::uint64_t index0) {
  if (quantize_values_f32_simd(g, R, x, n, y)) return;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t rnd =
        R == Rounding::kStochastic ? stochastic_bits(seed, index0 + i) : std::uint64_t{0};
    y[i] = std::bit_cast<float>(quantize_bits_f32<R>(g, std::bit_cast<std::uint32_t>(x[i]), rnd));
  }
}

template <Rounding R>
void run_grid(const F32Grid& g, const ElemFormat& elem, int s, Overflow ovf, std::uint64_t seed,
              const float* x, std::size_t n, float* y, std::uint32_t* codes, std::uint64_t index0) {
  if (!codes) {
    if (y) run_grid_values<R>(g, seed, x, n, y, index0);
    return;
  }
  // Codes: the values first (vector kernel where it applies), then the codes from them. The
  // values go to scratch when they are not wanted or when they would overwrite the input
  // (y == x, in-place fake quantization): the fix-up below reads the input.
  thread_local std::vector<float> scratch;
  float* const out = y;
  if (!y || y == x) {
    scratch.resize(n);
    y = scratch.data();
  }
  run_grid_values<R>(g, seed, x, n, y, index0);
  if (!grid_codes_f32_simd(elem, s, y, n, codes))
    for (std::size_t i = 0; i < n; ++i)
      codes[i] = grid_bits_to_code(elem, s, std::bit_cast<std::uint32_t>(y[i]));
  if (g.max_pos >= 0x7F800000u || g.max_neg >= 0x7F800000u) {
    // The scaled grid reaches beyond fp32 (amax near FLT_MAX): a finite
    // input may round to a value fp32 shows as Inf. Its code comes from the generic codec.
    for (std::size_t i = 0; i < n; ++i) {
      if ((std::bit_cast<std::uint32_t>(y[i]) & 0x7FFFFFFFu) >= 0x7F800000u &&
          std::isfinite(x[i])) {
        const std::uint64_t rnd =
            R == Rounding::kStochastic ? stochastic_bits(seed, index0 + i) : std::uint64_t{0};
        codes[i] = encode(elem, static_cast<double>(x[i]), RoundSpec{R, ovf}, nullptr, rnd, s);
      }
    }
  }
  if (out && out != y) std::copy(y, y + n, out);
}

void quantize_on_grid(const F32Grid& g, const ElemFormat& elem, int s, const RoundSpec& rs,
                      const float* x, std::size_t n, float* y, std::uint32_t* codes,
                      std::uint64_t index0) {
  visit_rounding(rs.mode, [&](auto tag) {
    run_grid<decltype(tag)::value>(g, elem, s, rs.overflow, rs.seed, x, n, y, codes, index0);
  });
}

McRound mc_round(Rounding r) {
  switch (r) {
    case Rounding::kNearestAway:
      return McRound::kNearest;
    case Rounding::kNearestEven:
      return McRound::kEven;
    case Rounding::kTowardZero:
      return McRound::kFloor;
    default:
      throw std::invalid_argument(
          "microxcaling compatibility supports only nearest-away, nearest-even and toward-zero "
          "rounding");
  }
}

// Non-power-of-two scales (ue4m3, fp32, NVFP4): S = amax / max_elem rounded to the scale
// format, elements round(x / S). The quotients are formed in double and then rounded once:
// this is correctly rounded because a quotient of a 24-bit and a <= 28-bit integer that is
// not itself a midpoint of the target grid (<= 25 bits) differs from every midpoint by more
// than 2^-53 relative, so the double rounding cannot cross one.
template <typename T>
std::uint32_t generic_scaled_block(const BlockSpec& spec, const T* x, std::size_t n, T* y,
                                   std::uint32_t* codes, std::uint64_t index0) {
  const ElemFormat& elem = spec.format.elem;
  double amax = 0;
  bool nonfinite = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(x[i]));
    if (!std::isfinite(a)) nonfinite = true;
    if (a > amax) amax = a;
  }
  const double max_elem = decode(elem, elem.max_magnitude_code());
  double scale = 0;
  std::uint32_t scale_code = 0;
  const RoundSpec rne{};
  switch (spec.format.scale) {
    case ScaleFormat::kUe4m3:
      scale_code = nonfinite ? kE4M3.nan_code() : encode(kE4M3, amax / max_elem, rne);
      scale = decode(kE4M3, scale_code);
      break;
    case ScaleFormat::kNvfp4:
      scale_code =
          nonfinite ? kE4M3.nan_code() : encode(kE4M3, amax / max_elem / spec.tensor_scale, rne);
      scale = decode(kE4M3, scale_code) * spec.tensor_scale;
      break;
    case ScaleFormat::kF32:
      scale_code = nonfinite ? 0x7FC00000u : encode(kFp32, amax / max_elem, rne);
      scale = decode(kFp32, scale_code);
      break;
    case ScaleFormat::kE8m0:
      break;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = static_cast<double>(x[i]);
    std::uint32_t c;
    double v;
    if (nonfinite) {
      c = 0;
      v = std::numeric_limits<double>::quiet_NaN();
    } else if (scale == 0) {  // the whole block underflowed the scale format
      c = encode(elem, std::signbit(xi) ? -0.0 : 0.0, spec.round);
      v = std::signbit(xi) && elem.has_negative_zero() ? -0.0 : 0.0;
    } else {
      const std::uint64_t rnd = stochastic_bits(spec.round.seed, index0 + i);
      c = encode(elem, xi / scale, spec.round, nullptr, rnd);
      v = decode(elem, c) * scale;
    }
    if (codes) codes[i] = c;
    if (y) y[i] = static_cast<T>(v);
  }
  return scale_code;
}

}  // namespace

double nvfp4_tensor_scale(double amax) {
  if (!(amax > 0) || !std::isfinite(amax)) return 1.0;
  const double s = decode(kFp32, encode(kFp32, amax / (448.0 * 6.0), RoundSpec{}));
  return s > 0 ? s : 1.0;
}

BlockQuantizer::BlockQuantizer(const BlockSpec& spec) : spec_(spec) {
  if (spec.format.scale == ScaleFormat::kE8m0 && spec.compat == Compat::kOcp) {
    grids_.reserve(255);
    for (int s = -127; s <= 127; ++s)
      grids_.push_back(make_f32_grid(spec.format.elem, s, spec.round));
  }
}

std::uint32_t quantize_block_f32(const BlockSpec& spec, const float* x, std::size_t n, float* y,
                                 std::uint32_t* codes, std::uint64_t index0) {
  return BlockQuantizer(spec).f32(x, n, y, codes, index0);
}

std::uint32_t quantize_block_f64(const BlockSpec& spec, const double* x, std::size_t n, double* y,
                                 std::uint32_t* codes, std::uint64_t index0) {
  return BlockQuantizer(spec).f64(x, n, y, codes, index0);
}

void quantize_elems_f32(const BlockSpec& spec, const float* x, std::size_t n, float* y,
                        std::uint32_t* codes, std::uint64_t index0) {
  BlockQuantizer(spec).elems_f32(x, n, y, codes, index0);
}

void BlockQuantizer::elems_f32(const float* x, std::size_t n, float* y, std::uint32_t* codes,
                               std::uint64_t index0) const {
  const ElemFormat& elem = spec_.format.elem;
  if (grids_.empty()) {
    const F32Grid g = make_f32_grid(elem, 0, spec_.round);
    return quantize_on_grid(g, elem, 0, spec_.round, x, n, y, codes, index0);
  }
  quantize_on_grid(grids_[127], elem, 0, spec_.round, x, n, y, codes, index0);
}

void BlockQuantizer::f32_blocks(const float* x, std::size_t n, float* y, std::uint32_t* scales,
                                std::uint64_t index0) const {
  const MxFormat& f = spec_.format;
  const std::size_t bs = static_cast<std::size_t>(f.block_size);
  if (!grids_.empty() && quantize_blocks_f32_simd(grids_.data(), f.elem, f.rule, spec_.round.mode,
                                                  x, n, bs, y, scales))
    return;
  for (std::size_t start = 0, b = 0; start < n; start += bs, ++b)
    scales[b] = f32(x + start, std::min(bs, n - start), y + start, nullptr, index0 + start);
}

std::uint32_t BlockQuantizer::f32(const float* x, std::size_t n, float* y, std::uint32_t* codes,
                                  std::uint64_t index0) const {
  const BlockSpec& spec = spec_;
  const MxFormat& f = spec.format;
  if (spec.compat == Compat::kMicroxcaling) {
    unsigned sc = 0;
    microxcaling_quantize_block(f.elem, mc_round(spec.round.mode), x, y, n, &sc);
    return sc;
  }
  if (f.scale != ScaleFormat::kE8m0) return generic_scaled_block(spec, x, n, y, codes, index0);
  // 1. amax on the bits (|x| orders like its bit pattern); NaN/Inf anywhere -> NaN scale.
  const std::uint32_t amax = amax_bits_f32(x, n);
  if (amax >= 0x7F800000u) {
    for (std::size_t i = 0; i < n; ++i) {
      if (y) y[i] = std::numeric_limits<float>::quiet_NaN();
      if (codes) codes[i] = 0;
    }
    return kNanScale;
  }
  // 2. Shared exponent by rule, clamped to the E8M0 range; 3. elements on the scaled grid.
  const int s = shared_scale_exponent(f.elem, f.rule, amax);
  quantize_on_grid(grids_[static_cast<std::size_t>(s + 127)], f.elem, s, spec.round, x, n, y, codes,
                   index0);
  return static_cast<std::uint32_t>(s + 127);
}

std::uint32_t BlockQuantizer::f64(const double* x, std::size_t n, double* y, std::uint32_t* codes,
                                  std::uint64_t index0) const {
  const BlockSpec& spec = spec_;
  const MxFormat& f = spec.format;
  if (spec.compat == Compat::kMicroxcaling)
    throw std::invalid_argument("microxcaling compatibility needs float32 input");
  if (f.scale != ScaleFormat::kE8m0) return generic_scaled_block(spec, x, n, y, codes, index0);
  std::uint64_t amax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t a = std::bit_cast<std::uint64_t>(x[i]) & ~(std::uint64_t{1} << 63);
    amax = a > amax ? a : amax;
  }
  if (amax >= 0x7FF0000000000000ull) {
    for (std::size_t i = 0; i < n; ++i) {
      if (y) y[i] = std::numeric_limits<double>::quiet_NaN();
      if (codes) codes[i] = 0;
    }
    return kNanScale;
  }
  const int s = shared_scale_exponent_f64(f.elem, f.rule, amax);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t rnd = stochastic_bits(spec.round.seed, index0 + i);
    const std::uint32_t c = encode(f.elem, x[i], spec.round, nullptr, rnd, s);
    if (codes) codes[i] = c;
    if (y) y[i] = std::ldexp(decode(f.elem, c), s);
  }
  return static_cast<std::uint32_t>(s + 127);
}

}  // namespace mx
