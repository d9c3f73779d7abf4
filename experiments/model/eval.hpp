// Language-model evaluation on a byte text: non-overlapping windows, bits per byte, and the
// per-linear output error of a quantized model against its fp32 layers.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "experiments/model/llama_forward.hpp"

namespace mx::model {

struct EvalOptions {
  std::size_t windows = 128;      // 0: every full window of the text
  std::size_t window_size = 512;  // W: window i reads bytes [i W, i W + W] and predicts W
  int threads = 1;                // windows in parallel; the result does not depend on it
  std::size_t stats_windows = 1;  // per-linear error statistics over the first N windows
  bool collect_stats = true;      // (only when the model is quantized)
  std::function<void(std::size_t done, std::size_t total)> progress;  // serialized calls
};

struct LayerReport {
  std::string name;  // HF module name
  LinearStats stats;
};

struct EvalResult {
  double bits_per_byte = 0, perplexity = 0;  // perplexity = 2^bpb (per byte)
  std::size_t predictions = 0, windows = 0, window_size = 0;
  double seconds = 0;
  std::vector<LayerReport> per_layer;  // empty when the model is not quantized
};

// Reads a text file as bytes; throws ModelError naming the flag and the file when it is
// missing, empty, not a regular file (a folder, a FIFO, /dev/zero) or larger than memory.
std::vector<unsigned char> read_text(const std::string& path, const std::string& flag = "--text");

// How many full windows of `window_size` (W + 1 bytes each) the text holds.
std::size_t windows_that_fit(std::size_t text_bytes, std::size_t window_size);

// Checks the options against the model and the text (naming --windows / --window-size) and
// returns the number of windows to run.
std::size_t check_eval_options(const LlamaConfig& c, std::size_t text_bytes, const EvalOptions& o);

// Sum over positions of -ln softmax(logits[p])[target[p]] (in double).
double cross_entropy_nats(const RowMatrixXf& logits, std::span<const int> targets);

// Runs the evaluation. Each window is computed independently by one thread and the
// cross-entropy is summed in window order in double, so the result is identical for any
// threads. Throws ModelError for bad options.
EvalResult evaluate(const LlamaModel& model, const std::vector<unsigned char>& text,
                    const EvalOptions& opt);

}  // namespace mx::model
