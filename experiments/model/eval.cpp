#include "experiments/model/eval.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "emulator/thread_group.hpp"
#include "experiments/model/model_error.hpp"
#include "formats/message.hpp"

namespace mx::model {

std::vector<unsigned char> read_text(const std::string& path, const std::string& flag) {
  std::string s;
  try {
    s = read_regular_file(path, allocation_limit());
  } catch (const IoError& e) {
    throw ModelError(fmt::format("{} {}", flag, e.what()));
  }
  if (s.empty()) throw ModelError(fmt::format("{} {}: the file is empty", flag, escape_text(path)));
  return std::vector<unsigned char>(s.begin(), s.end());
}

std::size_t windows_that_fit(std::size_t text_bytes, std::size_t window_size) {
  if (window_size == 0 || text_bytes == 0) return 0;
  return (text_bytes - 1) / window_size;
}

std::size_t check_eval_options(const LlamaConfig& c, std::size_t text_bytes, const EvalOptions& o) {
  if (o.window_size == 0) throw ModelError("--window-size must be >= 1 (got 0)");
  if (o.window_size > static_cast<std::size_t>(c.max_position_embeddings))
    throw ModelError(
        fmt::format("--window-size {} exceeds the model's context (max_position_embeddings {})",
                    o.window_size, c.max_position_embeddings));
  if (o.threads < 1) throw ModelError(fmt::format("--threads must be >= 1 (got {})", o.threads));
  const std::size_t fit = windows_that_fit(text_bytes, o.window_size);
  if (fit == 0)
    throw ModelError(
        fmt::format("--text: {} bytes hold no full window of {} + 1 bytes (lower --window-size)",
                    text_bytes, o.window_size));
  if (o.windows > fit)
    throw ModelError(fmt::format(
        "--windows {}: the text holds only {} full windows of {} bytes (use --windows 0 for all)",
        o.windows, fit, o.window_size));
  return o.windows == 0 ? fit : o.windows;
}

double cross_entropy_nats(const RowMatrixXf& logits, std::span<const int> targets) {
  double total = 0;
  for (Eigen::Index p = 0; p < logits.rows(); ++p) {
    const auto row = logits.row(p);
    const double m = static_cast<double>(row.maxCoeff());
    double s = 0;
    for (Eigen::Index j = 0; j < row.size(); ++j) s += std::exp(static_cast<double>(row[j]) - m);
    total += m + std::log(s) - static_cast<double>(row[targets[std::size_t(p)]]);
  }
  return total;
}

EvalResult evaluate(const LlamaModel& model, const std::vector<unsigned char>& text,
                    const EvalOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = check_eval_options(model.config(), text.size(), opt);
  const std::size_t w = opt.window_size;
  const bool stats = opt.collect_stats && model.quantized();
  const std::size_t stats_windows = stats ? std::min(opt.stats_windows, n) : 0;
  std::vector<double> nats(n, 0.0);
  std::vector<std::vector<LinearStats>> win_stats(stats_windows);
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    std::vector<int> tokens(w), targets(w);
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        for (std::size_t p = 0; p < w; ++p) {
          tokens[p] = text[i * w + p];
          targets[p] = text[i * w + p + 1];
        }
        ForwardContext ctx;
        if (i < stats_windows) {
          win_stats[i].assign(model.num_linears(), LinearStats{});
          ctx.stats = &win_stats[i];
        }
        const RowMatrixXf logits = model.forward(tokens, ctx);
        nats[i] = cross_entropy_nats(logits, targets);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next.store(n);
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (opt.progress) opt.progress(done, n);
    }
  };
  const int threads = static_cast<int>(std::min<std::size_t>(std::size_t(opt.threads), n));
  {
    ThreadGroup pool;  // joined also when a thread cannot start
    try {
      for (int t = 1; t < threads; ++t) pool.spawn(worker);
    } catch (...) {
      next.store(n);  // the started workers stop
      throw;
    }
    worker();
  }
  if (error) std::rethrow_exception(error);

  EvalResult r;
  double total = 0;
  for (double v : nats) total += v;  // window order: independent of the thread count
  r.predictions = n * w;
  r.windows = n;
  r.window_size = w;
  r.bits_per_byte = total / static_cast<double>(r.predictions) / std::log(2.0);
  r.perplexity = std::exp2(r.bits_per_byte);
  if (stats_windows > 0) {
    for (std::size_t l = 0; l < model.num_linears(); ++l) {
      LayerReport lr{model.linear(l).id().name, {}};
      for (std::size_t i = 0; i < stats_windows; ++i) lr.stats.merge(win_stats[i][l]);
      r.per_layer.push_back(std::move(lr));
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mx::model
