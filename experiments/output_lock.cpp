#include "experiments/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "formats/message.hpp"

namespace mx::experiments {

OutputLock::OutputLock(const std::string& output) : path_(output + ".lock") {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error(fmt::format("--output {}: cannot create the lock file {} ({})",
                                           escape_text(output), escape_text(path_),
                                           std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      char buf[32] = {};
      const ssize_t r = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      if (e == EWOULDBLOCK) {
        std::string holder = r > 0 ? std::string(buf, static_cast<std::size_t>(r)) : "";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
          holder.pop_back();
        throw std::runtime_error(fmt::format(
            "--output {}: another mxlab sweep{} is writing this file (it holds {}); wait for it "
            "to finish or choose another --output",
            escape_text(output), holder.empty() ? "" : " (pid " + escape_text(holder, 20) + ")",
            escape_text(path_)));
      }
      throw std::runtime_error(fmt::format("--output {}: cannot lock {} ({})", escape_text(output),
                                           escape_text(path_), std::strerror(e)));
    }
    // The lock file may have been removed (by a run that just ended) between open and flock:
    // the lock counts only if the path still names the locked file.
    struct stat a {
    }, b{};
    if (::fstat(fd, &a) == 0 && ::stat(path_.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
      const std::string pid = fmt::format("{}\n", static_cast<long>(::getpid()));
      if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t w = ::pwrite(fd, pid.data(), pid.size(), 0);
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw std::runtime_error(
      fmt::format("--output {}: cannot take the lock {}", escape_text(output), escape_text(path_)));
}

void OutputLock::release() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());  // while still holding it: a waiting opener re-checks the path
    ::close(fd_);
    fd_ = -1;
  }
}

OutputLock::~OutputLock() { release(); }

OutputLock::OutputLock(OutputLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

OutputLock& OutputLock::operator=(OutputLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

}  // namespace mx::experiments
