#include "emulator/pack.hpp"

#include <stdexcept>

namespace mx {

std::vector<std::uint8_t> pack_codes(std::span<const std::uint32_t> codes, int bits) {
  if (bits < 1 || bits > 32) throw std::invalid_argument("pack_codes: bits must be 1..32");
  const std::size_t nbits = codes.size() * static_cast<std::size_t>(bits);
  std::vector<std::uint8_t> out((nbits + 7) / 8, 0);
  // Byte-aligned groups of the common widths, then the general bit accumulator for the rest.
  std::size_t done = 0;
  if (bits == 8) {
    for (std::size_t i = 0; i < codes.size(); ++i) out[i] = static_cast<std::uint8_t>(codes[i]);
    return out;
  }
  if (bits == 4) {
    for (; done + 2 <= codes.size(); done += 2)
      out[done / 2] =
          static_cast<std::uint8_t>((codes[done] & 0xF) | ((codes[done + 1] & 0xF) << 4));
  } else if (bits == 6) {
    for (; done + 4 <= codes.size(); done += 4) {
      const std::uint32_t w = (codes[done] & 0x3F) | ((codes[done + 1] & 0x3F) << 6) |
                              ((codes[done + 2] & 0x3F) << 12) | ((codes[done + 3] & 0x3F) << 18);
      std::uint8_t* o = &out[done / 4 * 3];
      o[0] = static_cast<std::uint8_t>(w);
      o[1] = static_cast<std::uint8_t>(w >> 8);
      o[2] = static_cast<std::uint8_t>(w >> 16);
    }
  }
  const std::uint64_t mask = bits == 32 ? 0xFFFFFFFFull : ((std::uint64_t{1} << bits) - 1);
  std::uint64_t acc = 0;  // bit accumulator, flushed a byte at a time
  int held = 0;
  std::size_t pos = done * static_cast<std::size_t>(bits) / 8;  // groups end on a byte
  for (std::size_t i = done; i < codes.size(); ++i) {
    const std::uint32_t c = codes[i];
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
