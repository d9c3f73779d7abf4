// A sweep point on a `model` workload: the checkpoint, PTQ'd by the point's algorithm
// (experiments/model/model_ptq.hpp) with its weight / activation formats, block size, scale
// rule, rounding and accumulator model, then evaluated on the first `windows` windows of the
// text (experiments/model/eval.hpp). The same code path as `mxlab eval`, so a point's
// bits_per_byte equals that command's for the same settings.
#pragma once

#include <memory>
#include <vector>

#include "experiments/config.hpp"
#include "experiments/model/llama_forward.hpp"
#include "experiments/record.hpp"
#include "experiments/sweep.hpp"

namespace mx::experiments {

// What every point of a model workload shares: the loaded (fp32) model and the text.
struct ModelData {
  model::LlamaModel model;
  std::vector<unsigned char> text;
};

// Loads the checkpoint and the text; throws std::runtime_error naming workloads.NAME.path /
// .text / .window_size when they cannot be used.
std::shared_ptr<const ModelData> load_model_data(const WorkloadSpec& w);

PointRecord run_model_point(const Point& p, const WorkloadSpec& w, const ModelData& d);

}  // namespace mx::experiments
