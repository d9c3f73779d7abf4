#include "algorithms/quantizer.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/round_pack.hpp"

namespace mx::algo {

double round_int(double x, Rounding mode) {
  // The rounding core at quantum 2^0 on the exact fp64 value (the integer quantizers'
  // rounding: their x is the fp64 quotient v / scale, as GPTQ's reference computes it).
  // |x| >= 2^52 is an integer already; NaN and Inf pass through.
  if (!(std::fabs(x) < 0x1p52)) return x;
  const auto b = std::bit_cast<std::uint64_t>(x);
  const int be = static_cast<int>((b >> 52) & 0x7FF);
  const std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
  const bool neg = (b >> 63) != 0;
  const Quantized r = round_to_quantum(neg, be ? (m | (std::uint64_t{1} << 52)) : m,
                                       (be ? be : 1) - 1075, false, 0, mode);
  return std::copysign(static_cast<double>(r.k), x);
}

namespace {

bool parse_int(std::string_view s, int* out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool starts_with_int_name(std::string_view s) {
  return s.size() > 3 && s.substr(0, 3) == "int" && s[3] >= '0' && s[3] <= '9';
}

}  // namespace

QuantSpec parse_quant_spec(std::string_view name, int block_size, int group_size,
                           const RoundSpec& round, ScaleRule rule) {
  QuantSpec s;
  s.name = std::string(name);
  if (round.mode == Rounding::kStochastic)
    throw std::invalid_argument("stochastic rounding is not supported by the PTQ algorithms");
  if (name == "none" || name.empty()) return s;
  if (starts_with_int_name(name)) {
    // int<N>[_tensor|_g<G>][_asym]
    std::string_view rest = name.substr(3);
    const std::size_t us = rest.find('_');
    if (!parse_int(rest.substr(0, us), &s.bits) || s.bits < 2 || s.bits > 16)
      throw std::invalid_argument(
          fmt::format("unknown quantizer '{}': int<N> needs 2 <= N <= 16", name));
    s.kind = QuantKind::kIntChannel;
    while (rest.find('_') != std::string_view::npos) {
      rest = rest.substr(rest.find('_') + 1);
      const std::string_view part = rest.substr(0, rest.find('_'));
      int g = 0;
      if (part == "tensor") {
        s.kind = QuantKind::kIntTensor;
      } else if (part == "asym") {
        s.symmetric = false;
      } else if (part.size() > 1 && part[0] == 'g' && parse_int(part.substr(1), &g) && g > 0) {
        s.kind = QuantKind::kIntGroup;
        s.group_size = g;
      } else {
        throw std::invalid_argument(fmt::format(
            "unknown quantizer '{}': suffix '_{}' (use _tensor, _g<G>, _asym)", name, part));
      }
    }
    if (group_size > 0 && s.kind == QuantKind::kIntChannel) {
      s.kind = QuantKind::kIntGroup;
      s.group_size = group_size;
    }
    if (round.mode != Rounding::kNearestEven && round.mode != Rounding::kNearestAway)
      throw std::invalid_argument(fmt::format(
          "quantizer '{}': integer quantizers round nearest-even or nearest-away", name));
    s.int_rounding = round.mode;
    return s;
  }
  MxFormat f;
  try {
    f = parse_mx_format(name);
  } catch (const FormatError& e) {
    throw std::invalid_argument(
        fmt::format("unknown quantizer '{}' (an MX format such as mxint4, mxfp4_e2m1, mxfp8_e4m3; "
                    "int<N>[_tensor|_g<G>][_asym]; none)",
                    name));
  }
  if (f.block_size > 0 && f.scale != ScaleFormat::kE8m0)
    throw std::invalid_argument(
        fmt::format("quantizer '{}': the PTQ algorithms need an E8M0 (power-of-two) scale", name));
  if (f.block_size > 0) {
    if (block_size < 1)
      throw std::invalid_argument(fmt::format("block size must be >= 1 (got {})", block_size));
    f.block_size = block_size;
  }
  f.rule = rule;
  s.kind = QuantKind::kMx;
  s.mx.format = f;
  s.mx.round = round;
  return s;
}

Quantizer::Quantizer(QuantSpec spec) : spec_(std::move(spec)) {
  if (spec_.kind == QuantKind::kMx) {
    const ElemFormat& e = spec_.mx.format.elem;
    elem_max_ = decode(e, e.max_magnitude_code());
  }
}

Index Quantizer::group_cols(Index k) const {
  switch (spec_.kind) {
    case QuantKind::kMx:
      return spec_.mx.format.block_size > 0 ? std::min<Index>(k, spec_.mx.format.block_size) : k;
    case QuantKind::kIntGroup:
      return std::min<Index>(k, spec_.group_size);
    default:
      return k;
  }
}

RowParams Quantizer::find_params_row(const double* v, Index n, Index stride) const {
  RowParams p;
  double amax = 0, lo = 0, hi = 0;
  bool finite = true;
  for (Index i = 0; i < n; ++i) {
    const double x = v[i * stride];
    if (!std::isfinite(x)) finite = false;
    amax = std::max(amax, std::fabs(x));
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  switch (spec_.kind) {
    case QuantKind::kNone:
      break;
    case QuantKind::kMx:
      if (spec_.mx.format.block_size == 0) break;  // element-wise: scale 2^0
      if (!finite) {
        p.nan = true;  // OCP MX §6.3: NaN/Inf in a block gives the NaN scale
        break;
      }
      p.exp = shared_scale_exponent_f64(spec_.mx.format.elem, spec_.mx.format.rule,
                                        std::bit_cast<std::uint64_t>(amax));
      break;
    default: {
      const double qmax_sym = std::ldexp(1.0, spec_.bits - 1) - 1;
      if (spec_.symmetric) {
        p.scale = amax > 0 ? amax / qmax_sym : 1.0;  // dead group: any step gives zeros
      } else {
        // GPTQ's Quantizer (ptq-algorithms.md §3.1): the range always contains 0.
        const double maxq = std::ldexp(1.0, spec_.bits) - 1;
        if (lo == 0 && hi == 0) {
          lo = -1;
          hi = 1;
        }
        p.scale = (hi - lo) / maxq;
        p.zero = round_int(-lo / p.scale, spec_.int_rounding);
      }
    }
  }
  return p;
}

std::vector<RowParams> Quantizer::find_params(const Eigen::Ref<const Mat>& w, Index c0,
                                              Index n) const {
  const Index rows = w.rows();
  std::vector<RowParams> out(static_cast<std::size_t>(rows));
  if (spec_.kind == QuantKind::kIntTensor) {
    // One parameter set for the matrix: treat it as one long row.
    Mat flat = w;
    const RowParams p = find_params_row(flat.data(), flat.size(), 1);
    std::fill(out.begin(), out.end(), p);
    return out;
  }
  for (Index r = 0; r < rows; ++r)
    out[static_cast<std::size_t>(r)] =
        find_params_row(w.data() + r + c0 * w.outerStride(), n, w.outerStride());
  return out;
}

double Quantizer::quantize(double v, const RowParams& p, QuantCounts* counts) const {
  double q = v;
  bool sat = false;
  switch (spec_.kind) {
    case QuantKind::kNone:
      break;
    case QuantKind::kMx: {
      if (p.nan) {
        q = std::numeric_limits<double>::quiet_NaN();
        break;
      }
      // The codec applies the scale to the exponent exactly (no division) and rounds once.
      Status st = kStatusOk;
      const ElemFormat& e = spec_.mx.format.elem;
      const std::uint32_t code = encode(e, v, spec_.mx.round, &st, 0, p.exp);
      q = std::ldexp(decode(e, code), p.exp);
      sat = (st & kSaturated) != 0;
      break;
    }
    default: {
      const double r = round_int(v / p.scale, spec_.int_rounding);
      if (spec_.symmetric) {
        const double qmax = std::ldexp(1.0, spec_.bits - 1) - 1;
        const double c = std::clamp(r, -qmax, qmax);
        sat = c != r;
        q = c * p.scale;
      } else {
        const double maxq = std::ldexp(1.0, spec_.bits) - 1;
        const double c = std::clamp(r + p.zero, 0.0, maxq);
        sat = c != r + p.zero;
        q = p.scale * (c - p.zero);
      }
      if (q == 0) q = 0;  // integers have no -0
    }
  }
  if (counts) {
    ++counts->total;
    counts->saturated += sat;
    counts->underflow += (v != 0 && q == 0);
  }
  return q;
}

double Quantizer::max_magnitude(const RowParams& p) const {
  switch (spec_.kind) {
    case QuantKind::kNone:
      return std::numeric_limits<double>::infinity();
    case QuantKind::kMx:
      return std::ldexp(elem_max_, p.exp);
    default:
      if (spec_.symmetric) return (std::ldexp(1.0, spec_.bits - 1) - 1) * p.scale;
      return std::max(p.zero, std::ldexp(1.0, spec_.bits) - 1 - p.zero) * p.scale;
  }
}

Mat Quantizer::quantize_rows(const Mat& w, QuantCounts* counts) const {
  if (!enabled()) return w;
  Mat out(w.rows(), w.cols());
  const Index k = w.cols();
  const Index g = group_cols(k);
  std::vector<RowParams> tensor_params;
  if (spec_.kind == QuantKind::kIntTensor) tensor_params = find_params(w, 0, k);
  for (Index r = 0; r < w.rows(); ++r) {
    for (Index c0 = 0; c0 < k; c0 += g) {
      const Index n = std::min(g, k - c0);
      const RowParams p = tensor_params.empty() ? find_params_row(&w(r, c0), n, w.outerStride())
                                                : tensor_params[static_cast<std::size_t>(r)];
      for (Index c = c0; c < c0 + n; ++c) out(r, c) = quantize(w(r, c), p, counts);
    }
  }
  return out;
}

}  // namespace mx::algo
