#pragma once
#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "emulator/thread_group.hpp"

namespace mx {

template <typename Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn) {
  if (n == 0) return;  // an empty range: no call (empty tensors have no blocks)
  const std::size_t t =
      std::max<std::size_t>(1, std::min<std::size_t>(threads > 0 ? threads : 1, n));
  if (t <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::vector<std::exception_ptr> errors(t);
  {
    ThreadGroup pool;  // joined on every path, also when a thread fails to start
    for (std::size_t k = 0; k < t; ++k) {
      pool.spawn([&, k] {
        try {
          fn(n * k / t, n * (k + 1) / t);
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace mx
