// Writes small safetensors files for the tests (independent of the reader under test).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mx::test {

struct StEntry {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;
};

inline std::vector<unsigned char> f32_bytes(const std::vector<float>& v) {
  std::vector<unsigned char> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
inline std::vector<unsigned char> u16_bytes(const std::vector<std::uint16_t>& v) {
  std::vector<unsigned char> b;
  for (auto x : v) {
    b.push_back(static_cast<unsigned char>(x & 0xFF));
    b.push_back(static_cast<unsigned char>(x >> 8));
  }
  return b;
}

// The file's bytes: 8-byte little-endian header length, JSON header, data.
inline std::string safetensors_bytes(const std::vector<StEntry>& entries,
                                     const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json h = extra;
  std::string data;
  for (const auto& e : entries) {
    const std::size_t b = data.size();
    data.append(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size());
    h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {b, data.size()}}};
  }
  const std::string hs = h.dump();
  std::string out(8, '\0');
  std::uint64_t n = hs.size();
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + hs + data;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace mx::test
