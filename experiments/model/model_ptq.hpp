// Model-level post-training quantization: the step `mxlab eval` runs between loading the
// model and evaluating it. It decides every linear's weights and format (QuantLinear::
// set_format / set_weight / set_input_scale); calibration data comes from the --calib text
// through LlamaModel's pieces and LinearHook.
//
// Extension point: "rtn" (round to nearest: every linear quantized with the --weight-format
// from its loaded weights) is implemented; calibrated algorithms (gptq, awq, smoothquant,
// their combinations, crossquant: algorithms/ptq.hpp per layer) and --bits-budget (mixed
// precision) plug in here.
#pragma once

#include <cstddef>
#include <string>

#include "experiments/model/llama_forward.hpp"
#include "experiments/model/quant_linear.hpp"

namespace mx::model {

struct ModelPtqOptions {
  std::string algorithm = "rtn";  // --algorithm
  std::string calib_path;         // --calib: calibration text (bytes)
  std::size_t calib_windows = 0;  // --calib-windows (0: the algorithm's default)
  std::size_t window_size = 512;  // as --window-size
  double bits_budget = 0;         // --bits-budget: mean weight bits (0: no mixed precision)
  LinearFormat format;            // --weight-format, --act-format, --block-size, --accum
  int threads = 1;
};

// What the step did, for the report.
struct ModelPtqSummary {
  std::string algorithm;
  std::size_t calib_windows = 0;
};

// Quantizes `model` in place. Throws ModelError naming the flag for an unknown algorithm or
// inconsistent options.
ModelPtqSummary apply_model_ptq(LlamaModel& model, const ModelPtqOptions& opt);

}  // namespace mx::model
