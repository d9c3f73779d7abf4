#include "emulator/io/io_checks.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>

#include "emulator/io/tensor_io.hpp"
#include "formats/message.hpp"

namespace mx {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, std::string_view what) {
  throw IoError(fmt::format("{}: {}", escape_text(path), what));
}

std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "is a folder, not a file";
  if (S_ISFIFO(m)) return "is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(m) || S_ISBLK(m)) return "is a device, not a regular file";
  if (S_ISSOCK(m)) return "is a socket, not a regular file";
  return "is not a regular file";
}

std::string file_part(const std::string& spec, std::string* dataset) {
  std::string file = spec;
  if (!is_hdf5_spec(spec, &file, dataset) && dataset) dataset->clear();
  return file;
}

// Identity of a file argument: "dev:ino" when it exists, else its resolved absolute path.
std::string identity(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) return fmt::format("inode {}:{}", st.st_dev, st.st_ino);
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(file, ec), ec);
  return "path " + p.lexically_normal().string();
}

}  // namespace

int open_regular_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(path, fmt::format("cannot open for reading ({})", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t m = st.st_mode;
    ::close(fd);
    fail(path, kind_of(m));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::uint64_t require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail(path, errno == ENOENT ? std::string("no such file")
                               : fmt::format("cannot open ({})", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail(path, kind_of(st.st_mode));
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_regular_file(const std::string& path, std::uint64_t limit) {
  const int fd = open_regular_file(path);
  struct stat st {};
  ::fstat(fd, &st);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limit) {
    ::close(fd);
    fail(path, fmt::format("{} bytes, more than the {} bytes this file may have", size, limit));
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = errno;
      ::close(fd);
      fail(path, r < 0 ? fmt::format("read failed ({})", std::strerror(e))
                       : std::string("file shrank while it was read"));
    }
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return out;
}

std::uint64_t checked_bytes(const std::vector<std::uint64_t>& dims, std::uint64_t elem_bytes,
                            const std::string& what) {
  std::uint64_t n = elem_bytes;
  bool zero = elem_bytes == 0;
  for (std::uint64_t d : dims) zero = zero || d == 0;
  if (zero) return 0;
  for (std::uint64_t d : dims) {
    if (n > UINT64_MAX / d) {
      std::string shape;
      for (std::uint64_t x : dims) shape += fmt::format("{}{}", shape.empty() ? "" : " x ", x);
      throw IoError(fmt::format("{}: shape {} is too large (its size overflows 64 bits)", what,
                                escape_text(shape)));
    }
    n *= d;
  }
  return n;
}

std::uint64_t allocation_limit() {
  if (const char* env = std::getenv("MXLAB_MAX_ALLOC")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return v;
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  return std::uint64_t{1} << 36;
}

void check_allocation(std::uint64_t bytes, const std::string& what) {
  const std::uint64_t limit = allocation_limit();
  if (bytes > limit)
    throw IoError(fmt::format(
        "{}: needs {} bytes ({:.1f} GiB), more than the memory of this machine ({:.1f} GiB)", what,
        bytes, static_cast<double>(bytes) / (1 << 30), static_cast<double>(limit) / (1 << 30)));
}

void check_backed_size(std::uint64_t bytes, std::uint64_t file_size, bool filtered,
                       const std::string& what) {
  const std::uint64_t ratio = filtered ? 1024 : 1;
  const std::uint64_t backing = std::max<std::uint64_t>(file_size, 1);
  if (bytes > backing * ratio + (std::uint64_t{1} << 20))
    throw IoError(fmt::format(
        "{}: dataset of {} bytes in a file of {} bytes (data never written, or a damaged file)",
        what, bytes, file_size));
  check_allocation(bytes, what);
}

void check_distinct_files(const std::vector<FileArg>& inputs, const std::vector<FileArg>& outputs) {
  struct Id {
    const FileArg* arg;
    std::string id, dataset;
    bool h5;
  };
  auto make = [](const FileArg& a) {
    std::string ds;
    const std::string file = file_part(a.spec, &ds);
    return Id{&a, identity(file), ds, is_hdf5_spec(a.spec, nullptr, nullptr)};
  };
  std::vector<Id> in, out;
  for (const auto& a : inputs)
    if (!a.spec.empty()) in.push_back(make(a));
  for (const auto& a : outputs)
    if (!a.spec.empty()) out.push_back(make(a));
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (const Id& x : in) {
      if (out[i].id != x.id) continue;
      if (out[i].h5 && x.h5 && out[i].dataset != x.dataset) continue;
      throw IoError(fmt::format(
          "{} {}: names the same file as the input {} {}; refusing to "
          "overwrite an input",
          out[i].arg->flag, escape_text(out[i].arg->spec), x.arg->flag, escape_text(x.arg->spec)));
    }
    for (std::size_t j = 0; j < i; ++j)
      if (out[i].id == out[j].id)
        throw IoError(
            fmt::format("{} {}: names the same file as {} {}; give each output its "
                        "own file",
                        out[i].arg->flag, escape_text(out[i].arg->spec), out[j].arg->flag,
                        escape_text(out[j].arg->spec)));
  }
}

namespace io_detail {

void fsync_path(const std::string& path, bool folder) {
  const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_bytes_to(const std::string& tmp, const std::string& path, const void* const* parts,
                    const std::size_t* sizes, std::size_t count) {
  remove_dead_temps(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, fmt::format("cannot open for writing ({})", std::strerror(errno)));
  auto die = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, fmt::format("write failed ({})", std::strerror(err)));
  };
  for (std::size_t k = 0; k < count; ++k) {
    const char* p = static_cast<const char*>(parts[k]);
    std::size_t left = sizes[k];
    while (left > 0) {
      const ssize_t w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die(w < 0 ? errno : ENOSPC);
      p += w;
      left -= static_cast<std::size_t>(w);
    }
  }
  if (::fsync(fd) != 0) die(errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail(path, fmt::format("write failed ({})", std::strerror(e)));
  }
}

void commit_rename(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail(path, fmt::format("cannot replace file ({})", std::strerror(e)));
  }
  fs::path dir = fs::path(path).parent_path();
  fsync_path(dir.empty() ? std::string(".") : dir.string(), true);
}

void remove_dead_temps(const std::string& path) {
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string prefix = p.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
    const long v = std::strtol(pid.c_str(), nullptr, 10);
    if (v <= 0 || v == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(v), 0) == 0 || errno != ESRCH) continue;  // still alive
    std::error_code rm;
    fs::remove(it->path(), rm);
  }
}

}  // namespace io_detail

StagedOutputs::~StagedOutputs() {
  for (const Entry& e : entries_) ::unlink(e.tmp.c_str());
}

void StagedOutputs::stage_bytes(const std::string& path, const void* data, std::size_t size) {
  const std::string tmp = stage_path(path);
  const void* parts[] = {data};
  const std::size_t sizes[] = {size};
  io_detail::write_bytes_to(tmp, path, parts, sizes, 1);
}

void StagedOutputs::stage_tensor(const std::string& spec, const Tensor& t) {
  std::string file = spec;
  is_hdf5_spec(spec, &file, nullptr);
  const std::string tmp = io_detail::stage_tensor_file(spec, t);
  entries_.push_back({tmp, file});
}

std::string StagedOutputs::stage_path(const std::string& path) {
  entries_.push_back({temp_path_for(path), path});
  return entries_.back().tmp;
}

void StagedOutputs::commit() {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    try {
      io_detail::commit_rename(entries_[i].tmp, entries_[i].path);
    } catch (...) {
      entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      throw;
    }
  }
  entries_.clear();
}

}  // namespace mx
