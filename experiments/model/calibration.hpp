// Calibration data of model-level PTQ: the first N non-overlapping windows of a text (window
// i holds bytes [i W, i W + W), the inputs of evaluation window i of that text), carried
// through the model one decoder layer at a time. The hidden states always come from the
// model's *current* linears, so once a layer is quantized, the layers after it are calibrated
// on the quantized model's activations (GPTQ's sequential order).
#pragma once

#include <cstddef>
#include <vector>

#include "algorithms/matrix.hpp"
#include "experiments/model/llama_forward.hpp"

namespace mx::model {

class Calibration {
 public:
  // Throws ModelError naming --calib / --calib-windows when the text is too short.
  Calibration(const LlamaModel& model, const std::vector<unsigned char>& text, std::size_t windows,
              std::size_t window_size, int threads);

  std::size_t windows() const { return hidden_.size(); }
  std::size_t tokens() const;  // rows of a captured matrix

  // The inputs of linear `index` (LlamaModel numbering; in decoder layer `layer`, or lm_head
  // with layer -1) over all windows, window after window: decoder layer `layer` runs on the
  // current hidden states with the model's current linears and stops at that linear.
  algo::Mat capture(int layer, std::size_t index) const;

  // The inputs of the four input groups of decoder layer `layer` (q/k/v, o, gate/up, down;
  // fp32) in one pass, then the hidden states move on to the layer's output.
  std::vector<RowMatrixXf> capture_groups_and_propagate(int layer);

  // The hidden states move on to decoder layer `layer`'s output (current linears).
  void propagate(int layer);

 private:
  const LlamaModel& model_;
  std::vector<RowMatrixXf> hidden_;  // one per window, tokens x hidden
  int threads_;
};

}  // namespace mx::model
