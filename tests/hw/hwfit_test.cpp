// hwfit (experiments/hw/hwfit.hpp): recovers each H100 preset from the committed capture
// (tests/data/hw/h100_probe.h5) stage by stage, recovers a model inside its space from data
// that model generated, rejects data from accumulators outside the space (stochastic
// rounding, chunked pairwise sums) naming the probe kinds left unexplained, and fails cleanly
// on bad input.
#include "experiments/hw/hwfit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>

#include "emulator/accum_model.hpp"
#include "emulator/dot.hpp"
#include "experiments/hw/hwcheck.hpp"
#include "formats/catalog.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

const std::string kCapture = std::string(MX_HW_DATA_DIR) + "/h100_probe.h5";

std::map<std::string, std::string> params(const AccumModel& m) {
  std::map<std::string, std::string> out = {{"ovf", "ieee"}, {"zero", "sign"}};
  const std::string s = to_string(m);
  std::size_t p = s.find(':') + 1;
  while (p < s.size()) {
    const auto q = s.find(',', p);
    const std::string kv = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
    out[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

std::pair<std::size_t, std::size_t> agreement(const ProbeFile& pf, const FitResult& r,
                                              const AccumModel& m) {
  std::size_t match = 0, total = 0;
  for (const ProbeGroup& g : pf.groups)
    if (std::find(r.groups.begin(), r.groups.end(), g.name) != r.groups.end())
      for (const KindAgreement& a : hwcheck(g, m, 2)) {
        match += a.match;
        total += a.total;
      }
  return {match, total};
}

class HwFitCapture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pf_ = new ProbeFile(read_probe(kCapture));
    fits_ = new std::vector<FitResult>(hwfit(*pf_, 2));
  }
  static void TearDownTestSuite() {
    delete fits_;
    delete pf_;
  }
  static ProbeFile* pf_;
  static std::vector<FitResult>* fits_;
};
ProbeFile* HwFitCapture::pf_ = nullptr;
std::vector<FitResult>* HwFitCapture::fits_ = nullptr;

// Each family's fit reproduces every output, as its preset does; where a parameter differs
// from the preset, the fit reports that the data cannot tell the two values apart.
TEST_F(HwFitCapture, RecoversEachPreset) {
  const std::map<std::string, std::string> preset_of = {
      {"mma.sync.m16n8k32.e4m3.f32", "h100-mma-fp8"},
      {"mma.sync.m16n8k32.e5m2.f32", "h100-mma-fp8"},
      {"mma.sync.m16n8k16.f16.f32", "h100-mma-fp16"},
      {"mma.sync.m16n8k16.bf16.f32", "h100-mma-bf16"},
      {"torch._scaled_mm use_fast_accum=False", "h100-cublas-fp8"},
      {"torch._scaled_mm use_fast_accum=True", "h100-cublas-fp8-fast"}};
  ASSERT_EQ(fits_->size(), preset_of.size());
  for (const FitResult& r : *fits_) {
    ASSERT_TRUE(preset_of.count(r.family)) << r.family;
    const std::string preset = preset_of.at(r.family);
    EXPECT_TRUE(r.ok) << r.family << ": " << r.failure;
    const auto [fm, ft] = agreement(*pf_, r, r.model);
    const auto [pm, pt] = agreement(*pf_, r, parse_accum_model(preset));
    EXPECT_EQ(fm, ft) << r.family;
    EXPECT_EQ(pm, pt) << preset;
    EXPECT_GT(ft, 5000u) << r.family;
    const auto fit = params(r.model), want = params(parse_accum_model(preset));
    for (const auto& [k, v] : want) {
      if (fit.at(k) == v) continue;
      const std::string alt = k + "=" + v;
      bool listed = false;
      for (const std::string& u : r.undistinguished)
        listed = listed || u.find(alt) != std::string::npos;
      EXPECT_TRUE(listed) << r.family << ": fitted " << k << "=" << fit.at(k) << ", preset " << alt
                          << " not reported as undistinguished";
    }
    // The stages read their targeted probes: the alignment stage pinned W from pair_gap.
    bool align = false;
    for (const FitStage& s : r.stages)
      if (s.name == "alignment" && s.probe.find("pair_gap") == 0 && s.match == s.total &&
          s.chosen.find("w=" + want.at("w") + ",") == 0)
        align = true;
    EXPECT_TRUE(align) << r.family;
  }
}

// The bf16 fit needs both range options, pinned by the targeted probes; fp16 leaves them open.
TEST_F(HwFitCapture, Bf16RangeOptionsFromTheProbes) {
  for (const FitResult& r : *fits_) {
    if (r.family == "mma.sync.m16n8k16.bf16.f32") {
      EXPECT_TRUE(r.model.overflow_inf);
      EXPECT_TRUE(r.model.zero_positive);
      EXPECT_TRUE(r.undistinguished.empty() ||
                  std::none_of(r.undistinguished.begin(), r.undistinguished.end(),
                               [](const std::string& u) {
                                 return u.find("ovf=") != std::string::npos ||
                                        u.find("zero=") != std::string::npos;
                               }));
    }
    if (r.family == "mma.sync.m16n8k16.f16.f32") {
      EXPECT_NE(std::find(r.undistinguished.begin(), r.undistinguished.end(), "ovf=inf"),
                r.undistinguished.end());
    }
  }
}

// ---- synthetic captures ---------------------------------------------------------------------

// The fp16 (or e4m3) groups of the capture with D replaced by `fn(group, tile, row, col)`.
template <typename Fn>
ProbeFile synthetic(const std::string& filter, Fn fn) {
  ProbeFile pf = read_probe(kCapture, {filter});
  pf.provenance = "synthetic (hwfit_test)";
  for (ProbeGroup& g : pf.groups)
    for (std::size_t t = 0; t < g.t; ++t)
      for (std::size_t r = 0; r < g.m; ++r)
        for (std::size_t c = 0; c < g.n; ++c) g.d[(t * g.m + r) * g.n + c] = fn(g, t, r, c);
  return pf;
}

// One dot product of tile t, row r, column c over indices [k0, k1) (operand tables cached:
// a 16-bit format's table is built once).
std::uint32_t run_dot(const AccumModel& m, const ProbeGroup& g, std::size_t t, std::size_t r,
                      std::size_t c, std::size_t k0, std::size_t k1, double cval) {
  static std::map<std::string, std::unique_ptr<OpTable>> tables;
  auto table = [&](const std::string& f) -> const OpTable& {
    const auto conv = m.kind == AccumKind::kFused ? m.conv : std::nullopt;
    const std::string key = f + "/" + (conv ? std::string(conv->name_view()) : "none");
    auto& p = tables[key];
    if (!p) p = std::make_unique<OpTable>(parse_elem_format(f), conv);
    return *p;
  };
  DotArgs a;
  a.a = g.a.data() + (t * g.m + r) * g.k + k0;
  a.b = g.b.data() + (t * g.n + c) * g.k + k0;
  a.k = k1 - k0;
  a.c = cval;
  DotScratch s;
  return dot(m, table(g.format_a), table(g.format_b), a, s);
}

float cval(const ProbeGroup& g, std::size_t t, std::size_t r, std::size_t c) {
  return g.c[(t * g.m + r) * g.n + c];
}

// A model inside the space, far from every preset: the fit finds an equivalent one.
TEST(HwFit, RecoversASyntheticModelInsideTheSpace) {
  const AccumModel truth = parse_accum_model(
      "fused:k=8,split=2,gran=1,w=20,terms=nearest-even,acc=e8m18ieee,round=nearest-even,c=end");
  const ProbeFile pf =
      synthetic("mma_e5m2", [&](const ProbeGroup& g, std::size_t t, std::size_t r, std::size_t c) {
        return run_dot(truth, g, t, r, c, 0, g.k, cval(g, t, r, c));
      });
  const auto fits = hwfit(pf, 2);
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_TRUE(fits[0].ok) << fits[0].failure;
  EXPECT_EQ(fits[0].model.w, 20);
  EXPECT_EQ(fits[0].model.acc.man_bits, 18);
  EXPECT_EQ(fits[0].model.k, 8);
  EXPECT_EQ(fits[0].model.split, 2);
  EXPECT_EQ(fits[0].model.step_round, Rounding::kNearestEven);
}

// Stochastic rounding of the exact sum: no deterministic model reproduces it.
TEST(HwFit, RejectsStochasticRounding) {
  std::mt19937_64 rng(3);
  const AccumModel up = parse_accum_model("exact:out-round=toward-positive");
  const AccumModel down = parse_accum_model("exact:out-round=toward-negative");
  const ProbeFile pf =
      synthetic("mma_fp16", [&](const ProbeGroup& g, std::size_t t, std::size_t r, std::size_t c) {
        return run_dot(rng() & 1 ? up : down, g, t, r, c, 0, g.k, cval(g, t, r, c));
      });
  const auto fits = hwfit(pf, 2);
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_FALSE(fits[0].ok);
  EXPECT_NE(fits[0].failure.find("unexplained probe kinds"), std::string::npos) << fits[0].failure;
  EXPECT_NE(fits[0].failure.find("pair_gap"), std::string::npos) << fits[0].failure;
}

// Pairwise sums of 4 consecutive products (fp32, RNE) added in order to C: a tree inside each
// chunk is outside the descriptor.
TEST(HwFit, RejectsChunkedPairwise) {
  const AccumModel tree = parse_accum_model("pairwise:acc=fp32,round=nearest-even");
  const ProbeFile pf =
      synthetic("mma_fp16", [&](const ProbeGroup& g, std::size_t t, std::size_t r, std::size_t c) {
        float acc = cval(g, t, r, c);
        for (std::size_t k0 = 0; k0 < g.k; k0 += 4)
          acc += std::bit_cast<float>(run_dot(tree, g, t, r, c, k0, k0 + 4, 0.0));
        return std::bit_cast<std::uint32_t>(acc);
      });
  const auto fits = hwfit(pf, 2);
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_FALSE(fits[0].ok) << to_string(fits[0].model);
  EXPECT_NE(fits[0].failure.find("no model in the space"), std::string::npos) << fits[0].failure;
}

// ---- command line ---------------------------------------------------------------------------

TEST(HwFitCli, DescriptorReportAndExpect) {
  const fs::path dir = test::fresh_test_dir("mxlab_hwfit");
  const fs::path report = dir / "fit.json";
  const auto r =
      test::run_mxlab("hwfit --data " + kCapture + " --group mma_fp16 --threads 2 --report " +
                          report.string() + " --expect h100-mma-fp16",
                      "hwfit_ok");
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(report);
  const auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["families"].size(), 1u);
  const auto& f = j["families"][0];
  EXPECT_TRUE(f["ok"].get<bool>());
  EXPECT_EQ(parse_accum_model(f["descriptor"].get<std::string>()).w, 25);
  EXPECT_GE(f["stages"].size(), 5u);
  EXPECT_FALSE(f["agreement"].empty());
}

TEST(HwFitCli, BadInputFailsCleanly) {
  const fs::path dir = test::fresh_test_dir("mxlab_hwfit");
  const fs::path report = dir / "fit.json";
  const std::string rep = " --report " + report.string();
  // A file of another layout (an HDF5 file without the probe's root attribute).
  const fs::path other = dir / "other.h5";
  {
    ProbeFile pf = read_probe(kCapture, {"mma_fp16_k16"});
    pf.layout = "something-else-v2";
    write_probe(other.string(), pf);
  }
  test::expect_clean_failure("hwfit --data " + other.string() + rep, 1, "layout", report, "hwfit1");
  test::expect_clean_failure("hwfit --data " + (dir / "none.h5").string() + rep, 1, "--data",
                             report, "hwfit2");
  const std::string data = "hwfit --data " + kCapture + " --group mma_fp16 --threads 2" + rep;
  test::expect_clean_failure(data + " --expect h100-nosuch", 1, "--expect", report, "hwfit3");
  test::expect_clean_failure(data + " --expect fused:k=0", 1, "k=0", report, "hwfit4");
  test::expect_clean_failure(data + " --expect fused:k=16,w=0", 1, "w=0", report, "hwfit5");
  test::expect_clean_failure(data + " --expect h100-mma-fp8", 1, "--expect", report, "hwfit6");
  test::expect_clean_failure("hwfit --data " + kCapture + " --group nosuch" + rep, 1, "--group",
                             report, "hwfit7");
  // Data from outside the model space: exit 1 naming the unexplained probe kinds.
  std::mt19937_64 rng(5);
  const AccumModel up = parse_accum_model("exact:out-round=toward-positive");
  const AccumModel down = parse_accum_model("exact:out-round=toward-negative");
  const fs::path outside = dir / "stochastic.h5";
  write_probe(outside.string(), synthetic("mma_fp16_k16", [&](const ProbeGroup& g, std::size_t t,
                                                              std::size_t r, std::size_t c) {
                return run_dot(rng() & 1 ? up : down, g, t, r, c, 0, g.k, cval(g, t, r, c));
              }));
  test::expect_clean_failure("hwfit --threads 2 --data " + outside.string() + rep, 1,
                             "unexplained probe kinds", report, "hwfit8");
}

}  // namespace
}  // namespace mx
