#include "experiments/model/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/model/model_error.hpp"
#include "formats/message.hpp"

namespace mx::model {

namespace fs = std::filesystem;

namespace {

// Bytes per element of the dtypes the format defines (to check offsets even for tensors we
// cannot convert); 0 = unknown dtype.
std::size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

std::uint16_t load_u16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

}  // namespace

float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t man = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);  // Inf / NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);  // rebias 15 -> 127
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: man * 2^-24, normalized for fp32 (exact)
    int e = -14;
    while ((man & 0x400u) == 0) {
      man <<= 1;
      --e;
    }
    man &= 0x3FFu;
    bits = sign | (static_cast<std::uint32_t>(e + 127) << 23) | (man << 13);
  }
  return std::bit_cast<float>(bits);
}

std::size_t StTensorInfo::numel() const {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

StHeader parse_safetensors_header(const unsigned char* data, std::size_t size,
                                  const std::string& path) {
  const std::string qpath = escape_text(path);
  if (size < 8)
    throw ModelError(
        fmt::format("{}: {} bytes, too short for a safetensors header (truncated?)", qpath, size));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > size - 8)
    throw ModelError(fmt::format(
        "{}: header length {} runs past the end of the file ({} bytes): truncated or not a "
        "safetensors file",
        qpath, n, size));
  StHeader out;
  out.data_start = 8 + static_cast<std::size_t>(n);
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(data + 8, data + out.data_start);
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(
        fmt::format("{}: header is not valid JSON ({})", qpath, escape_text(e.what())));
  }
  if (!h.is_object()) throw ModelError(fmt::format("{}: header is not a JSON object", qpath));
  const std::size_t data_size = size - out.data_start;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& v = it.value();
    const std::string name = escape_text(it.key());  // for messages only
    if (!v.is_object() || !v.contains("dtype") || !v["dtype"].is_string() || !v.contains("shape") ||
        !v["shape"].is_array() || !v.contains("data_offsets") || !v["data_offsets"].is_array() ||
        v["data_offsets"].size() != 2)
      throw ModelError(fmt::format(
          "{}: tensor {}: header entry needs dtype, shape and data_offsets [begin, end]", qpath,
          name));
    StTensorInfo t;
    t.dtype = v["dtype"].get<std::string>();
    std::vector<std::uint64_t> dims;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
        throw ModelError(
            fmt::format("{}: tensor {}: bad shape {}", qpath, name,
                        escape_text(v["shape"].dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace))));
      t.shape.push_back(d.get<std::int64_t>());
      dims.push_back(static_cast<std::uint64_t>(d.get<std::int64_t>()));
    }
    const auto& o = v["data_offsets"];
    if (!o[0].is_number_unsigned() || !o[1].is_number_unsigned())
      throw ModelError(fmt::format(
          "{}: tensor {}: bad data_offsets {}", qpath, name,
          escape_text(o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
    const auto b = o[0].get<std::uint64_t>(), e = o[1].get<std::uint64_t>();
    if (b > e)
      throw ModelError(
          fmt::format("{}: tensor {}: data_offsets [{}, {}] are reversed", qpath, name, b, e));
    if (e > data_size)
      throw ModelError(fmt::format(
          "{}: tensor {}: data_offsets [{}, {}] run past the end of the data section ({} "
          "bytes): truncated file",
          qpath, name, b, e, data_size));
    t.begin = static_cast<std::size_t>(b);
    t.end = static_cast<std::size_t>(e);
    const std::size_t es = dtype_size(t.dtype);
    std::uint64_t bytes = 0;
    try {
      bytes = checked_bytes(dims, es == 0 ? 1 : es, fmt::format("{}: tensor {}", qpath, name));
    } catch (const IoError& err) {
      throw ModelError(err.what());
    }
    if (es != 0 && bytes != t.end - t.begin)
      throw ModelError(fmt::format(
          "{}: tensor {}: {} bytes for shape {} of {} (expected {})", qpath, name, t.end - t.begin,
          escape_text(v["shape"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)),
          escape_text(t.dtype), bytes));
    out.tensors.emplace(it.key(), std::move(t));
  }
  // No two tensors may share bytes (the format requires disjoint ranges; overlapping ones
  // are a damaged or forged header). Empty tensors occupy nothing.
  std::vector<std::pair<const std::string*, const StTensorInfo*>> by_begin;
  for (const auto& [nm, t] : out.tensors)
    if (t.end > t.begin) by_begin.emplace_back(&nm, &t);
  std::sort(by_begin.begin(), by_begin.end(),
            [](const auto& x, const auto& y) { return x.second->begin < y.second->begin; });
  for (std::size_t i = 1; i < by_begin.size(); ++i)
    if (by_begin[i].second->begin < by_begin[i - 1].second->end)
      throw ModelError(
          fmt::format("{}: tensors {} [{}, {}] and {} [{}, {}] overlap in the data section", qpath,
                      escape_text(*by_begin[i - 1].first), by_begin[i - 1].second->begin,
                      by_begin[i - 1].second->end, escape_text(*by_begin[i].first),
                      by_begin[i].second->begin, by_begin[i].second->end));
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = -1;
  try {
    fd = open_regular_file(path);  // no FIFO (it would block), no folder
  } catch (const IoError& e) {
    throw ModelError(e.what());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw ModelError(fmt::format("{}: cannot read its size", escape_text(path)));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw ModelError(fmt::format("{}: {} bytes, too short for a safetensors header (truncated?)",
                                 escape_text(path), size_));
  }
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED)
    throw ModelError(fmt::format("{}: cannot map ({})", escape_text(path), std::strerror(errno)));
  map_ = static_cast<const unsigned char*>(m);
  try {
    StHeader h = parse_safetensors_header(map_, size_, path);
    data_start_ = h.data_start;
    tensors_ = std::move(h.tensors);
  } catch (...) {
    ::munmap(const_cast<unsigned char*>(map_), size_);
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
}

const StTensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end())
    throw ModelError(fmt::format("{}: missing tensor {}", escape_text(path_), escape_text(name)));
  return it->second;
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name) const {
  const StTensorInfo& t = info(name);
  const unsigned char* p = map_ + data_start_ + t.begin;
  const std::size_t n = t.numel();
  std::vector<float> out(n);
  if (t.dtype == "F32") {
    std::memcpy(out.data(), p, n * 4);  // little-endian host (x86-64, AArch64)
  } else if (t.dtype == "BF16") {
    for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load_u16(p + 2 * i));
  } else if (t.dtype == "F16") {
    for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(load_u16(p + 2 * i));
  } else {
    throw ModelError(fmt::format("{}: tensor {} has dtype {}, unsupported (F32, F16, BF16 only)",
                                 escape_text(path_), escape_text(name), escape_text(t.dtype)));
  }
  return out;
}

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!fs::is_directory(dir))
    throw ModelError(fmt::format("model folder {} does not exist or is not a folder", dir));
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const auto& [name, t] : files_.back()->tensors()) where_[name] = files_.back().get();
    return;
  }
  if (!fs::exists(index))
    throw ModelError(fmt::format("{}: no model.safetensors or model.safetensors.index.json", dir));
  nlohmann::json j;
  {
    std::string text;
    try {
      text = read_regular_file(index.string(), std::uint64_t{1} << 28);
    } catch (const IoError& e) {
      throw ModelError(e.what());
    }
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw ModelError(fmt::format("{}: not valid JSON ({})", escape_text(index.string()),
                                   escape_text(e.what())));
    }
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw ModelError(fmt::format("{}: no \"weight_map\" object", index.string()));
  std::map<std::string, const SafetensorsFile*> opened;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      throw ModelError(fmt::format("{}: weight_map[{}] is not a file name",
                                   escape_text(index.string()), escape_text(it.key())));
    const std::string shard = it.value().get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      throw ModelError(fmt::format("{}: weight_map[{}] = {} is not a file in the folder",
                                   escape_text(index.string()), escape_text(it.key()),
                                   escape_text(shard)));
    auto f = opened.find(shard);
    if (f == opened.end()) {
      files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / shard).string()));
      f = opened.emplace(shard, files_.back().get()).first;
    }
    if (!f->second->contains(it.key()))
      throw ModelError(fmt::format("{}: missing tensor {} (listed in {})",
                                   escape_text(f->second->path()), escape_text(it.key()),
                                   escape_text(index.string())));
    where_[it.key()] = f->second;
  }
}

const StTensorInfo& Checkpoint::info(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end())
    throw ModelError(fmt::format("{}: missing tensor {}", escape_text(dir_), escape_text(name)));
  return it->second->info(name);
}

std::vector<float> Checkpoint::read_f32(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end())
    throw ModelError(fmt::format("{}: missing tensor {}", escape_text(dir_), escape_text(name)));
  return it->second->read_f32(name);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : where_) out.push_back(n);
  return out;
}

}  // namespace mx::model
