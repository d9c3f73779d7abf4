#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/mx_format.hpp"

namespace mx {
namespace {

TEST(Catalog, AliasesAndGenericNames) {
  EXPECT_EQ(parse_elem_format("fp8_e4m3"), kE4M3);
  EXPECT_EQ(parse_elem_format("float8_e4m3fn"), kE4M3);
  EXPECT_EQ(parse_elem_format("fp4"), kE2M1);
  const ElemFormat g = parse_elem_format("e3m4");
  EXPECT_EQ(g.bits, 8);
  EXPECT_EQ(g.bias, 3);
  EXPECT_EQ(g.nonfinite, Nonfinite::kFiniteOnly);
  EXPECT_EQ(parse_elem_format("e5m2ieee").nonfinite, Nonfinite::kIeee);
  EXPECT_EQ(parse_elem_format("e4m3fn").nonfinite, Nonfinite::kNanOnly);
  // A generic spelling of a catalogue layout is the same descriptor.
  EXPECT_EQ(parse_elem_format("e5m10ieee"), kFp16);
  const ElemFormat i4 = parse_elem_format("int4");
  EXPECT_EQ(i4.int_scale_exp, -2);
  EXPECT_EQ(i4.emax(), 0);
}

TEST(Catalog, BadNamesThrowNamingThem) {
  for (const char* bad : {"e9m2", "e0m3", "e4m24", "int1", "int17", "fp9", "", "e4m", "mxfoo"}) {
    try {
      parse_mx_format(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad), std::string::npos) << e.what();
    }
  }
}

TEST(Catalog, MxNames) {
  EXPECT_EQ(parse_mx_format("mxfp8_e4m3").elem, kE4M3);
  EXPECT_EQ(parse_mx_format("mxint8").elem, kInt8);
  EXPECT_EQ(parse_mx_format("mxint4").elem.bits, 4);
  EXPECT_EQ(parse_mx_format("mxe3m4").elem.man_bits, 4);
  EXPECT_EQ(parse_mx_format("nvfp4").block_size, 16);
  EXPECT_EQ(parse_mx_format("e4m3").block_size, 0);
  EXPECT_THROW(parse_mx_format("mxe8m0"), FormatError);
}

}  // namespace
}  // namespace mx
