// An advisory lock (flock) on a sweep's result file for the whole run: a second `mxlab sweep`
// on the same --output fails at once instead of interleaving its points with the first's.
// The lock is taken on `OUTPUT.lock` (the result file itself is replaced by rename at every
// commit, so its inode cannot carry the lock); the lock file is removed when the run ends.
#pragma once

#include <string>

namespace mx::experiments {

class OutputLock {
 public:
  OutputLock() = default;
  // Throws std::runtime_error naming the output (and the holder's pid) when another process
  // holds the lock.
  explicit OutputLock(const std::string& output);
  ~OutputLock();
  OutputLock(OutputLock&& o) noexcept;
  OutputLock& operator=(OutputLock&& o) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  void release();
  int fd_ = -1;
  std::string path_;
};

}  // namespace mx::experiments
