// Progress of a long sweep on stderr: points done / total, rate and ETA. On a terminal one
// line is redrawn in place (at most 4 times a second); otherwise (with --progress) a line is
// printed every 10 seconds.
#pragma once

#include <chrono>
#include <cstddef>

namespace mx::experiments {

class Progress {
 public:
  // `already`: points found in the file (--resume), counted as done but not in the rate.
  Progress(std::size_t total, std::size_t already, bool enabled);
  void update(std::size_t done);  // done counts `already` too
  void finish(std::size_t done);

  // Whether progress is shown by default: stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  void print(std::size_t done, bool final);
  using Clock = std::chrono::steady_clock;
  std::size_t total_, already_;
  bool enabled_, tty_;
  Clock::time_point start_, last_;
  bool printed_ = false;
};

}  // namespace mx::experiments
