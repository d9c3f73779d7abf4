// Model-level post-training quantization: the step `mxlab eval` (and a model sweep point) runs
// between loading the model and evaluating it. It decides every linear's weights and format
// (QuantLinear::set_weight / set_input_scale / set_act_quantizer).
//
// Without calibration (--algorithm rtn and no --calib, no --bits-budget) every linear is
// simply cast to the formats (round to nearest). Otherwise, on the first --calib-windows
// non-overlapping windows of the --calib text (experiments/model/calibration.hpp), layers are
// quantized in forward order, each on the inputs produced by the already quantized layers
// before it (GPTQ's sequential order): per decoder layer, q/k/v on their shared input, then o
// on the output of the quantized attention, then gate/up, then down; the calibration hidden
// states then move through the quantized layer; lm_head last. Each linear goes through
// mx::algo::run_ptq (algorithms/ptq.hpp: rtn, smoothquant, awq, gptq, their combinations,
// crossquant). SmoothQuant / AWQ factors s are applied to the layer's input at run time
// (QuantLinear input scale 1/s before activation quantization, weights Qw(W diag(s))), which
// is what folding them into the preceding op computes. Calibration runs with fp32
// accumulation; --accum applies to the evaluation.
//
// Activation formats: MX / element formats as in parse_linear_format, or int<N>: symmetric
// per-token integer (absmax per row, as `mxlab ptq`). CrossQuant quantizes activations
// itself (int<N>, default int8) with channel maxima from the calibration inputs.
//
// Mixed precision (--bits-budget B): every linear's weight format is chosen from `levels`
// (default mxint2, mxint3, mxint4, mxint8) so that the parameter-weighted mean element bits
// stay <= B (algo::allocate_bits, greedy marginal gain). Sensitivity: the output squared error
// of RTN at each level on the calibration inputs of the fp32 model, tr(dW X^T X dW^T)
// (algo::measured_cost_gram). The chosen formats then go through the algorithm as above.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "algorithms/matrix.hpp"
#include "algorithms/metrics.hpp"
#include "experiments/model/llama_forward.hpp"
#include "experiments/model/quant_linear.hpp"

namespace mx::model {

inline constexpr std::size_t kDefaultCalibWindows = 32;

struct ModelPtqOptions {
  std::string algorithm = "rtn";  // --algorithm
  std::string calib_path;         // --calib: calibration text (bytes)
  std::size_t calib_windows = 0;  // --calib-windows (0: kDefaultCalibWindows)
  std::size_t window_size = 512;  // as --window-size
  double bits_budget = 0;         // --bits-budget: mean weight element bits (0: none)
  std::vector<std::string> levels = {"mxint2", "mxint3", "mxint4", "mxint8"};  // --levels
  LinearFormat format;  // --weight-format, --act-format, --block-size, --accum
  int block_size = 32;  // --block-size (mixed-precision levels; int<N> acts ignore it)
  ScaleRule scale_rule = ScaleRule::kFloor;    // applied to every MX format
  Rounding rounding = Rounding::kNearestEven;  // element rounding of every format
  double alpha = 0.5;    // --alpha: SmoothQuant migration strength / CrossQuant exponent
  int threads = 1;       // calibration windows in parallel (results do not depend on it)
  bool verbose = false;  // progress lines on stderr
  // Called with every linear's calibration inputs (the rows run_ptq sees), in order.
  std::function<void(const std::string& linear, const algo::Mat& x)> on_calibration;
};

// One linear's PTQ outcome, measured on its calibration inputs (the quantized predecessors'
// outputs; the first 1024 calibration tokens) against the fp32 layer on the same inputs.
struct LinearPtqReport {
  std::string name, weight_format;
  int weight_bits = 0;  // element bits of the weight format (0: fp32)
  long long params = 0;
  algo::ErrorStats output;  // layer output, calibration inputs
  double weight_sqnr_db = 0;
  double act_kernel = 0;                  // share of nonzero activations quantized to 0
  double smooth_min = 1, smooth_max = 1;  // range of the SmoothQuant x AWQ factors
  double awq_ratio = -1;                  // AWQ's chosen exponent (-1: AWQ did not run)
  double gptq_damp = -1;                  // GPTQ's relative damping used (-1: GPTQ did not run)
  double distortion = -1;                 // mixed precision: RTN output error at the chosen level
  double seconds = 0;
};

struct ModelPtqSummary {
  std::string algorithm;
  std::size_t calib_windows = 0;  // 0: no calibration (direct cast)
  double bits_budget = 0;
  double weight_bits = 0;  // parameter-weighted mean element bits of the linears' weights
  std::vector<LinearPtqReport> layers;  // forward order; empty without calibration
  double seconds = 0;
};

// Quantizes `model` in place. Throws ModelError naming the flag for an unknown algorithm,
// a missing --calib, a calibration text too short, a budget below the lowest level, or
// inconsistent formats.
ModelPtqSummary apply_model_ptq(LlamaModel& model, const ModelPtqOptions& opt);

}  // namespace mx::model
