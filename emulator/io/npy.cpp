// NumPy .npy reading and writing (format versions 1.0, 2.0 and 3.0).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emulator/io/tensor_io.hpp"

namespace mx {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void bad(const std::string& path, std::string_view what) {
  throw IoError(fmt::format("{}: {}", path, what));
}

// Finds the value text of `'key':` in the header dict.
std::string_view dict_value(const std::string& path, std::string_view header,
                            std::string_view key) {
  const std::string pat = fmt::format("'{}'", key);
  const auto k = header.find(pat);
  if (k == std::string_view::npos)
    bad(path, fmt::format("malformed .npy header: no '{}' key", key));
  auto p = header.find(':', k + pat.size());
  if (p == std::string_view::npos) bad(path, "malformed .npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  return header.substr(p);
}

// Large tensors: ask for transparent huge pages before the buffer is first touched, so
// filling it costs a few dozen page faults instead of one per 4 KiB (a 64 MiB tensor: 16384).
void advise_huge_pages(void* p, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (bytes < 2 * kHuge) return;
  const auto b = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t start = (b + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (b + bytes) & ~(kHuge - 1);
  if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
}

}  // namespace

Tensor read_npy(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) bad(path, fmt::format("cannot open for reading ({})", std::strerror(errno)));
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (ec) bad(path, "cannot read file size");
  unsigned char pre[10];
  if (std::fread(pre, 1, 10, f.get()) != 10) bad(path, "not a .npy file (truncated preamble)");
  if (std::memcmp(pre, "\x93NUMPY", 6) != 0) bad(path, "not a .npy file (bad magic)");
  const int major = pre[6];
  std::size_t header_len;
  std::size_t preamble = 10;
  if (major == 1) {
    header_len = pre[8] | (pre[9] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char more[2];
    if (std::fread(more, 1, 2, f.get()) != 2) bad(path, "truncated .npy header");
    header_len = static_cast<std::size_t>(pre[8]) | (static_cast<std::size_t>(pre[9]) << 8) |
                 (static_cast<std::size_t>(more[0]) << 16) |
                 (static_cast<std::size_t>(more[1]) << 24);
    preamble = 12;
  } else {
    bad(path, fmt::format("unsupported .npy version {}", major));
  }
  if (preamble + header_len > file_size) bad(path, "truncated .npy header");
  std::string header(header_len, '\0');
  if (std::fread(header.data(), 1, header_len, f.get()) != header_len)
    bad(path, "truncated .npy header");

  Tensor t;
  const std::string_view descr = dict_value(path, header, "descr");
  if (descr.starts_with("'<f4'")) {
    t.dtype = DType::kF32;
  } else if (descr.starts_with("'<f8'")) {
    t.dtype = DType::kF64;
  } else if (descr.starts_with("'>f")) {
    bad(path, "big-endian data is not supported (convert with arr.astype('<f4'))");
  } else {
    const auto end = descr.find(',');
    bad(path, fmt::format("unsupported dtype {} (need float32 '<f4' or float64 '<f8')",
                          descr.substr(0, end)));
  }
  const std::string_view fo = dict_value(path, header, "fortran_order");
  if (fo.starts_with("True")) bad(path, "Fortran-order data is not supported (use C order)");
  if (!fo.starts_with("False")) bad(path, "malformed .npy header: fortran_order");
  std::string_view sh = dict_value(path, header, "shape");
  if (sh.empty() || sh[0] != '(') bad(path, "malformed .npy header: shape");
  const auto close = sh.find(')');
  if (close == std::string_view::npos) bad(path, "malformed .npy header: shape");
  sh = sh.substr(1, close - 1);
  // Parse the dimensions with overflow checks, before anything large is allocated.
  std::size_t count = 1;
  std::size_t i = 0;
  while (i < sh.size()) {
    while (i < sh.size() && (sh[i] == ' ' || sh[i] == ',')) ++i;
    if (i >= sh.size()) break;
    if (sh[i] < '0' || sh[i] > '9') bad(path, "malformed .npy header: shape");
    std::size_t d = 0;
    while (i < sh.size() && sh[i] >= '0' && sh[i] <= '9') {
      if (d > (SIZE_MAX - 9) / 10) bad(path, "shape too large");
      d = d * 10 + static_cast<std::size_t>(sh[i] - '0');
      ++i;
    }
    if (d != 0 && count > SIZE_MAX / d) bad(path, "shape too large");
    count *= d;
    t.shape.push_back(d);
  }
  const std::size_t esize = t.dtype == DType::kF32 ? 4 : 8;
  const std::size_t data_off = preamble + header_len;
  if (count > SIZE_MAX / esize || data_off + count * esize != file_size)
    bad(path, fmt::format("data size does not match the header shape ({} bytes of data for {} "
                          "elements of {} bytes)",
                          file_size - data_off, count, esize));
  if (t.dtype == DType::kF32) {
    t.f32.reserve(count);
    advise_huge_pages(t.f32.data(), count * 4);
    t.f32.resize(count);
    if (std::fread(t.f32.data(), 4, count, f.get()) != count) bad(path, "truncated data");
  } else {
    t.f64.reserve(count);
    advise_huge_pages(t.f64.data(), count * 8);
    t.f64.resize(count);
    if (std::fread(t.f64.data(), 8, count, f.get()) != count) bad(path, "truncated data");
  }
  return t;
}

std::string temp_path_for(const std::string& path) {
  return fmt::format("{}.tmp-{}", path, static_cast<long>(::getpid()));
}

namespace {
void write_all(std::FILE* f, const std::string& tmp, const std::string& path, const void* data,
               std::size_t size) {
  if (size && std::fwrite(data, 1, size, f) != size) {
    const int err = errno;
    std::fclose(f);
    std::remove(tmp.c_str());
    bad(path, fmt::format("write failed ({})", std::strerror(err)));
  }
}
void finish(std::FILE* f, const std::string& tmp, const std::string& path) {
  const bool ok = std::fflush(f) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    bad(path, fmt::format("write failed ({})", std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e2 = errno;
    std::remove(tmp.c_str());
    bad(path, fmt::format("cannot replace file ({})", std::strerror(e2)));
  }
}
std::FILE* open_temp(const std::string& tmp, const std::string& path) {
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) bad(path, fmt::format("cannot open for writing ({})", std::strerror(errno)));
  return f;
}
}  // namespace

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  const std::string tmp = temp_path_for(path);
  std::FILE* f = open_temp(tmp, path);
  write_all(f, tmp, path, data, size);
  finish(f, tmp, path);
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string shape = "(";
  for (std::size_t d : t.shape) shape += fmt::format("{}, ", d);
  if (t.shape.size() > 1)
    shape.resize(shape.size() - 2);
  else if (t.shape.size() == 1)
    shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   t.dtype == DType::kF32 ? "<f4" : "<f8", shape);
  // Pad with spaces so the data starts on a 64-byte boundary; end with a newline.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string pre = "\x93NUMPY";
  pre += static_cast<char>(1);
  pre += static_cast<char>(0);
  pre += static_cast<char>(header.size() & 0xFF);
  pre += static_cast<char>(header.size() >> 8);
  const std::string tmp = temp_path_for(path);
  std::FILE* f = open_temp(tmp, path);
  write_all(f, tmp, path, pre.data(), pre.size());
  write_all(f, tmp, path, header.data(), header.size());
  if (t.dtype == DType::kF32)
    write_all(f, tmp, path, t.f32.data(), t.f32.size() * 4);
  else
    write_all(f, tmp, path, t.f64.data(), t.f64.size() * 8);
  finish(f, tmp, path);
}

}  // namespace mx
