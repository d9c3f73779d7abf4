// Every one of the 2^32 fp32 inputs, for each catalogue element format and each
// deterministic rounding mode (ctest label `exhaustive`): the fast fp32 path's codes and
// values equal the oracle's, which walks the inputs in increasing order in step with the
// format's sorted value table. The generic codec is checked on every 61st input as well
// (on every input for E8M0, which has no fast path).
#include <bit>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "formats/block_quant.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/dispatch.hpp"
#include "formats/fast_f32.hpp"
#include "tests/formats/test_support.hpp"

namespace mx {
namespace {

template <Rounding R>
void scalar_kernel_t(const F32Grid& g, const float* x, std::size_t n, float* y) {
  for (std::size_t i = 0; i < n; ++i)
    y[i] = std::bit_cast<float>(quantize_bits_f32<R>(g, std::bit_cast<std::uint32_t>(x[i]), 0));
}
void scalar_kernel(const F32Grid& g, Rounding r, const float* x, std::size_t n, float* y) {
  visit_rounding(r, [&](auto tag) { scalar_kernel_t<decltype(tag)::value>(g, x, n, y); });
}

using Param = std::tuple<std::string, Rounding, Overflow>;
class Exhaustive : public ::testing::TestWithParam<Param> {};

TEST_P(Exhaustive, AllFp32Inputs) {
  const auto& [name, mode, ovf] = GetParam();
  const ElemFormat f = parse_elem_format(name);
  const mx_oracle::Table table(mx_oracle::format_by_name(name));
  const RoundSpec spec{mode, ovf, 0};
  BlockSpec bs;
  bs.format.elem = f;
  bs.format.block_size = 0;
  bs.round = spec;
  const F32Grid grid = make_f32_grid(f, 0, spec);
  std::vector<float> value_of_code(std::size_t{1} << f.bits);
  for (std::uint32_t c = 0; c < value_of_code.size(); ++c)
    value_of_code[c] = static_cast<float>(decode(f, c));

  constexpr std::uint32_t kChunk = 1u << 20;
  std::vector<std::uint32_t> want(kChunk), codes(kChunk);
  std::vector<float> x(kChunk), y(kChunk), yv(kChunk);
  const int generic_stride = f.is_scale() ? 1 : 61;
  const bool check_scalar = mode == Rounding::kNearestEven || mode == Rounding::kTowardZero;
  std::uint64_t failures = 0;
  for (std::uint64_t first = 0; first < (std::uint64_t{1} << 32); first += kChunk) {
    const auto f32 = static_cast<std::uint32_t>(first);
    mx_oracle::fill_expected_codes(table, test::oracle_mode(mode), test::oracle_overflow(ovf), f32,
                                   kChunk, want.data());
    for (std::uint32_t i = 0; i < kChunk; ++i) x[i] = std::bit_cast<float>(f32 + i);
    if (!f.is_scale()) {
      // The production path (vector kernel where the CPU has AVX2) and, for two modes, the
      // scalar kernel too (the others are covered by simd_test's random comparison; this
      // keeps the label inside CI's budget).
      quantize_elems_f32(bs, x.data(), kChunk, y.data(), codes.data(), 0);
      if (check_scalar) scalar_kernel(grid, mode, x.data(), kChunk, yv.data());
      for (std::uint32_t i = 0; i < kChunk; ++i) {
        if (codes[i] != want[i] || !test::same_float(y[i], value_of_code[want[i]]) ||
            (check_scalar && !test::same_float(yv[i], y[i]))) {
          if (failures++ < 10)
            ADD_FAILURE() << name << " x=0x" << std::hex << (f32 + i) << " code 0x" << codes[i]
                          << " want 0x" << want[i] << std::dec << " y=" << y[i];
        }
      }
    }
    for (std::uint32_t i = (f32 / kChunk) % static_cast<std::uint32_t>(generic_stride); i < kChunk;
         i += static_cast<std::uint32_t>(generic_stride)) {
      const std::uint32_t c = encode(f, static_cast<double>(x[i]), spec);
      if (c != want[i] && failures++ < 10)
        ADD_FAILURE() << name << " generic x=0x" << std::hex << (f32 + i) << " code 0x" << c
                      << " want 0x" << want[i];
    }
    if (failures > 10) break;
  }
  EXPECT_EQ(failures, 0u);
}

std::vector<Param> params() {
  std::vector<Param> p;
  for (const char* n : {"e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "fp16", "bf16", "e8m0"}) {
    for (Rounding r : test::deterministic_modes()) p.emplace_back(n, r, Overflow::kSaturate);
    // The overflow policy only matters for formats with NaN or Inf.
    if (parse_elem_format(n).has_nan())
      p.emplace_back(n, Rounding::kNearestEven, Overflow::kToNanOrInf);
  }
  return p;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, Exhaustive, ::testing::ValuesIn(params()),
                         [](const auto& pinfo) {
                           std::string s = std::get<0>(pinfo.param) + "_" +
                                           std::string(rounding_name(std::get<1>(pinfo.param))) +
                                           "_" +
                                           std::string(overflow_name(std::get<2>(pinfo.param)));
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
}  // namespace mx
