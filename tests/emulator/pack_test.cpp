#include <random>

#include <gtest/gtest.h>

#include "emulator/pack.hpp"

namespace mx {
namespace {

TEST(Pack, LayoutOfFp4AndFp6) {
  // Two fp4 codes per byte, low nibble first.
  EXPECT_EQ(pack_codes(std::vector<std::uint32_t>{0x1, 0xF, 0x7}, 4),
            (std::vector<std::uint8_t>{0xF1, 0x07}));
  // Four fp6 codes in three bytes: 6 bits each, little-endian bit stream.
  // codes 0b000001, 0b000010, 0b000011, 0b111111 -> bits 000001 | 000010<<6 | 000011<<12 |
  // 111111<<18
  EXPECT_EQ(pack_codes(std::vector<std::uint32_t>{1, 2, 3, 63}, 6),
            (std::vector<std::uint8_t>{0x81, 0x30, 0xFC}));
}

TEST(Pack, RoundTripEveryWidth) {
  std::mt19937 rng(3);
  for (int bits = 1; bits <= 32; ++bits) {
    for (std::size_t n : {0u, 1u, 7u, 33u, 1000u}) {
      std::vector<std::uint32_t> codes(n);
      for (auto& c : codes)
        c = static_cast<std::uint32_t>(bits == 32 ? rng() : rng() & ((1u << bits) - 1));
      const auto bytes = pack_codes(codes, bits);
      EXPECT_EQ(bytes.size(), (n * static_cast<std::size_t>(bits) + 7) / 8);
      EXPECT_EQ(unpack_codes(bytes, n, bits), codes) << bits << " bits, n=" << n;
    }
  }
}

}  // namespace
}  // namespace mx
