// The accumulator model on the command line: --rounding / --output-format / --promote-every
// against the same keys in --accum (a conflict is a usage error naming both, a flag alone
// sets the field), the golden files record the whole model (canonical descriptor and one
// attribute per field), and `mxlab accum` prints the tables.
#include <hdf5.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "emulator/accum_model.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace mx {
namespace {

namespace fs = std::filesystem;
using test::CmdResult;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The case lines of a hex file (its comments name the model and so differ).
std::vector<std::string> hex_cases(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("//", 0) != 0) out.push_back(line);
  return out;
}

std::string h5_attr(const fs::path& p, const std::string& name) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return "<no file>";
  std::string v = "<no attribute>";
  const hid_t a = H5Aopen(f, name.c_str(), H5P_DEFAULT);
  if (a >= 0) {
    const hid_t t = H5Aget_type(a);
    std::vector<char> buf(H5Tget_size(t) + 1, '\0');
    H5Aread(a, t, buf.data());
    v = buf.data();
    H5Tclose(t);
    H5Aclose(a);
  }
  H5Fclose(f);
  return v;
}

std::string stdout_of(const std::string& args) {
  std::string out;
  FILE* p = popen((std::string(MXLAB_BIN) + " " + args + " 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

class AccumCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::fresh_test_dir("accum_cli"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string p(const std::string& name) const { return (dir_ / name).string(); }
  // mxlab golden with `extra` flags into NAME.h5 and NAME.hex.
  CmdResult golden(const std::string& name, const std::string& extra) const {
    return test::run_mxlab("golden --format mxfp8_e4m3 --cases 40 --k 32 --seed 5 " + extra +
                               " --output " + p(name + ".h5") + " --hex " + p(name + ".hex"),
                           "accum_cli");
  }
  fs::path dir_;
};

// The live bug of issue 15: out-round= was overridden by --rounding's default, so these
// vectors were byte-identical to exact's.
TEST_F(AccumCli, GoldenHonoursOutRound) {
  ASSERT_EQ(golden("exact", "--accum exact").status, 0);
  ASSERT_EQ(golden("tz", "--accum exact:out-round=toward-zero").status, 0);
  ASSERT_EQ(golden("flag", "--accum exact --rounding toward-zero").status, 0);
  const auto exact = hex_cases(p("exact.hex")), tz = hex_cases(p("tz.hex"));
  ASSERT_EQ(exact.size(), 40u);
  ASSERT_EQ(tz.size(), 40u);
  EXPECT_NE(exact, tz) << "out-round=toward-zero gave exact's vectors";
  EXPECT_EQ(hex_cases(p("flag.hex")), tz) << "--rounding alone must set out-round";
  EXPECT_NE(read_text(p("exact.h5")), read_text(p("tz.h5")));
  // The rounding is recorded: in the canonical descriptor and in its own attribute.
  for (const char* f : {"tz", "flag"}) {
    EXPECT_EQ(h5_attr(p(std::string(f) + ".h5"), "accum"), "exact:out=fp32,out-round=toward-zero");
    EXPECT_EQ(h5_attr(p(std::string(f) + ".h5"), "accum_out_round"), "toward-zero");
    EXPECT_NE(read_text(p(std::string(f) + ".hex")).find("out-round=toward-zero"),
              std::string::npos);
  }
  EXPECT_EQ(h5_attr(p("exact.h5"), "accum_out_round"), "nearest-even");
  EXPECT_NE(h5_attr(p("flag.h5"), "provenance").find("--rounding toward-zero"), std::string::npos);
}

// Every field is an attribute, and the descriptor parses back to the model.
TEST_F(AccumCli, GoldenStoresEveryField) {
  ASSERT_EQ(golden("mma", "--accum h100-mma:out=bf16").status, 0);
  const std::string d = h5_attr(p("mma.h5"), "accum");
  EXPECT_EQ(parse_accum_model(d), parse_accum_model("h100-mma:out=bf16")) << d;
  const AccumModel m = parse_accum_model(d);
  for (const auto& [name, value] : accum_attributes(m))
    EXPECT_EQ(h5_attr(p("mma.h5"), "accum_" + name), value) << name;
  EXPECT_EQ(h5_attr(p("mma.h5"), "accum_k"), "16");
  EXPECT_EQ(h5_attr(p("mma.h5"), "accum_conv"), "fp16");
  EXPECT_EQ(h5_attr(p("mma.h5"), "accum_out"), "bf16");
  EXPECT_EQ(h5_attr(p("mma.h5"), "output_format"), "bf16");
}

TEST_F(AccumCli, ConflictingFlagsAreUsageErrors) {
  const std::string out = " --output " + p("out.h5");
  const std::string gold = "golden --format mxfp8_e4m3 --cases 4";
  const std::string gemm = "gemm --a " + p("a.npy") + " --b " + p("b.npy") +
                           " --format mxfp8_e4m3 --output " + p("out.h5");
  struct Case {
    std::string args, culprit1, culprit2;
  };
  const std::vector<Case> cases = {
      {gold + " --accum exact:out-round=toward-zero --rounding nearest-even" + out,
       "--rounding nearest-even", "out-round=toward-zero"},
      {gemm + " --accum exact:out-round=toward-zero --rounding odd", "--rounding odd",
       "out-round=toward-zero"},
      {gold + " --accum fused:out=bf16 --output-format fp16" + out, "--output-format fp16",
       "out=bf16"},
      {gold + " --accum h100-wgmma:promote=256 --promote-every 128" + out, "--promote-every 128",
       "promote=256"},
  };
  for (const Case& c : cases) {
    const CmdResult r = test::run_mxlab(c.args, "accum_cli");
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.culprit1), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.culprit2), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(p("out.h5")));
  }
  // The same value twice is no conflict; a preset's own out-round is not an explicit one.
  EXPECT_EQ(golden("same", "--accum exact:out-round=odd --rounding odd").status, 0);
  EXPECT_EQ(golden("preset", "--accum h100-mma --rounding toward-zero").status, 0);
  EXPECT_EQ(h5_attr(p("preset.h5"), "accum_out_round"), "toward-zero");
  // Errors in --accum name the flag.
  test::expect_clean_failure(gold + " --accum fused:k=0" + out, 1, "--accum: k=0", p("out.h5"),
                             "accum_cli");
}

TEST_F(AccumCli, ListAndDescribe) {
  const std::string list = stdout_of("accum --list");
  EXPECT_EQ(list, accum_help());
  EXPECT_EQ(stdout_of("accum"), list);
  for (const auto n : accum_preset_names()) EXPECT_NE(list.find(n), std::string::npos) << n;
  const std::string d = stdout_of("accum --describe h100-mma-bf16");
  EXPECT_NE(d.find("descriptor: " + to_string(parse_accum_model("h100-mma-bf16"))),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("zero"), std::string::npos);
  test::expect_clean_failure("accum --describe h200", 1, "--describe", p("none"), "accum_cli");
  // The --accum help of gemm names every preset from the same table.
  const std::string help = stdout_of("gemm --help");
  for (const auto n : accum_preset_names()) EXPECT_NE(help.find(n), std::string::npos) << n;
}

}  // namespace
}  // namespace mx
