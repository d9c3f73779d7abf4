// AccumModel's tables (emulator/accum_model.hpp): the presets are canonical, the string form
// is lossless (parse(to_string(m)) == m for every preset and for thousands of random valid
// models drawn from the field table's domains), one changed field changes the string, and
// the errors and the help text list the valid keys, values and presets.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "emulator/accum_model.hpp"
#include "formats/catalog.hpp"

namespace mx {
namespace {

std::string error_of(const std::string& s) {
  try {
    parse_accum_model(s);
  } catch (const AccumModelError& e) {
    return e.what();
  }
  return "";
}

bool is_valid(const AccumModel& m) {
  try {
    validate(m);
    return true;
  } catch (const AccumModelError&) {
    return false;
  }
}

// A random model: a random kind, then a random value from each applicable field's domain.
AccumModel random_model(std::mt19937_64& rng) {
  AccumModel m;
  m.kind = static_cast<AccumKind>(rng() % 3);
  for (const AccumField& f : accum_fields())
    if (f.applies(m.kind) && rng() % 3 != 0) f.set(m, f.sample(rng));
  return m;
}

TEST(AccumModelTable, PresetsAreCanonicalAndRoundTrip) {
  std::set<std::string> names;
  for (const AccumPreset& p : accum_presets()) {
    EXPECT_TRUE(names.insert(std::string(p.name)).second) << p.name;
    const AccumModel d = parse_accum_model(p.descriptor);
    EXPECT_EQ(to_string(d), p.descriptor) << p.name << ": the table's descriptor is not canonical";
    EXPECT_EQ(parse_accum_model(p.name), d) << p.name;
    EXPECT_EQ(parse_accum_model(to_string(d)), d) << p.name;
    for (const auto a : p.aliases) {
      EXPECT_TRUE(names.insert(std::string(a)).second) << a;
      EXPECT_EQ(parse_accum_model(a), d) << a;
    }
    EXPECT_FALSE(p.evidence.empty()) << p.name;
  }
  // Written out independently of the table: the values of results/HARDWARE.md.
  const AccumModel mma = parse_accum_model("h100-mma-fp8");
  EXPECT_EQ(mma.kind, AccumKind::kFused);
  EXPECT_EQ(mma.k, 16);
  EXPECT_EQ(mma.split, 2);
  EXPECT_EQ(mma.gran, 2);
  EXPECT_EQ(mma.w, 25);
  EXPECT_EQ(mma.step_round, Rounding::kTowardZero);
  EXPECT_TRUE(mma.conv && *mma.conv == kFp16);
  EXPECT_EQ(mma.c_entry, CEntry::kPromote);
  EXPECT_EQ(mma.promote_every, 32);
  const AccumModel fast = parse_accum_model("h100-cublas-fp8-fast");
  EXPECT_EQ(fast.k, 32);
  EXPECT_EQ(fast.w, 13);
  EXPECT_EQ(fast.acc, parse_elem_format("e8m13ieee"));
  EXPECT_EQ(fast.promote_every, 0);
  EXPECT_EQ(parse_accum_model("h100-wgmma").promote_every, 128);
  EXPECT_EQ(parse_accum_model("exact"), AccumModel{});
  const AccumModel bf = parse_accum_model("h100-mma-bf16");
  EXPECT_TRUE(bf.overflow_inf && bf.zero_positive);
  AccumModel fp16 = parse_accum_model("h100-mma-fp16");
  EXPECT_FALSE(fp16.overflow_inf || fp16.zero_positive);
  fp16.overflow_inf = fp16.zero_positive = true;
  EXPECT_EQ(fp16, bf);
}

// The live bug of issue 15: the output rounding was dropped from the string of exact.
TEST(AccumModelTable, OutputRoundingIsPartOfTheString) {
  const AccumModel tz = parse_accum_model("exact:out-round=toward-zero");
  EXPECT_EQ(tz.out_round.mode, Rounding::kTowardZero);
  EXPECT_NE(to_string(tz), to_string(parse_accum_model("exact")));
  EXPECT_EQ(parse_accum_model(to_string(tz)), tz);
  EXPECT_NE(parse_accum_model(to_string(tz)), AccumModel{});
  EXPECT_EQ(to_string(parse_accum_model("exact:out=bf16,out-round=toward-zero")),
            "exact:out=bf16,out-round=toward-zero");
  // Equal formats print alike, whatever their spelling.
  EXPECT_EQ(to_string(parse_accum_model("fused:acc=e8m23ieee,promote-acc=float")),
            to_string(parse_accum_model("fp32-seq")));
}

// Property: thousands of random valid models from the tables' domains round-trip, and
// changing any one applicable field to another valid value changes the string.
TEST(AccumModelTable, RandomModelsRoundTrip) {
  std::mt19937_64 rng(20261207);
  int valid = 0, changed = 0;
  for (int i = 0; i < 20000 && valid < 4000; ++i) {
    const AccumModel m = random_model(rng);
    if (!is_valid(m)) continue;
    ++valid;
    const std::string s = to_string(m);
    const AccumModel r = parse_accum_model(s);
    ASSERT_EQ(r, m) << s;
    ASSERT_EQ(to_string(r), s);
    for (const AccumField& f : accum_fields()) {
      if (!f.applies(m.kind)) continue;
      AccumModel n = m;
      f.set(n, f.sample(rng));
      if (n == m || !is_valid(n)) continue;
      ++changed;
      ASSERT_NE(to_string(n), s) << f.key << " changed but the string did not";
      ASSERT_EQ(parse_accum_model(to_string(n)), n) << to_string(n);
    }
  }
  EXPECT_GE(valid, 4000);
  EXPECT_GE(changed, 10000);
}

TEST(AccumModelTable, FieldsOfOtherKindsMustKeepTheirDefaults) {
  AccumModel m;  // exact
  m.k = 4;
  EXPECT_THROW(validate(m), AccumModelError);
  AccumModel p = parse_accum_model("pairwise");
  p.c_entry = CEntry::kFirst;
  EXPECT_THROW(validate(p), AccumModelError);
  AccumModel o;
  o.out_round.overflow = Overflow::kSaturate;  // not a field: would be lost
  EXPECT_THROW(validate(o), AccumModelError);
}

TEST(AccumModelTable, ErrorsListTheValidKeysAndValues) {
  EXPECT_NE(error_of("fused:bogus=1").find("k, split, gran, w"), std::string::npos);
  EXPECT_NE(error_of("exact:k=2").find("out, out-round"), std::string::npos);
  EXPECT_NE(error_of("fused:c=middle").find("end | first | promote"), std::string::npos);
  EXPECT_NE(error_of("fused:round=stochastic").find("toward-zero"), std::string::npos);
  EXPECT_NE(error_of("fused:k=0").find("k=0"), std::string::npos);
  const std::string head = error_of("h200-magic");
  EXPECT_NE(head.find("h200-magic"), std::string::npos);
  for (const auto n : accum_preset_names()) EXPECT_NE(head.find(n), std::string::npos) << n;
}

TEST(AccumModelTable, HelpAndAttributesCoverEveryFieldAndPreset) {
  const std::string help = accum_help();
  for (const AccumField& f : accum_fields())
    EXPECT_NE(help.find("  " + std::string(f.key) + " "), std::string::npos) << f.key;
  for (const AccumPreset& p : accum_presets()) {
    EXPECT_NE(help.find(p.name), std::string::npos) << p.name;
    EXPECT_NE(help.find(p.descriptor), std::string::npos) << p.name;
  }
  const auto attrs = accum_attributes(parse_accum_model("h100-mma"));
  ASSERT_EQ(attrs.size(), accum_fields().size() + 1);
  EXPECT_EQ(attrs[0], (std::pair<std::string, std::string>{"kind", "fused"}));
  std::set<std::string> names;
  for (const auto& [n, v] : attrs) EXPECT_TRUE(names.insert(n).second) << n;
  EXPECT_TRUE(names.count("out_round"));
  EXPECT_TRUE(names.count("k"));
}

}  // namespace
}  // namespace mx
