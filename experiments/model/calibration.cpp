#include "experiments/model/calibration.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "emulator/thread_group.hpp"
#include "experiments/model/model_error.hpp"

namespace mx::model {

namespace {

// Thrown by a capture hook once it has its linear's input: the rest of the layer is skipped.
struct CaptureDone {};

// fn(i) for every window i, on up to `threads` threads; the first exception is rethrown.
template <typename Fn>
void for_windows(std::size_t n, int threads, Fn fn) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr err;
  std::mutex m;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lk(m);
        if (!err) err = std::current_exception();
        next = n;
      }
    }
  };
  const int t = static_cast<int>(std::min<std::size_t>(std::size_t(std::max(threads, 1)), n));
  {
    ThreadGroup pool;  // joined also when a thread cannot start
    try {
      for (int k = 1; k < t; ++k) pool.spawn(worker);
    } catch (...) {
      next = n;  // the started workers stop
      throw;
    }
    worker();
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace

Calibration::Calibration(const LlamaModel& model, const std::vector<unsigned char>& text,
                         std::size_t windows, std::size_t window_size, int threads)
    : model_(model), threads_(threads) {
  if (windows == 0) throw ModelError("--calib-windows must be >= 1");
  if (window_size > static_cast<std::size_t>(model.config().max_position_embeddings))
    throw ModelError(fmt::format("--window-size {} exceeds the model's context {}", window_size,
                                 model.config().max_position_embeddings));
  if (text.size() < windows * window_size)
    throw ModelError(fmt::format(
        "--calib: the text has {} bytes; --calib-windows {} of {} bytes need {} (it holds {})",
        text.size(), windows, window_size, windows * window_size, text.size() / window_size));
  hidden_.resize(windows);
  std::vector<int> tokens(window_size);
  for (std::size_t i = 0; i < windows; ++i) {
    for (std::size_t t = 0; t < window_size; ++t) tokens[t] = text[i * window_size + t];
    hidden_[i] = model.embed(tokens);
  }
}

std::size_t Calibration::tokens() const {
  std::size_t n = 0;
  for (const auto& h : hidden_) n += static_cast<std::size_t>(h.rows());
  return n;
}

algo::Mat Calibration::capture(int layer, std::size_t index) const {
  const QuantLinear& target = model_.linear(index);
  const Eigen::Index rows_per = hidden_.empty() ? 0 : hidden_[0].rows();
  algo::Mat out(static_cast<Eigen::Index>(tokens()), target.in_features());
  for_windows(hidden_.size(), threads_, [&](std::size_t i) {
    ForwardContext ctx;
    ctx.on_input = [&](const LayerId& id, const Eigen::Ref<const RowMatrixXf>& in) {
      if (id.name != target.id().name) return;
      out.middleRows(static_cast<Eigen::Index>(i) * rows_per, in.rows()) = in.cast<double>();
      throw CaptureDone{};
    };
    RowMatrixXf x = hidden_[i];
    try {
      if (layer < 0)
        model_.head(x, ctx);
      else
        model_.run_decoder_layer(layer, x, ctx);
    } catch (const CaptureDone&) {
      return;
    }
    throw ModelError(fmt::format("calibration: {} never received an input", target.id().name));
  });
  return out;
}

std::vector<RowMatrixXf> Calibration::capture_groups_and_propagate(int layer) {
  const std::size_t base = model_.linear_index(layer, LinearKind::kQ);
  // The first linear of each input group: q (k, v share its input), o, gate (up shares), down.
  const std::size_t firsts[4] = {base + 0, base + 3, base + 4, base + 6};
  const Eigen::Index rows_per = hidden_.empty() ? 0 : hidden_[0].rows();
  std::vector<RowMatrixXf> out;
  for (std::size_t f : firsts)
    out.emplace_back(static_cast<Eigen::Index>(tokens()), model_.linear(f).in_features());
  for_windows(hidden_.size(), threads_, [&](std::size_t i) {
    ForwardContext ctx;
    ctx.on_input = [&](const LayerId& id, const Eigen::Ref<const RowMatrixXf>& in) {
      for (int g = 0; g < 4; ++g)
        if (id.name == model_.linear(firsts[g]).id().name)
          out[std::size_t(g)].middleRows(static_cast<Eigen::Index>(i) * rows_per, in.rows()) = in;
    };
    model_.run_decoder_layer(layer, hidden_[i], ctx);
  });
  return out;
}

void Calibration::propagate(int layer) {
  for_windows(hidden_.size(), threads_,
              [&](std::size_t i) { model_.run_decoder_layer(layer, hidden_[i]); });
}

}  // namespace mx::model
