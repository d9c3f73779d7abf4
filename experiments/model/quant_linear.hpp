// The emulated linear layer y = Q_a(x) Q_w(W)^T under an accumulator model. Every linear of
// the model (q k v o gate up down lm_head) is one QuantLinear, so a caller can give each its
// own weights and formats (mixed precision, PTQ output).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "experiments/model/layer_id.hpp"
#include "formats/block_quant.hpp"

namespace mx::model {

// How one linear layer computes. Weights are blocked along their input (reduction)
// dimension, once; the layer's input along the same dimension, per call.
struct LinearFormat {
  std::optional<BlockSpec> weight;  // nullopt: fp32 weights
  std::optional<BlockSpec> act;     // nullopt: fp32 inputs
  // nullopt: plain fp32 (dequantized operands, Eigen sgemm). Otherwise every output is an
  // emulator dot() under this model (emulator/gemm.hpp): bit-accurate, slow.
  std::optional<AccumModel> accum;
  std::string weight_name = "none", act_name = "none", accum_name = "fp32";
  bool quantized() const { return weight || act || accum; }
};

// Parses the CLI spellings: an MX format (mxint8, mxfp4_e2m1, mx<elem>, nvfp4) or an element
// format (e4m3, int8, ...) or "none"; block_size (>= 1) replaces the MX formats' default;
// accum "fp32" or any parse_accum_model() string. Throws ModelError naming --weight-format,
// --act-format, --block-size or --accum.
LinearFormat parse_linear_format(const std::string& weight, const std::string& act, int block_size,
                                 const std::string& accum);

// Output error of a quantized layer against the fp32 layer on the same inputs (sums in
// double; merge() in a fixed order gives thread-count-independent results).
struct LinearStats {
  double sum_ref2 = 0, sum_err2 = 0, sum_q2 = 0, dot = 0, max_abs = 0;
  std::size_t n = 0;
  void add(const RowMatrixXf& ref, const RowMatrixXf& q);
  void merge(const LinearStats& o);
  double sqnr_db() const;  // algo::sqnr_db: 10 log10(sum ref^2 / sum err^2); +inf when err == 0
  double mse() const;
  double cosine() const;  // algo::cosine_similarity (1 when both are 0)
};

// Quantizes rows of x (rows x cols, contiguous) in place along the rows with `spec`
// (nvfp4: the per-tensor scale from this matrix). Exposed for PTQ code and tests.
void quantize_rows_inplace(const BlockSpec& spec, RowMatrixXf& x);

class QuantLinear {
 public:
  QuantLinear(LayerId id, RowMatrixXf weight);  // weight: out x in, fp32, not quantized

  const LayerId& id() const { return id_; }
  Eigen::Index in_features() const { return original_.cols(); }
  Eigen::Index out_features() const { return original_.rows(); }
  const RowMatrixXf& original_weight() const { return original_; }  // as loaded
  const RowMatrixXf& weight() const { return effective_; }  // what the layer multiplies with
  const LinearFormat& format() const { return format_; }

  // Quantizes the original weights with fmt.weight (once) and uses fmt from now on.
  void set_format(const LinearFormat& fmt);
  // Replaces the weights by caller-provided fp32 values (GPTQ / AWQ output, already on
  // fmt.weight's grid) used as given (requantize = false) or quantized with fmt.weight
  // (requantize = true). Under an emulated accumulator the weights are always encoded in
  // fmt.weight (exact when they lie on its grid). The reference (original) weights stay.
  void set_weight(RowMatrixXf w, const LinearFormat& fmt, bool requantize = false);
  // Per-input-channel factors m (SmoothQuant / AWQ): the layer quantizes and multiplies
  // x diag(m); the caller gives weights W diag(m)^-1 through set_weight. Empty: none.
  void set_input_scale(Eigen::VectorXf m);
  const Eigen::VectorXf& input_scale() const { return input_scale_; }
  // A custom activation quantizer (per-token int<N>, CrossQuant: experiments/model/
  // act_quant.hpp) applied in place to x diag(m) instead of fmt.act, which should be none.
  using ActQuantizer = std::function<void(RowMatrixXf&)>;
  void set_act_quantizer(std::shared_ptr<const ActQuantizer> q) { act_fn_ = std::move(q); }
  bool has_act_quantizer() const { return act_fn_ != nullptr; }

  // y = Q_a(x diag(m)) Q_w(W)^T. x: tokens x in (any outer stride). Thread-safe (const).
  void forward(const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y) const;
  // y = x W_original^T in fp32: the unquantized layer, for error statistics.
  void forward_reference(const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y) const;

 private:
  void prepare_emulated();
  LayerId id_;
  RowMatrixXf original_, effective_;
  Eigen::VectorXf input_scale_;
  std::shared_ptr<const ActQuantizer> act_fn_;
  LinearFormat format_;
  // Emulated accumulation only: the weight operand and both operands' specs.
  std::optional<MxMatrix> w_mx_;
  BlockSpec a_spec_;
  // The activation quantizer, built once (its per-scale grids cost more than a row).
  std::shared_ptr<const BlockQuantizer> act_q_;
};

}  // namespace mx::model
