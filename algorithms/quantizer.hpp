// The quantizer interface every PTQ algorithm calls (ptq-algorithms.md §2): parameters are
// found for a group of consecutive columns of each row (the reduction dimension K), frozen,
// then used to quantize values one at a time. GPTQ needs the two steps apart; RTN is both
// at once over a whole matrix.
//
// Kinds:
//   MX (OCP MX v1.0 §6.3): an E8M0 power-of-two scale per block of `block_size` columns of a
//     row, the element rounded by the formats/ codec (the one rounding core) against it.
//     Element-wise formats (block size 0: e4m3, bf16, ...) use scale 2^0.
//   classic integer (for comparison): symmetric absmax (scale = amax / (2^(b-1) - 1), the
//     SmoothQuant fake quant) or asymmetric min/max with a zero point (GPTQ's Quantizer),
//     per tensor, per channel (row) or per group of G columns of a row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/matrix.hpp"
#include "formats/block_quant.hpp"

namespace mx::algo {

enum class QuantKind : std::uint8_t { kNone, kMx, kIntTensor, kIntChannel, kIntGroup };

struct QuantSpec {
  QuantKind kind = QuantKind::kNone;
  BlockSpec mx;           // kMx: format (E8M0 scale; block_size 0 = element-wise), rounding
  int bits = 8;           // integer kinds
  bool symmetric = true;  // integer kinds
  int group_size = 0;     // kIntGroup
  Rounding int_rounding = Rounding::kNearestEven;  // integer kinds: nearest-even or -away
  std::string name;                                // as given, for reports
};

// Parses a quantizer name:
//   "none" (no quantization);
//   any MX name parse_mx_format accepts with an E8M0 scale (mxint4, mxint8, mxfp4_e2m1,
//     mxfp6_e2m3, mxfp8_e4m3, mx<elem>, ...) or an element format (e4m3, bf16, ...), with
//     `block_size` replacing the default 32;
//   "int<N>" (2 <= N <= 16; symmetric per channel, i.e. per row: weights per output
//     channel, activations per token), suffixes "_tensor" (one scale for the matrix),
//     "_g<G>" (groups of G columns) and "_asym" (min/max with zero point), e.g. int4_g128_asym.
//     A positive `group_size` turns a per-channel int<N> into groups of that size.
// `round` is the element rounding (stochastic is refused: results must not depend on a
// seed here). Throws std::invalid_argument naming the name.
QuantSpec parse_quant_spec(std::string_view name, int block_size, int group_size,
                           const RoundSpec& round, ScaleRule rule);

// Counts over quantized values.
struct QuantCounts {
  std::uint64_t total = 0;
  std::uint64_t saturated = 0;  // clamped to the largest magnitude of the grid
  std::uint64_t underflow = 0;  // nonzero input quantized to zero (the "quantization kernel")
  void add(const QuantCounts& o) {
    total += o.total;
    saturated += o.saturated;
    underflow += o.underflow;
  }
  double saturation_rate() const { return total ? double(saturated) / double(total) : 0.0; }
  double underflow_rate() const { return total ? double(underflow) / double(total) : 0.0; }
};

// Frozen parameters of one row for one group of columns.
struct RowParams {
  int exp = 0;       // MX: shared scale exponent (X = 2^exp)
  double scale = 1;  // integer: step
  double zero = 0;   // integer asymmetric: zero point
  bool nan = false;  // MX: a non-finite value in the block (E8M0 NaN scale)
};

class Quantizer {
 public:
  explicit Quantizer(QuantSpec spec);
  const QuantSpec& spec() const { return spec_; }
  bool enabled() const { return spec_.kind != QuantKind::kNone; }
  // Columns that share one parameter set: the MX block, the integer group, or all K.
  Index group_cols(Index k) const;
  // Whether parameters depend only on the whole matrix (per tensor / per channel), so they
  // can be found once before any column changes.
  bool whole_row_params() const {
    return spec_.kind == QuantKind::kIntTensor || spec_.kind == QuantKind::kIntChannel ||
           (spec_.kind == QuantKind::kMx && spec_.mx.format.block_size == 0);
  }

  // Parameters of every row of `w` for columns [c0, c0 + n), from the values now in `w`
  // (per tensor: from all of `w`, whatever c0 and n).
  std::vector<RowParams> find_params(const Eigen::Ref<const Mat>& w, Index c0, Index n) const;
  // Parameters of one row segment v[0], v[stride], ... (n values); not for per tensor.
  RowParams find_params_row(const double* v, Index n, Index stride) const;
  // Quantizes one value with frozen parameters (dequantized result).
  double quantize(double v, const RowParams& p, QuantCounts* counts = nullptr) const;
  // The largest magnitude representable with `p` (values beyond it saturate): the clip
  // range of the straight-through estimator.
  double max_magnitude(const RowParams& p) const;

  // Round to nearest of a whole matrix, groups along each row (RTN).
  Mat quantize_rows(const Mat& w, QuantCounts* counts = nullptr) const;

 private:
  QuantSpec spec_;
  double elem_max_ = 0;  // MX: the element's largest finite value
};

// x rounded to an integer with `mode` (the quantizers use nearest-even and nearest-away), by
// the rounding core (round_to_quantum, formats/round_pack.hpp); no global rounding mode.
double round_int(double x, Rounding mode);

}  // namespace mx::algo
