// Packed storage of element codes: codes of `bits` bits laid out back to back in a
// little-endian bit stream (code i occupies stream bits [i*bits, (i+1)*bits)). So two fp4
// codes share a byte (low nibble first), four fp6 codes fill three bytes, and 8-bit codes
// are plain bytes. The stream is padded with zero bits to a whole byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mx {

std::vector<std::uint8_t> pack_codes(std::span<const std::uint32_t> codes, int bits);
std::vector<std::uint32_t> unpack_codes(std::span<const std::uint8_t> bytes, std::size_t count,
                                        int bits);

// Scale codes as bytes: one byte per block for 8-bit scales, four little-endian bytes for
// fp32 scales.
std::vector<std::uint8_t> pack_scales(std::span<const std::uint32_t> scales, int bytes_per_scale);

}  // namespace mx
