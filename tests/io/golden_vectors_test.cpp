// mxlab golden: every expected output equals the independent oracle's dot product under the
// same model (written out literally here), and the hex and HDF5 files carry exactly the
// cases' fields.
#include <unistd.h>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "emulator/io/golden.hpp"
#include "emulator/io/tensor_io.hpp"
#include "formats/codec.hpp"
#include "tests/oracle/oracle_dot.hpp"

namespace mx {
namespace {

GoldenSpec spec_for(const char* fmt, const char* accum) {
  GoldenSpec s;
  s.a.format = parse_mx_format(fmt);
  s.b.format = s.a.format;
  s.model = parse_accum_model(accum);
  s.cases = 24;
  s.k = 64;
  s.seed = 3;
  return s;
}

// h100-mma written field by field from results/GOLDEN_VECTORS.md, for the oracle.
mx_oracle::DotModel oracle_h100_mma() {
  mx_oracle::DotModel m;
  m.kind = mx_oracle::DotModel::Kind::kFused;
  m.k = 16;
  m.split = 2;
  m.gran = 2;
  m.w = 25;
  m.acc = "fp32";
  m.step = mx_oracle::Mode::kTowardZero;
  m.conv = "fp16";
  m.c_entry = mx_oracle::DotModel::CEntry::kPromote;
  m.promote_every = 32;
  return m;
}

TEST(GoldenVectors, ExpectedOutputsMatchTheOracle) {
  struct Case {
    const char* fmt;
    const char* accum;
    mx_oracle::DotModel model;
  };
  const std::vector<Case> cases = {{"mxfp8_e4m3", "exact", mx_oracle::DotModel{}},
                                   {"mxfp4_e2m1", "exact", mx_oracle::DotModel{}},
                                   {"mxfp8_e4m3", "h100-mma", oracle_h100_mma()}};
  for (const Case& c : cases) {
    const GoldenSpec spec = spec_for(c.fmt, c.accum);
    const auto golden = make_golden(spec);
    ASSERT_EQ(golden.size(), spec.cases);
    for (const GoldenCase& g : golden) {
      mx_oracle::DotInput in;
      in.a_fmt = in.b_fmt = std::string(spec.a.format.elem.name_view());
      in.a = g.a_codes;
      in.b = g.b_codes;
      in.sa = g.a_scales;
      in.sb = g.b_scales;
      in.block = spec.a.format.block_size;
      in.c = g.c;
      EXPECT_EQ(g.expected, mx_oracle::dot(c.model, in))
          << c.fmt << " " << c.accum << " " << g.kind;
    }
  }
}

TEST(GoldenVectors, HexAndHdf5CarryTheCases) {
  const GoldenSpec spec = spec_for("mxfp4_e2m1", "exact");
  const auto golden = make_golden(spec);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mxlab_golden_vectors_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_golden_hex((dir / "v.hex").string(), spec, golden, "test");
  write_golden_h5((dir / "v.h5").string(), spec, golden, "test");
  // Hex: skip the // comment lines, then one word per case, fields from bit 0.
  std::ifstream in(dir / "v.hex");
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("//")) continue;
    ASSERT_LT(i, golden.size());
    const GoldenCase& g = golden[i++];
    std::size_t pos = 0;
    auto get = [&](int width) {
      std::uint64_t v = 0;
      for (int b = 0; b < width; ++b, ++pos) {
        const char ch = line[line.size() - 1 - pos / 4];
        const unsigned nib = static_cast<unsigned>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
        v |= static_cast<std::uint64_t>((nib >> (pos % 4)) & 1) << b;
      }
      return v;
    };
    for (std::uint32_t code : g.a_codes) ASSERT_EQ(get(4), code);
    for (std::uint8_t s : g.a_scales) ASSERT_EQ(get(8), s);
    for (std::uint32_t code : g.b_codes) ASSERT_EQ(get(4), code);
    for (std::uint8_t s : g.b_scales) ASSERT_EQ(get(8), s);
    ASSERT_EQ(get(32), std::bit_cast<std::uint32_t>(g.c));
    ASSERT_EQ(get(32), g.expected);
  }
  EXPECT_EQ(i, golden.size());
  // HDF5: the inputs and the expected values, read back through the tensor reader.
  const Tensor a = read_tensor((dir / "v.h5").string() + ":/a");
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{spec.cases, spec.k}));
  const Tensor ev = read_tensor((dir / "v.h5").string() + ":/expected_value");
  for (std::size_t c = 0; c < golden.size(); ++c) {
    for (std::size_t j = 0; j < spec.k; ++j)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(a.f32[c * spec.k + j]),
                std::bit_cast<std::uint32_t>(golden[c].a[j]));
    const double want = decode(spec.model.out, golden[c].expected);
    ASSERT_TRUE(ev.f64[c] == want || (std::isnan(want) && std::isnan(ev.f64[c])));
  }
}

}  // namespace
}  // namespace mx
