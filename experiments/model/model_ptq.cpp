#include "experiments/model/model_ptq.hpp"

#include <fmt/format.h>

#include "experiments/model/model_error.hpp"

namespace mx::model {

ModelPtqSummary apply_model_ptq(LlamaModel& model, const ModelPtqOptions& opt) {
  if (opt.algorithm != "rtn")
    throw ModelError(fmt::format(
        "--algorithm {}: model-level calibrated PTQ is not implemented yet (only rtn; see "
        "experiments/model/model_ptq.hpp)", opt.algorithm));
  if (!opt.calib_path.empty() || opt.calib_windows != 0)
    throw ModelError("--calib / --calib-windows: rtn uses no calibration data");
  if (opt.bits_budget != 0)
    throw ModelError(fmt::format(
        "--bits-budget {}: mixed-precision allocation is not implemented yet", opt.bits_budget));
  model.set_format_all(opt.format);
  return {opt.algorithm, 0};
}

}  // namespace mx::model
