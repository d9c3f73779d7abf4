// Worker threads that are always joined: a thread that cannot be started (too many threads,
// no memory for its stack) is an error naming the count, raised after the threads already
// started have been joined, never std::terminate from a joinable std::thread. Every pool in
// the library (parallel_for, hwfit, the sweep runner, model evaluation and calibration) uses it.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace mx {

// The most worker threads a --threads flag may ask for.
inline constexpr int kMaxThreads = 1024;

class ThreadStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ThreadGroup {
 public:
  ThreadGroup() = default;
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;
  ~ThreadGroup() { join(); }

  // Starts fn on a new thread; throws ThreadStartError if the system refuses (the threads
  // started before keep running until join()).
  template <typename Fn>
  void spawn(Fn&& fn) {
    try {
      threads_.emplace_back(std::forward<Fn>(fn));
    } catch (const std::system_error& e) {
      throw ThreadStartError("cannot start worker thread " + std::to_string(threads_.size() + 1) +
                             " (" + e.code().message() + "); use fewer --threads");
    }
  }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }
  std::size_t size() const { return threads_.size(); }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace mx
