// A minimal float32 .npy reader and writer for the C ABI tests, independent of the library
// (the tests link only libmxlab's C ABI, and compare it with the mxlab binary's files).
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace mx::test {

// Writes a C-order little-endian float32 array of `shape` (NumPy format 1.0).
inline void write_npy_f32(const std::string& path, const std::vector<std::size_t>& shape,
                          const std::vector<float>& v) {
  std::string dims;
  for (std::size_t d : shape) dims += std::to_string(d) + ",";
  if (shape.size() > 1) dims.pop_back();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  out.put(static_cast<char>(len & 0xFF));
  out.put(static_cast<char>(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Reads the data of a float32 .npy file (the header is checked for '<f4' only).
inline std::vector<float> read_npy_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw std::runtime_error(path + ": not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    start = 10;
  } else {
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = hlen << 8 | static_cast<unsigned char>(bytes[8 + i]);
    start = 12;
  }
  const std::string header = bytes.substr(start, hlen);
  if (header.find("<f4") == std::string::npos) throw std::runtime_error(path + ": not float32");
  const std::size_t data = start + hlen, n = (bytes.size() - data) / sizeof(float);
  std::vector<float> v(n);
  std::memcpy(v.data(), bytes.data() + data, n * sizeof(float));
  return v;
}

// Reads a file of raw bytes.
inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

// The codes of a little-endian, least-significant-bit-first stream of `bits`-bit codes (the
// layout of `mxlab quantize --codes-output`, README).
inline std::vector<std::uint32_t> unpack_lsb_first(const std::vector<std::uint8_t>& bytes,
                                                   std::size_t count, int bits) {
  std::vector<std::uint32_t> out(count, 0);
  for (std::size_t i = 0; i < count; ++i)
    for (int b = 0; b < bits; ++b) {
      const std::size_t pos = i * static_cast<std::size_t>(bits) + static_cast<std::size_t>(b);
      if ((bytes.at(pos / 8) >> (pos % 8)) & 1u) out[i] |= std::uint32_t{1} << b;
    }
  return out;
}

}  // namespace mx::test
