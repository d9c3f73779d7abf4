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
#include <sys/stat.h>
#include <unistd.h>

#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "formats/message.hpp"

namespace mx {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void bad(const std::string& path, std::string_view what) {
  throw IoError(fmt::format("{}: {}", escape_text(path), what));
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

NpyHeader parse_npy_header(const unsigned char* data, std::size_t avail, std::uint64_t file_size,
                           const std::string& path) {
  if (avail < 10) bad(path, "not a .npy file (truncated preamble)");
  if (std::memcmp(data, "\x93NUMPY", 6) != 0) bad(path, "not a .npy file (bad magic)");
  const int major = data[6];
  std::size_t header_len;
  std::size_t preamble = 10;
  if (major == 1) {
    header_len = data[8] | (data[9] << 8);
  } else if (major == 2 || major == 3) {
    if (avail < 12) bad(path, "truncated .npy header");
    header_len = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8) |
                 (static_cast<std::size_t>(data[10]) << 16) |
                 (static_cast<std::size_t>(data[11]) << 24);
    preamble = 12;
  } else {
    bad(path, fmt::format("unsupported .npy version {}", major));
  }
  if (preamble + header_len > file_size || preamble + header_len > avail)
    bad(path, "truncated .npy header");
  const std::string_view header(reinterpret_cast<const char*>(data) + preamble, header_len);

  NpyHeader h;
  const std::string_view descr = dict_value(path, header, "descr");
  if (descr.starts_with("'<f4'")) {
    h.dtype = DType::kF32;
  } else if (descr.starts_with("'<f8'")) {
    h.dtype = DType::kF64;
  } else if (descr.starts_with("'>f")) {
    bad(path, "big-endian data is not supported (convert with arr.astype('<f4'))");
  } else {
    const auto end = descr.find(',');
    bad(path, fmt::format("unsupported dtype {} (need float32 '<f4' or float64 '<f8')",
                          escape_text(descr.substr(0, end), 40)));
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
    h.shape.push_back(d);
  }
  const std::size_t esize = h.dtype == DType::kF32 ? 4 : 8;
  h.data_offset = preamble + header_len;
  if (count > SIZE_MAX / esize || h.data_offset + count * esize != file_size)
    bad(path, fmt::format("data size does not match the header shape ({} bytes of data for {} "
                          "elements of {} bytes)",
                          file_size - h.data_offset, count, esize));
  h.count = count;
  return h;
}

Tensor read_npy(const std::string& path) {
  // A regular file only (a FIFO would block, a folder would fail confusingly).
  File f(::fdopen(open_regular_file(path), "rb"));
  if (!f) bad(path, fmt::format("cannot open for reading ({})", std::strerror(errno)));
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) != 0) bad(path, "cannot read file size");
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  std::vector<unsigned char> head(12);
  const std::size_t got = std::fread(head.data(), 1, 12, f.get());
  if (got < 10) bad(path, "not a .npy file (truncated preamble)");
  std::size_t header_len = 0, preamble = 10;
  if (std::memcmp(head.data(), "\x93NUMPY", 6) == 0) {
    if (head[6] == 1) {
      header_len = head[8] | (head[9] << 8);
    } else if (got == 12) {
      header_len = static_cast<std::size_t>(head[8]) | (static_cast<std::size_t>(head[9]) << 8) |
                   (static_cast<std::size_t>(head[10]) << 16) |
                   (static_cast<std::size_t>(head[11]) << 24);
      preamble = 12;
    }
  }
  if (preamble + header_len > file_size) bad(path, "truncated .npy header");
  head.resize(preamble + header_len);
  if (head.size() > got &&
      std::fread(head.data() + got, 1, head.size() - got, f.get()) != head.size() - got)
    bad(path, "truncated .npy header");
  const NpyHeader h = parse_npy_header(head.data(), head.size(), file_size, path);
  if (std::fseek(f.get(), static_cast<long>(h.data_offset), SEEK_SET) != 0)
    bad(path, "truncated data");
  const std::size_t count = h.count;
  Tensor t;
  t.dtype = h.dtype;
  t.shape = h.shape;
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

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  StagedOutputs out;
  out.stage_bytes(path, data, size);
  out.commit();
}

namespace io_detail {
// The .npy bytes of `t` go to `tmp` (the temporary file of `path`), fsync'ed.
void write_npy_to(const std::string& tmp, const std::string& path, const Tensor& t) {
  std::string shape = "(";
  for (std::size_t d : t.shape) shape += fmt::format("{}, ", d);
  if (t.shape.size() > 1)
    shape.resize(shape.size() - 2);
  else if (t.shape.size() == 1)
    shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   t.dtype == DType::kF32 ? "<f4" : "<f8", shape);
  // Version 1.0 stores the header length in 16 bits; a longer header (tens of thousands of
  // dimensions) needs version 2.0 and its 32-bit length (the header is ASCII, so not 3.0).
  const bool v2 = 10 + header.size() + 1 > 65535;
  const std::size_t pre_len = v2 ? 12 : 10;
  // Pad with spaces so the data starts on a 64-byte boundary; end with a newline.
  const std::size_t total = pre_len + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xFFFFFFFFu) bad(path, "shape too long for a .npy header");
  std::string pre = "\x93NUMPY";
  pre += static_cast<char>(v2 ? 2 : 1);
  pre += static_cast<char>(0);
  const std::size_t hl = header.size();
  pre += static_cast<char>(hl & 0xFF);
  pre += static_cast<char>((hl >> 8) & 0xFF);
  if (v2) {
    pre += static_cast<char>((hl >> 16) & 0xFF);
    pre += static_cast<char>((hl >> 24) & 0xFF);
  }
  const void* parts[] = {pre.data(), header.data(),
                         t.dtype == DType::kF32 ? static_cast<const void*>(t.f32.data())
                                                : static_cast<const void*>(t.f64.data())};
  const std::size_t sizes[] = {pre.size(), header.size(),
                               t.dtype == DType::kF32 ? t.f32.size() * 4 : t.f64.size() * 8};
  write_bytes_to(tmp, path, parts, sizes, 3);
}
}  // namespace io_detail

void write_npy(const std::string& path, const Tensor& t) {
  StagedOutputs out;
  out.stage_tensor(path, t);
  out.commit();
}

}  // namespace mx
