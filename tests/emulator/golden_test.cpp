// Conformance: the shared golden sets, bit for bit (NaN matches NaN).
//   ocp/          OCP-strict cases (default compat)
//   scale_rules/  floor / ceil / even / rceil cases
//   microxcaling/ microsoft/microxcaling cases (--compat microxcaling)
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator/io/tensor_io.hpp"
#include "emulator/quantize.hpp"
#include "formats/rounding.hpp"

namespace mx {
namespace {

std::string shared_dir() {
  if (const char* env = std::getenv("MXLAB_SHARED")) return env;
  return MX_SHARED_DIR;
}

// The microxcaling manifest spells formats and rounding modes its own way.
std::string format_name(const std::string& f) {
  if (f.rfind("mx", 0) == 0) return f;
  if (f == "int8" || f == "int4") return "mx" + f;
  return "mx" + f;  // fp8_e4m3 -> mxfp8_e4m3
}
Rounding rounding_of(const nlohmann::json& c) {
  if (c.contains("rounding")) return *parse_rounding(c["rounding"].get<std::string>());
  const std::string r = c["round"];
  if (r == "nearest") return Rounding::kNearestAway;
  if (r == "even") return Rounding::kNearestEven;
  if (r == "floor") return Rounding::kTowardZero;
  throw std::runtime_error("unknown microxcaling rounding " + r);
}

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  std::uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

void run_set(const std::string& set, Compat compat) {
  const std::string dir = shared_dir() + "/golden/" + set;
  std::ifstream mf(dir + "/manifest.json");
  ASSERT_TRUE(mf.good()) << "golden set not found: " << dir
                         << " (set MXLAB_SHARED to the shared/ folder)";
  const nlohmann::json manifest = nlohmann::json::parse(mf);
  ASSERT_GT(manifest.size(), 0u);
  int failed_cases = 0;
  for (const auto& c : manifest) {
    const std::string name = c["name"];
    const Tensor x = read_npy(dir + "/" + name + "/x.npy");
    const Tensor expect = read_npy(dir + "/" + name + "/y.npy");
    QuantizeOptions opt;
    opt.block.format = parse_mx_format(format_name(c["format"]));
    opt.block.format.block_size = c["block"].get<int>();
    if (c.contains("scale_rule"))
      opt.block.format.rule = *parse_scale_rule(c["scale_rule"].get<std::string>());
    opt.block.round.mode = rounding_of(c);
    opt.block.compat = compat;
    opt.axis = c["axis"].get<int>();
    Tensor y;
    quantize_tensor(opt, x, &y, nullptr, nullptr);
    ASSERT_EQ(y.f32.size(), expect.f32.size()) << name;
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < y.f32.size(); ++i)
      if (!same_bits(y.f32[i], expect.f32[i]) && bad++ == 0) first = i;
    if (bad) {
      ++failed_cases;
      ADD_FAILURE() << set << "/" << name << " (" << c.dump() << "): " << bad
                    << " mismatches, first at " << first << ": x=" << x.f32[first] << " got "
                    << y.f32[first] << " expected " << expect.f32[first];
    }
  }
  EXPECT_EQ(failed_cases, 0) << "of " << manifest.size() << " cases";
}

TEST(Golden, Ocp) { run_set("ocp", Compat::kOcp); }
TEST(Golden, ScaleRules) { run_set("scale_rules", Compat::kOcp); }
TEST(Golden, Microxcaling) { run_set("microxcaling", Compat::kMicroxcaling); }

}  // namespace
}  // namespace mx
