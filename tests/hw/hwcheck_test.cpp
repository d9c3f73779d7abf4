// Hardware captures (tools/hw/probe.py) against the accumulator models: the committed H100
// subset (tests/data/hw/h100_probe.h5, provenance inside) agrees 100 % with each preset on
// every data kind, the nearest wrong models do not, and bad input gives one error line.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <hdf5.h>

#include "emulator/accum_model.hpp"
#include "experiments/hw/hwcheck.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

const std::string kCapture = std::string(MX_HW_DATA_DIR) + "/h100_probe.h5";

// Agreement of `model` with every group whose name contains `filter`: (match, total).
std::pair<std::size_t, std::size_t> agree(const ProbeFile& pf, const std::string& filter,
                                          const std::string& model,
                                          std::vector<KindAgreement>* rows = nullptr) {
  const AccumModel m = parse_accum_model(model);
  std::size_t match = 0, total = 0;
  for (const ProbeGroup& g : pf.groups) {
    if (g.name.find(filter) == std::string::npos) continue;
    for (const KindAgreement& r : hwcheck(g, m, 2)) {
      match += r.match;
      total += r.total;
      if (rows) rows->push_back(r);
    }
  }
  return {match, total};
}

class HwCapture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pf_ = new ProbeFile(read_probe(kCapture)); }
  static void TearDownTestSuite() { delete pf_; }
  static ProbeFile* pf_;
};
ProbeFile* HwCapture::pf_ = nullptr;

TEST_F(HwCapture, FileHasProvenanceAndAllProbes) {
  EXPECT_EQ(pf_->layout, kHwProbeLayout);
  EXPECT_NE(pf_->provenance.find("H100"), std::string::npos);
  EXPECT_NE(pf_->provenance.find("HMMA.16816.F32"), std::string::npos);
  EXPECT_NE(pf_->provenance.find("F2FP.F16.E4M3.UNPACK_B"), std::string::npos);
  for (const char* g : {"mma_e4m3_k32", "mma_e5m2_k128", "mma_fp16_k16", "mma_bf16_k64",
                        "cublas_e4m3_e4m3_default_k4096", "cublas_e4m3_e4m3_fast_k32",
                        "cublas_e4m3_e5m2_default_k1024"}) {
    bool found = false;
    for (const auto& grp : pf_->groups) found = found || grp.name.find(g) == 0;
    EXPECT_TRUE(found) << g;
  }
}

// Every preset, every data kind, bit for bit.
TEST_F(HwCapture, PresetsAgreeBitForBit) {
  const std::pair<const char*, const char*> cases[] = {
      {"mma_e4m3", "h100-mma"},
      {"mma_e5m2", "h100-mma"},
      {"_default_", "h100-wgmma"},
      {"_fast_", "h100-wgmma-fast"},
      {"mma_fp16", "fused:k=16,w=25,round=toward-zero,c=first"},
      // The same presets under the names of the issue.
      {"mma_e4m3", "h100-mma-fp8"},
      {"mma_e5m2", "h100-mma-fp8"},
      {"_default_", "h100-cublas-fp8"},
      {"_fast_", "h100-cublas-fp8-fast"},
      {"mma_fp16", "h100-mma-fp16"},
      {"mma_bf16", "h100-mma-bf16"},
  };
  for (const auto& [filter, model] : cases) {
    std::vector<KindAgreement> rows;
    const auto [match, total] = agree(*pf_, filter, model, &rows);
    EXPECT_GT(total, 1000u) << filter;
    for (const auto& r : rows)
      EXPECT_EQ(r.match, r.total) << model << " on " << r.group << " / " << r.kind << " worst ulp "
                                  << r.worst_ulp;
  }
}

// cuBLAS with NaN / Inf operands and single non-zero products (a second capture, probe.py
// --skip-mma --seed 7, cut to those two kinds): the same presets, bit for bit.
TEST(HwCaptureSpecials, CublasPresetsAgreeOnNanInfAndSingleProducts) {
  const ProbeFile pf = read_probe(std::string(MX_HW_DATA_DIR) + "/h100_cublas_specials.h5");
  std::size_t nonfinite = 0;
  for (const ProbeGroup& g : pf.groups)
    for (const std::uint32_t d : g.d) nonfinite += (d & 0x7f800000u) == 0x7f800000u;
  EXPECT_GT(nonfinite, 500u);  // the NaN/Inf kind really reaches the outputs
  for (const auto& [filter, model] :
       {std::pair{"_default_", "h100-cublas-fp8"}, std::pair{"_fast_", "h100-cublas-fp8-fast"}}) {
    std::vector<KindAgreement> rows;
    const auto [match, total] = agree(pf, filter, model, &rows);
    EXPECT_GT(total, 1000u) << filter;
    std::set<std::string> kinds;
    for (const auto& r : rows) {
      kinds.insert(r.kind);
      EXPECT_EQ(r.match, r.total) << model << " on " << r.group << " / " << r.kind << " worst ulp "
                                  << r.worst_ulp;
    }
    EXPECT_EQ(kinds, (std::set<std::string>{"nan_inf", "single"}));
  }
}

// bf16 mma.sync: the fp16 structure holds wherever products and sums stay inside fp32's
// range; beyond it the hardware returns Inf where toward-zero rounding gives the largest
// finite value, and +0 where an underflowed negative sum keeps its sign in the model. These
// are exactly the two options of h100-mma-bf16 (ovf=inf, zero=pos), and each is needed.
TEST_F(HwCapture, Bf16OutsideFp32RangeOnly) {
  const AccumModel m = parse_accum_model("fused:k=16,w=25,round=toward-zero,c=first");
  std::size_t inf_cases = 0, zero_cases = 0;
  for (const ProbeGroup& g : pf_->groups) {
    if (g.name.find("mma_bf16") != 0) continue;
    const auto d = model_outputs(g, m, 2);
    for (std::size_t j = 0; j < d.size(); ++j) {
      if (hw_match(g.d[j], d[j])) continue;
      const bool hw_inf = (g.d[j] & 0x7fffffffu) == 0x7f800000u;
      const bool zero_sign = g.d[j] == 0 && d[j] == 0x80000000u;
      inf_cases += hw_inf;
      zero_cases += zero_sign;
      EXPECT_TRUE(hw_inf || zero_sign)
          << g.name << " output " << j << std::hex << " hw " << g.d[j] << " model " << d[j];
    }
  }
  EXPECT_GT(inf_cases, 100u);
  EXPECT_GT(zero_cases, 0u);
  for (const char* one : {"h100-mma-bf16:ovf=ieee", "h100-mma-bf16:zero=sign"}) {
    const auto [match, total] = agree(*pf_, "mma_bf16", one);
    EXPECT_LT(match, total) << one;
  }
}

// The range options change nothing on the fp8 and fp16 captures: their products and sums
// stay inside the accumulator's range (model outputs identical, bit for bit).
TEST_F(HwCapture, RangeOptionsInertOnFp8AndFp16) {
  const std::pair<const char*, const char*> cases[] = {{"mma_e4m3", "h100-mma"},
                                                       {"mma_e5m2", "h100-mma"},
                                                       {"_default_", "h100-wgmma"},
                                                       {"_fast_", "h100-wgmma-fast"},
                                                       {"mma_fp16", "h100-mma-fp16"}};
  for (const auto& [filter, model] : cases) {
    const AccumModel ieee = parse_accum_model(model);
    const AccumModel ranged = parse_accum_model(std::string(model) + ":ovf=inf,zero=pos");
    for (const ProbeGroup& g : pf_->groups) {
      if (g.name.find(filter) == std::string::npos) continue;
      EXPECT_EQ(model_outputs(g, ieee, 2), model_outputs(g, ranged, 2)) << model << " " << g.name;
    }
  }
}

// The nearest wrong models disagree: agreement discriminates.
TEST_F(HwCapture, NearestWrongModelsDisagree) {
  const std::pair<const char*, const char*> wrong[] = {
      {"mma_e", "h100-mma:w=24"},
      {"mma_e", "h100-mma:w=26"},
      {"mma_e", "h100-mma:round=nearest-even"},
      {"mma_e", "h100-mma:k=32,split=1,gran=1"},
      {"mma_e", "h100-mma:c=first"},
      {"_default_", "h100-wgmma:w=14"},
      {"_default_", "h100-wgmma-fast"},
      {"_default_", "h100-wgmma:promote=256"},
      {"_fast_", "h100-wgmma-fast:w=12"},
      {"_fast_", "h100-wgmma-fast:acc=fp32"},
      {"_fast_", "h100-wgmma-fast:k=16"},
      {"mma_fp16", "fused:k=8,w=25,round=toward-zero,c=first"},
  };
  for (const auto& [filter, model] : wrong) {
    const auto [match, total] = agree(*pf_, filter, model);
    EXPECT_LT(match, total) << model;
  }
}

TEST(HwCheck, UlpDistance) {
  auto b = [](float x) { return std::bit_cast<std::uint32_t>(x); };
  EXPECT_EQ(ulp_distance(b(1.0f), b(1.0f)), 0u);
  EXPECT_EQ(ulp_distance(b(1.0f), b(std::nextafter(1.0f, 2.0f))), 1u);
  EXPECT_EQ(ulp_distance(b(0.0f), b(-0.0f)), 0u);
  EXPECT_EQ(ulp_distance(b(-1e-45f), b(1e-45f)), 2u);
  EXPECT_EQ(ulp_distance(0x7fc00000u, 0xffffffffu), 0u);  // NaN, NaN
  EXPECT_EQ(ulp_distance(0x7fc00000u, b(1.0f)), kNanMismatch);
  EXPECT_TRUE(hw_match(0x7fffffffu, 0x7fc00000u));
  EXPECT_FALSE(hw_match(0u, 0x80000000u));
}

// A synthetic capture made by a model agrees with that model only.
TEST(HwCheck, SyntheticGroup) {
  ProbeGroup g;
  g.name = "synthetic";
  g.format_a = g.format_b = "e4m3";
  g.kinds = {"only"};
  g.t = 3;
  g.m = 4;
  g.n = 2;
  g.k = 64;
  std::uint32_t s = 12345;
  auto next = [&] { return s = s * 1103515245u + 12345u, (s >> 16) & 0x7eu; };
  for (std::size_t i = 0; i < g.t * g.m * g.k; ++i) g.a.push_back(next() | (i & 0x80u));
  for (std::size_t i = 0; i < g.t * g.n * g.k; ++i) g.b.push_back(next());
  g.c.assign(g.t * g.m * g.n, 0.0f);
  g.kind.assign(g.t, 0);
  g.d = model_outputs(g, parse_accum_model("h100-wgmma-fast"), 1);
  const auto rows = hwcheck(g, parse_accum_model("h100-wgmma-fast"), 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].match, rows[0].total);
  EXPECT_EQ(rows[0].total, g.t * g.m * g.n);
  const auto exact = hwcheck(g, parse_accum_model("exact"), 1);
  EXPECT_LT(exact[0].match, exact[0].total);
}

TEST(HwCheck, BadFiles) {
  const fs::path dir = fs::temp_directory_path() / "mxlab_hwcheck_test";
  fs::create_directories(dir);
  EXPECT_THROW(read_probe((dir / "missing.h5").string()), HwCheckError);
  const std::string txt = (dir / "text.h5").string();
  std::ofstream(txt) << "not hdf5";
  EXPECT_THROW(read_probe(txt), HwCheckError);
  const std::string empty = (dir / "empty.h5").string();
  const hid_t f = H5Fcreate(empty.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Fclose(f);
  try {
    read_probe(empty);
    ADD_FAILURE() << "no throw";
  } catch (const HwCheckError& e) {
    EXPECT_NE(std::string(e.what()).find("layout"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_probe(kCapture, {"no-such-group"}), HwCheckError);
}

struct CmdResult {
  int status;
  std::string out, err;
};

CmdResult run(const std::string& args) {
  const fs::path dir = fs::temp_directory_path();
  // Per-process names: other test processes (and other checkouts) run at the same time.
  const std::string tag = std::to_string(::getpid());
  const std::string outf = (dir / ("mxlab_hwcheck_out_" + tag + ".txt")).string();
  const std::string errf = (dir / ("mxlab_hwcheck_err_" + tag + ".txt")).string();
  const int rc =
      std::system((std::string(MXLAB_BIN) + " " + args + " >" + outf + " 2>" + errf).c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(outf), slurp(errf)};
}

TEST(HwCheckCli, TableAndErrors) {
  const CmdResult ok = run("hwcheck --data " + kCapture + " --accum h100-mma --group mma_e4m3_k32");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("pair_gap"), std::string::npos);
  EXPECT_NE(ok.out.find("100.0000"), std::string::npos);
  const std::pair<const char*, const char*> bad[] = {
      {"--accum nosuch", "--accum"},
      {"--accum fused:k=0", "k=0"},
      {"--accum fused:k=16,w=0", "w="},
      {"--accum h100-mma --group nosuch", "--group"},
  };
  for (const auto& [args, needle] : bad) {
    const CmdResult r = run("hwcheck --data " + kCapture + " " + args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_NE(r.err.find(needle), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const CmdResult nofile = run("hwcheck --data /nonexistent/x.h5 --accum h100-mma");
  EXPECT_EQ(nofile.status, 1);
  EXPECT_NE(nofile.err.find("--data"), std::string::npos) << nofile.err;
}

}  // namespace
}  // namespace mx
