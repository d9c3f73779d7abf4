#include "emulator/pack.hpp"

#include <stdexcept>

namespace mx {

std::vector<std::uint8_t> pack_codes(std::span<const std::uint32_t> codes, int bits) {
  if (bits < 1 || bits > 32) throw std::invalid_argument("pack_codes: bits must be 1..32");
  const std::size_t nbits = codes.size() * static_cast<std::size_t>(bits);
  std::vector<std::uint8_t> out((nbits + 7) / 8, 0);
  if (bits == 8) {
    for (std::size_t i = 0; i < codes.size(); ++i) out[i] = static_cast<std::uint8_t>(codes[i]);
    return out;
  }
  const std::uint64_t mask = bits == 32 ? 0xFFFFFFFFull : ((std::uint64_t{1} << bits) - 1);
  std::uint64_t acc = 0;  // bit accumulator, flushed a byte at a time
  int held = 0;
  std::size_t pos = 0;
  for (std::uint32_t c : codes) {
    acc |= (c & mask) << held;
    held += bits;
    while (held >= 8) {
      out[pos++] = static_cast<std::uint8_t>(acc);
      acc >>= 8;
      held -= 8;
    }
  }
  if (held > 0) out[pos] = static_cast<std::uint8_t>(acc);
  return out;
}

std::vector<std::uint32_t> unpack_codes(std::span<const std::uint8_t> bytes, std::size_t count,
                                        int bits) {
  if (bits < 1 || bits > 32) throw std::invalid_argument("unpack_codes: bits must be 1..32");
  if (bytes.size() * 8 < count * static_cast<std::size_t>(bits))
    throw std::invalid_argument("unpack_codes: not enough bytes");
  std::vector<std::uint32_t> out(count);
  const std::uint64_t mask = bits == 32 ? 0xFFFFFFFFull : ((std::uint64_t{1} << bits) - 1);
  std::uint64_t acc = 0;
  int held = 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < count; ++i) {
    while (held < bits) {
      acc |= std::uint64_t{bytes[pos++]} << held;
      held += 8;
    }
    out[i] = static_cast<std::uint32_t>(acc & mask);
    acc >>= bits;
    held -= bits;
  }
  return out;
}

std::vector<std::uint8_t> pack_scales(std::span<const std::uint32_t> scales, int bytes_per_scale) {
  std::vector<std::uint8_t> out(scales.size() * static_cast<std::size_t>(bytes_per_scale));
  for (std::size_t i = 0; i < scales.size(); ++i)
    for (int b = 0; b < bytes_per_scale; ++b)
      out[i * static_cast<std::size_t>(bytes_per_scale) + static_cast<std::size_t>(b)] =
          static_cast<std::uint8_t>(scales[i] >> (8 * b));
  return out;
}

}  // namespace mx
