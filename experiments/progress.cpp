#include "experiments/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace mx::experiments {

namespace {
std::string hms(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto t = static_cast<long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}
}  // namespace

bool Progress::stderr_is_terminal() { return ::isatty(2) == 1; }

Progress::Progress(std::size_t total, std::size_t already, bool enabled)
    : total_(total),
      already_(already),
      enabled_(enabled),
      tty_(stderr_is_terminal()),
      start_(Clock::now()),
      last_(start_) {}

void Progress::update(std::size_t done) {
  if (!enabled_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.25 : 10.0)) return;
  last_ = now;
  print(done, false);
}

void Progress::finish(std::size_t done) {
  if (!enabled_) return;
  if (printed_ || !tty_) print(done, true);
}

void Progress::print(std::size_t done, bool final) {
  const double el = std::chrono::duration<double>(Clock::now() - start_).count();
  const double new_done = static_cast<double>(done - already_);
  const double rate = el > 0 ? new_done / el : 0;
  const double left = static_cast<double>(total_ - done);
  const std::string eta = final ? hms(el) : (rate > 0 ? hms(left / rate) : "?");
  const std::string line =
      fmt::format("sweep: {}/{} points ({:.1f}%), {:.2f} points/s, {} {}", done, total_,
                  total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
                  rate, final ? "elapsed" : "ETA", eta);
  if (tty_)
    std::fprintf(stderr, "\r%-72s%s", line.c_str(), final ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  printed_ = true;
}

}  // namespace mx::experiments
