// Issue 21 at the command line: no crash, no silent loss, no raw bytes on any input of any
// command. One test (or group) per defect class, named DNN_..., each forking the built mxlab
// the way a user meets the defect, and a sweep over damaged files that checks that no message
// of any command holds a byte outside printable UTF-8.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <nlohmann/json.hpp>

#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "formats/message.hpp"
#include "tests/experiments/cli_util.hpp"
#include "tests/experiments/test_util.hpp"
#include "tests/model/st_writer.hpp"

namespace mx {
namespace {

namespace fs = std::filesystem;
using experiments::testing::Exit;
using ::testing::HasSubstr;

const fs::path kModel = fs::path(MX_SHARED_DIR) / "models/bytellama-7m";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), std::streamsize(s.size()));
}

// A version 1.0 .npy file with this header dict (padded as NumPy does) and data bytes.
std::string npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::string h = dict;
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xFF);
  out += static_cast<char>(h.size() >> 8);
  return out + h + std::string(data_bytes, '\0');
}

bool printable(const std::string& s) { return is_printable_utf8(s, /*allow_newline=*/true); }

class Rel : public ::testing::Test {
 protected:
  Exit mx(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    // Every run has a watchdog: a hang (a FIFO) fails the test instead of blocking ctest.
    args.insert(args.begin(), {"/usr/bin/timeout", "60", MXLAB_BIN});
    Exit e = experiments::testing::run(args, dir_ / fmt::format("log{}", n_++), env);
    EXPECT_NE(e.code, 124) << "timed out: " << fmt::format("{}", fmt::join(args, " "));
    EXPECT_TRUE(printable(e.err)) << "stderr not printable UTF-8: " << e.err;
    EXPECT_TRUE(printable(e.out)) << "stdout not printable UTF-8";
    return e;
  }
  // Bad input: exit 1, one line on stderr naming `culprit`.
  void fails(const std::vector<std::string>& args, const std::string& culprit, int code = 1) {
    const Exit e = mx(args);
    EXPECT_EQ(e.code, code) << fmt::format("{}", fmt::join(args, " ")) << "\n" << e.err;
    EXPECT_THAT(e.err, HasSubstr(culprit)) << fmt::format("{}", fmt::join(args, " "));
    if (code == 1) {
      EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    }
  }
  std::string p(const std::string& name) const { return dir_ / name; }
  void npy(const std::string& name, std::vector<std::size_t> shape, std::vector<float> v) {
    Tensor t;
    t.shape = std::move(shape);
    t.f32 = std::move(v);
    write_npy(p(name), t);
  }
  std::string small_sweep() {  // a complete result file of 8 points
    experiments::testing::write_text(p("c.toml"), R"([sweep]
formats = ["mxint8", "mxfp4_e2m1"]
block_sizes = [16, 32]
roundings = ["nearest-even", "toward-zero"]
[workloads.w]
kind = "laplace"
shape = [16, 64]
)");
    const Exit e = mx({"sweep", "--config", p("c.toml"), "--output", p("r.h5"), "--no-table"});
    EXPECT_EQ(e.code, 0) << e.err;
    return p("r.h5");
  }
  bool leftover_temps() const {
    for (const auto& e : fs::recursive_directory_iterator(dir_.path()))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
    return false;
  }
  experiments::testing::TempDir dir_{"rel"};
  int n_ = 0;
};

// HDF5 helpers that write what a damaged or hostile file may hold.
struct H5File {
  hid_t id;
  explicit H5File(const std::string& path, bool create = true)
      : id(create ? H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)
                  : H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {}
  ~H5File() { H5Fclose(id); }
};
// A chunked dataset of `dims` (no data written: chunks read as fill values).
void chunked_dataset(hid_t loc, const char* name, hid_t type, std::vector<hsize_t> dims) {
  std::vector<hsize_t> maxd(dims.size(), H5S_UNLIMITED), chunk(dims.size(), 1);
  hid_t s = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxd.data());
  hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(pl, static_cast<int>(dims.size()), chunk.data());
  hid_t d = H5Dcreate2(loc, name, type, s, H5P_DEFAULT, pl, H5P_DEFAULT);
  ASSERT_GE(d, 0) << name;
  H5Dclose(d);
  H5Pclose(pl);
  H5Sclose(s);
}

// ---- 1. memory corruption from a result file: /points of rank 2 -------------------------

TEST_F(Rel, D01_ResultFileWithPointsOfRank2IsRefused) {
  const std::string r = small_sweep();
  {
    H5File f(r, false);
    hid_t d = H5Dopen2(f.id, "points", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    H5Dclose(d);
    H5Ldelete(f.id, "points", H5P_DEFAULT);
    chunked_dataset(f.id, "points", t, {8, 3});
    H5Tclose(t);
  }
  fails({"table", "--input", r}, "/points: expected rank 1, got 2");
  fails({"sweep", "--config", p("c.toml"), "--output", r, "--resume"}, "expected rank 1");
}

// ---- 2. dims whose product overflows ------------------------------------------------------

TEST_F(Rel, D02_DatasetDimsThatOverflowAreRefused) {
  {
    H5File f(p("big.h5"));
    chunked_dataset(f.id, "x", H5T_IEEE_F32LE, {1ull << 40, 1ull << 40, 1ull << 40});
  }
  npy("w.npy", {2, 4}, std::vector<float>(8, 1));
  fails({"quantize", "--input", p("big.h5") + ":/x", "--format", "mxint8", "--output", p("y.npy")},
        "overflows 64 bits");
  fails({"gemm", "--a", p("big.h5") + ":/x", "--b", p("w.npy"), "--format", "mxint8", "--output",
         p("c.npy")},
        "overflows 64 bits");
  fails({"ptq", "--weights", p("w.npy"), "--activations", p("big.h5") + ":/x", "--algorithm", "rtn",
         "--weight-format", "mxint8", "--report", p("r.json")},
        "overflows 64 bits");
  experiments::testing::write_text(p("s.toml"), fmt::format(R"([sweep]
formats = ["mxint8"]
block_sizes = [32]
[workloads.f]
kind = "file"
path = "{}"
)",
                                                            p("big.h5") + ":/x"));
  fails({"sweep", "--config", p("s.toml"), "--output", p("s.h5")}, "overflows 64 bits");
}

// ---- 3. empty tensors -----------------------------------------------------------------------

TEST_F(Rel, D03_EmptyTensorsQuantizeAndMultiply) {
  npy("e0.npy", {0}, {});
  npy("e40.npy", {4, 0}, {});
  for (const char* fmt_name : {"mxfp8_e4m3", "mxint8", "e4m3", "nvfp4"}) {
    for (const auto& [in, axis] :
         {std::pair{"e0.npy", "-1"}, std::pair{"e40.npy", "0"}, std::pair{"e40.npy", "-1"}}) {
      const Exit e = mx({"quantize", "--input", p(in), "--output", p("y.npy"), "--format", fmt_name,
                         "--axis", axis, "--codes-output", p("c.bin")});
      ASSERT_EQ(e.code, 0) << fmt_name << " " << in << " " << e.err;
      EXPECT_EQ(read_npy(p("y.npy")).shape, read_npy(p(in)).shape);
      EXPECT_EQ(fs::file_size(p("c.bin")), 0u);
    }
  }
  npy("a.npy", {2, 0}, {});
  npy("b.npy", {0, 3}, {});
  for (const char* f : {"mxfp8_e4m3", "mxfp4_e2m1", "e4m3"}) {
    const Exit e =
        mx({"gemm", "--a", p("a.npy"), "--b", p("b.npy"), "--format", f, "--output", p("c.npy")});
    ASSERT_EQ(e.code, 0) << f << " " << e.err;
    const Tensor c = read_npy(p("c.npy"));
    EXPECT_EQ(c.shape, (std::vector<std::size_t>{2, 3}));
    for (float v : c.f32) EXPECT_EQ(v, 0.0f);  // an empty sum
  }
}

// ---- 4. --threads bounds and threads that cannot start -----------------------------------

TEST_F(Rel, D04_ThreadsOutOfRangeAreErrors) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1));
  const std::vector<std::vector<std::string>> cmds = {
      {"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("y.npy")},
      {"gemm", "--a", p("x.npy"), "--b", p("x.npy"), "--format", "mxint8", "--output", p("y.npy")},
      {"sweep", "--output", p("s.h5")},
      {"hwcheck", "--data", p("none.h5"), "--accum", "exact"},
      {"hwfit", "--data", p("none.h5")},
      {"eval", "--model", kModel.string(), "--text", p("x.npy")}};
  for (auto c : cmds)
    for (const char* t : {"-1", "100000"}) {
      auto a = c;
      a.insert(a.end(), {"--threads", t});
      fails(a, "--threads");
    }
}

TEST_F(Rel, D04_AThreadThatCannotStartIsAnError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "address space limits do not apply under ASan";
#else
  npy("x.npy", {256, 64}, std::vector<float>(256 * 64, 1));
  // 1 GiB of address space: 400 threads of 8 MiB stacks cannot all start.
  const std::string cmd = fmt::format(
      "ulimit -v 1000000; {} quantize --input {} --format mxint8 --output {} --threads 400 "
      "2>{}",
      MXLAB_BIN, p("x.npy"), p("y.npy"), p("err.txt"));
  const int rc = std::system(("bash -c '" + cmd + "'").c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  const std::string err = slurp(p("err.txt"));
  if (WEXITSTATUS(rc) == 0) GTEST_SKIP() << "the system started 400 threads in 1 GiB";
  EXPECT_EQ(WEXITSTATUS(rc), 1) << err;
  EXPECT_THAT(err, HasSubstr("cannot start worker thread"));
  EXPECT_FALSE(fs::exists(p("y.npy")));
#endif
}

// ---- 5. two writers on one sweep output; duplicates ----------------------------------------

TEST_F(Rel, D05_SecondSweepOnTheSameOutputFailsAtOnce) {
  experiments::testing::write_text(p("slow.toml"), R"([sweep]
formats = ["mxint8", "mxfp4_e2m1", "mxfp8_e4m3", "mxfp6_e3m2"]
block_sizes = [8, 16, 32, 64]
roundings = ["nearest-even", "toward-zero", "stochastic"]
seeds = [0, 1, 2, 3]
[workloads.w]
kind = "laplace"
shape = [64, 4096]
)");
  const pid_t a =
      experiments::testing::spawn({MXLAB_BIN, "sweep", "--config", p("slow.toml"), "--output",
                                   p("r.h5"), "--no-table", "--threads", "1"},
                                  p("first"));
  for (int i = 0; i < 500 && !fs::exists(p("r.h5.lock")); ++i) ::usleep(10000);
  ASSERT_TRUE(fs::exists(p("r.h5.lock")));
  const Exit b =
      mx({"sweep", "--config", p("slow.toml"), "--output", p("r.h5"), "--resume", "--no-table"});
  EXPECT_EQ(b.code, 1) << b.err;
  EXPECT_THAT(b.err, HasSubstr("another mxlab sweep"));
  const Exit ea = experiments::testing::wait_for(a, p("first"));
  EXPECT_EQ(ea.code, 0) << ea.err;
  const auto rf = experiments::read_results(p("r.h5"));  // refuses duplicates
  EXPECT_EQ(rf.complete, 1);
  EXPECT_EQ(rf.records.size(), static_cast<std::size_t>(rf.points_total));
  EXPECT_FALSE(fs::exists(p("r.h5.lock")));
}

TEST_F(Rel, D05_DuplicatePointsAreRefusedByTableAndResume) {
  const std::string r = small_sweep();
  auto rf = experiments::read_results(r);
  experiments::append_points(r, std::span(rf.records.data(), 1), true);
  fails({"table", "--input", r}, "appears more than once");
  fails({"sweep", "--config", p("c.toml"), "--output", r, "--resume"}, "appears more than once");
}

// ---- 6. outputs that name an input or each other -------------------------------------------

TEST_F(Rel, D06_OutputsNamingAnInputAreRefused) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  const std::string before = slurp(p("x.npy"));
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--codes-output", p("x.npy")},
        "--codes-output");
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("x.npy")},
        "refusing to overwrite an input");
  fs::create_hard_link(p("x.npy"), p("link.npy"));
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("link.npy")},
        "refusing to overwrite an input");
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--codes-output", p("o.bin"),
         "--scales-output", p("o.bin")},
        "give each output its own file");
  fails({"ptq", "--weights", p("x.npy"), "--activations", p("x.npy"), "--algorithm", "rtn",
         "--weight-format", "mxint8", "--output", p("x.npy")},
        "refusing to overwrite an input");
  fails(
      {"gemm", "--a", p("x.npy"), "--b", p("x.npy"), "--format", "mxint8", "--output", p("x.npy")},
      "refusing");
  EXPECT_EQ(slurp(p("x.npy")), before);
  // hwfit --report over its own --data (an H100 capture replaced by JSON).
  fs::copy_file(fs::path(MX_HW_DATA_DIR) / "h100_probe.h5", p("probe.h5"));
  const std::string probe = slurp(p("probe.h5"));
  fails({"hwfit", "--data", p("probe.h5"), "--report", p("probe.h5")}, "--report");
  EXPECT_EQ(slurp(p("probe.h5")), probe);
  // eval --report over the text.
  spit(p("t.txt"), std::string(2000, 'a'));
  fails({"eval", "--model", kModel.string(), "--text", p("t.txt"), "--report", p("t.txt")},
        "--report");
  EXPECT_EQ(slurp(p("t.txt")), std::string(2000, 'a'));
  // An HDF5 input and output in one file with different datasets is fine.
  { H5File f(p("io.h5")); }
  ASSERT_EQ(
      mx({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("io.h5") + ":/in"})
          .code,
      0);
  const Exit ok = mx({"quantize", "--input", p("io.h5") + ":/in", "--format", "mxint8", "--output",
                      p("io.h5") + ":/out"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST_F(Rel, D06_AnHdf5OutputNeverReplacesAGroup) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  {
    H5File f(p("g.h5"));
    hid_t g = H5Gcreate2(f.id, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g2 = H5Gcreate2(g, "keep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g2);
    H5Gclose(g);
  }
  const std::string before = slurp(p("g.h5"));
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("g.h5") + ":/grp"},
        "is not a dataset");
  EXPECT_EQ(slurp(p("g.h5")), before);
  EXPECT_FALSE(leftover_temps());
}

// ---- 7. codes computed before the output overwrites the input ------------------------------

TEST_F(Rel, D07_CodesAreTheSameWithAndWithoutOutput) {
  struct Case {
    const char* format;
    std::vector<float> x;
    std::vector<std::uint8_t> expected_first;  // hand-computed codes of the first elements
  };
  // mxfp4_e2m1, ceil: X = 2^(ceil(log2 FLT_MAX) - 2) = 2^126; FLT_MAX / 2^126 = 4 - 2^-22
  // rounds to 4.0 = code 0b0110 (6); the dequantized 4 * 2^126 = 2^128 is Inf in fp32.
  // mxfp8_e4m3, ceil: X = 2^(128 - 8) = 2^120; FLT_MAX / 2^120 = 256 - 2^-15 rounds to 256 =
  // 0x78 (-FLT_MAX: 0xF8), again beyond fp32 once dequantized.
  std::vector<float> fp4(32, 1.0f), fp8(32, 1.0f);
  fp4[0] = FLT_MAX;
  fp8[0] = FLT_MAX;
  fp8[1] = -FLT_MAX;
  const std::vector<Case> cases = {{"mxfp4_e2m1", fp4, {0x06}}, {"mxfp8_e4m3", fp8, {0x78, 0xF8}}};
  for (const Case& c : cases) {
    npy("x.npy", {1, 32}, c.x);
    const std::vector<std::string> base = {"quantize", "--input",      p("x.npy"), "--format",
                                           c.format,   "--scale-rule", "ceil"};
    auto only = base, both = base;
    only.insert(only.end(), {"--codes-output", p("c1.bin")});
    both.insert(both.end(), {"--codes-output", p("c2.bin"), "--output", p("y.npy")});
    ASSERT_EQ(mx(only).code, 0);
    ASSERT_EQ(mx(both).code, 0);
    const std::string c1 = slurp(p("c1.bin")), c2 = slurp(p("c2.bin"));
    EXPECT_EQ(c1, c2) << c.format;
    if (std::string(c.format) == "mxfp4_e2m1") {
      EXPECT_EQ(static_cast<unsigned char>(c1[0]) & 0x0F, c.expected_first[0]);
    } else {
      EXPECT_EQ(static_cast<unsigned char>(c1[0]), c.expected_first[0]);
      EXPECT_EQ(static_cast<unsigned char>(c1[1]), c.expected_first[1]);
    }
    EXPECT_TRUE(std::isinf(read_npy(p("y.npy")).f32[0]));
  }
}

// ---- 8. stdout write errors ----------------------------------------------------------------

TEST_F(Rel, D08_WritingToAFullStdoutIsAnError) {
  const std::string r = small_sweep();
  const std::vector<std::string> cmds = {
      fmt::format("table --input {}", r), "formats", "sweep --print-default-config",
      fmt::format("hwcheck --data {}/h100_probe.h5 --accum h100-mma-fp8 --group e4m3 --quiet",
                  MX_HW_DATA_DIR)};
  for (const auto& c : cmds) {
    const int rc =
        std::system(fmt::format("{} {} >/dev/full 2>{}", MXLAB_BIN, c, p("err.txt")).c_str());
    ASSERT_TRUE(WIFEXITED(rc));
    EXPECT_EQ(WEXITSTATUS(rc), 1) << c;
    EXPECT_THAT(slurp(p("err.txt")), HasSubstr("cannot write to standard output")) << c;
  }
}

// ---- 9. tiny inputs that would allocate many GB --------------------------------------------

TEST_F(Rel, D09_SizesAreCheckedBeforeAllocating) {
  // A chunked dataset of 2^40 floats with no data written: the file has a few KB.
  {
    H5File f(p("nodata.h5"));
    chunked_dataset(f.id, "x", H5T_IEEE_F32LE, {1ull << 20, 1ull << 20});
  }
  fails(
      {"quantize", "--input", p("nodata.h5") + ":/x", "--format", "mxint8", "--output", p("y.npy")},
      "in a file of");
  fails({"golden", "--format", "mxfp8_e4m3", "--accum", "exact", "--cases", "10000000", "--k",
         "1000000", "--output", p("g.h5")},
        "cases 10000000 x k 1000000");
  fails({"eval", "--model", kModel.string(), "--text", "/dev/zero"}, "is a device");
  // config.json sizes the checkpoint does not back.
  const fs::path m = p("model");
  fs::create_directories(m);
  fs::create_symlink(kModel / "model.safetensors", m / "model.safetensors");
  auto cfg = nlohmann::json::parse(slurp(kModel / "config.json"));
  spit(p("t.txt"), std::string(4000, 'a'));
  cfg["num_hidden_layers"] = 1 << 23;
  spit(m / "config.json", cfg.dump());
  fails(
      {"eval", "--model", m.string(), "--text", p("t.txt"), "--windows", "1", "--window-size", "8"},
      "num_hidden_layers 8388608");
  cfg = nlohmann::json::parse(slurp(kModel / "config.json"));
  cfg["max_position_embeddings"] = 1 << 30;
  spit(m / "config.json", cfg.dump());
  const Exit e = mx(
      {"eval", "--model", m.string(), "--text", p("t.txt"), "--windows", "1", "--window-size", "8"},
      {"MXLAB_MAX_ALLOC=1000000000"});
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_THAT(e.err, HasSubstr("max_position_embeddings 1073741824"));
}

// ---- 10. untrusted bytes are escaped -------------------------------------------------------

TEST_F(Rel, D10_BytesFromDamagedFilesAreEscaped) {
  // .npy header with a terminal escape and a non-UTF-8 byte in its dtype.
  const std::string f =
      npy_bytes("{'descr': '\x1b[2J\xff<i4', 'fortran_order': False, 'shape': (1,), }", 4);
  spit(p("esc.npy"), f);
  const Exit e1 =
      mx({"quantize", "--input", p("esc.npy"), "--format", "mxint8", "--output", p("y.npy")});
  EXPECT_EQ(e1.code, 1);
  EXPECT_THAT(e1.err, HasSubstr("\\x1b[2J\\xff<i4"));
  // safetensors dtype and tensor name with control bytes.
  fs::create_directories(p("m"));
  spit(p("m/config.json"), slurp(kModel / "config.json"));
  test::write_bytes(p("m/model.safetensors"),
                    test::safetensors_bytes({{"w\x1b[31m", "\x07X\x1b", {1}, {0, 0, 0, 0}}}));
  spit(p("t.txt"), std::string(4000, 'a'));
  const Exit e2 = mx({"eval", "--model", p("m"), "--text", p("t.txt")});
  EXPECT_EQ(e2.code, 1);
  // The sweep's TOML strings.
  experiments::testing::write_text(p("esc.toml"),
                                   "[sweep]\nformats = [\"mx\\u001b[2Jint8\"]\nblock_sizes = "
                                   "[32]\n[workloads.w]\nkind = \"normal\"\nshape = [64]\n");
  const Exit e3 = mx({"sweep", "--config", p("esc.toml"), "--output", p("s.h5")});
  EXPECT_EQ(e3.code, 1);
  EXPECT_THAT(e3.err, HasSubstr("\\x1b[2J"));
  // Probe attributes and group names (hwcheck prints them to stdout).
  fs::copy_file(fs::path(MX_HW_DATA_DIR) / "h100_probe.h5", p("probe.h5"));
  {
    H5File pf(p("probe.h5"), false);
    hsize_t idx = 0;
    char name[256] = {};
    H5Lget_name_by_idx(pf.id, ".", H5_INDEX_NAME, H5_ITER_INC, idx, name, sizeof name, H5P_DEFAULT);
    H5Lmove(pf.id, name, pf.id, (std::string(name) + "\x1b]0;pwn\x07\xfe").c_str(), H5P_DEFAULT,
            H5P_DEFAULT);
  }
  const Exit e4 = mx({"hwcheck", "--data", p("probe.h5"), "--accum", "h100-mma-fp8"});
  EXPECT_THAT(e4.out + e4.err, HasSubstr("\\x1b]0;pwn\\x07\\xfe"));
  // Result-file strings shown by table.
  const std::string r = small_sweep();
  {
    H5File rf(r, false);
    hid_t a = H5Aopen(rf.id, "config_canonical", H5P_DEFAULT);
    H5Aclose(a);
    H5Adelete(rf.id, "sweep_name");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t at = H5Acreate2(rf.id, "sweep_name", t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(at, t, "\x1b[5m\x9b\xc0\x80!");
    H5Aclose(at);
    H5Sclose(s);
    H5Tclose(t);
  }
  const Exit e5 = mx({"table", "--input", r});
  EXPECT_EQ(e5.code, 0) << e5.err;
}

// ---- 11. .npy headers over 64 KiB ----------------------------------------------------------

TEST_F(Rel, D11_LongNpyHeadersAreWrittenAsVersion2) {
  std::vector<std::size_t> shape(25000, 1);
  shape.back() = 32;
  npy("x.npy", shape, std::vector<float>(32, 2.5f));
  const Exit e =
      mx({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("y.npy")});
  ASSERT_EQ(e.code, 0) << e.err;
  const std::string b = slurp(p("y.npy"));
  ASSERT_GT(b.size(), 12u);
  EXPECT_EQ(b.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(b[6], 2);  // format version 2.0: a 32-bit header length
  const std::uint32_t len = static_cast<unsigned char>(b[8]) |
                            static_cast<unsigned char>(b[9]) << 8 |
                            static_cast<unsigned char>(b[10]) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(b[11])) << 24;
  EXPECT_GT(len, 65535u);
  EXPECT_EQ((12 + len) % 64, 0u);
  EXPECT_EQ(b.size(), 12 + len + 32 * 4);
  EXPECT_EQ(b[12 + len - 1], '\n');
  EXPECT_EQ(b.substr(12, 10), "{'descr': ");
  EXPECT_EQ(read_npy(p("y.npy")).shape, shape);
}

// ---- 12. FIFOs where a regular file is required --------------------------------------------

TEST_F(Rel, D12_FifosAreRefusedNotWaitedOn) {
  ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo(p("fifo.h5").c_str(), 0644), 0);
  fs::create_directories(p("m"));
  spit(p("m/config.json"), slurp(kModel / "config.json"));
  ASSERT_EQ(::mkfifo(p("m/model.safetensors").c_str(), 0644), 0);
  fs::create_directories(p("sh"));
  spit(p("sh/config.json"), slurp(kModel / "config.json"));
  spit(p("sh/model.safetensors.index.json"), R"({"weight_map": {"w": "shard.safetensors"}})");
  ASSERT_EQ(::mkfifo(p("sh/shard.safetensors").c_str(), 0644), 0);
  spit(p("t.txt"), std::string(4000, 'a'));
  fails({"quantize", "--input", p("fifo"), "--format", "mxint8", "--output", p("y.npy")}, "FIFO");
  fails({"quantize", "--input", p("fifo.h5") + ":/x", "--format", "mxint8", "--output", p("y.npy")},
        "FIFO");
  fails({"eval", "--model", p("m"), "--text", p("t.txt")}, "FIFO");
  fails({"eval", "--model", p("sh"), "--text", p("t.txt")}, "FIFO");
  fails({"eval", "--model", kModel.string(), "--text", p("fifo")}, "FIFO");
  fails({"table", "--input", p("fifo.h5")}, "FIFO");
  fails({"hwcheck", "--data", p("fifo.h5"), "--accum", "exact"}, "FIFO");
  fails({"sweep", "--config", p("fifo"), "--output", p("s.h5")}, "FIFO");
}

// ---- 13. leaks and half-done writes -------------------------------------------------------

TEST_F(Rel, D13_TempFilesOfKilledRunsAreRemoved) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that is gone: what a SIGKILLed run leaves behind
  spit(p("y.npy.tmp-" + std::to_string(child)), std::string(1000, 'x'));
  spit(p("c.bin.tmp-" + std::to_string(child)), std::string(1000, 'x'));
  const Exit e = mx({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output",
                     p("y.npy"), "--codes-output", p("c.bin")});
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_FALSE(leftover_temps());
}

TEST_F(Rel, D13_SeveralOutputsAreAllOrNothing) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  spit(p("c.bin"), "old codes");
  spit(p("s.bin"), "old scales");
  spit(p("notes.h5"), "not an HDF5 file");  // the last output fails after the others are made
  fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--codes-output", p("c.bin"),
         "--scales-output", p("s.bin"), "--output", p("notes.h5") + ":/y"},
        "not an HDF5 file");
  EXPECT_EQ(slurp(p("c.bin")), "old codes");
  EXPECT_EQ(slurp(p("s.bin")), "old scales");
  EXPECT_FALSE(leftover_temps());
  // ptq: the report is not replaced when the weights output fails.
  spit(p("r.json"), "old report");
  fails({"ptq", "--weights", p("x.npy"), "--activations", p("x.npy"), "--algorithm", "rtn",
         "--weight-format", "mxint8", "--report", p("r.json"), "--output", p("notes.h5") + ":/w"},
        "not an HDF5 file");
  EXPECT_EQ(slurp(p("r.json")), "old report");
  EXPECT_FALSE(leftover_temps());
}

TEST_F(Rel, D13_AtomicWritesFsyncTheFileAndTheFolder) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  if (std::system("command -v strace >/dev/null 2>&1") != 0) GTEST_SKIP() << "no strace";
  // LeakSanitizer cannot run under ptrace: off for the traced run (ASan itself stays on).
  const int rc = std::system(fmt::format("ASAN_OPTIONS=detect_leaks=0 strace -f -e "
                                         "trace=fsync,openat -o {} {} quantize "
                                         "--input {} --format mxint8 --codes-output {} "
                                         ">/dev/null 2>&1",
                                         p("trace.txt"), MXLAB_BIN, p("x.npy"), p("c.bin"))
                                 .c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
  const std::string t = slurp(p("trace.txt"));
  std::size_t fsyncs = 0;
  for (std::size_t at = t.find("fsync("); at != std::string::npos; at = t.find("fsync(", at + 1))
    ++fsyncs;
  EXPECT_GE(fsyncs, 2u) << t;  // the temporary file, then the folder after the rename
  EXPECT_THAT(t, HasSubstr("O_DIRECTORY"));
}

// ---- 14. accepted nonsense ----------------------------------------------------------------

TEST_F(Rel, D14_NonsenseIsRefused) {
  npy("x.npy", {2, 32}, std::vector<float>(64, 1.5f));
  for (const char* seed : {"-1", "18446744073709551616", "1e23", "0x10", " 5", ""})
    fails({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("y.npy"),
           "--seed", seed},
          "--seed", 2);
  fails({"golden", "--format", "mxint8", "--accum", "exact", "--seed", "-1", "--output", p("g.h5")},
        "--seed", 2);
  EXPECT_EQ(mx({"quantize", "--input", p("x.npy"), "--format", "mxint8", "--output", p("y.npy"),
                "--seed", "18446744073709551615"})
                .code,
            0);
  fails({"sweep", "--output", p("s.h5"), "--resume", "--overwrite"}, "--overwrite", 2);
  // Overlapping safetensors byte ranges.
  fs::create_directories(p("m"));
  spit(p("m/config.json"), slurp(kModel / "config.json"));
  std::string st = test::safetensors_bytes(
      {{"a", "F32", {2}, test::f32_bytes({1, 2})}, {"b", "F32", {2}, test::f32_bytes({3, 4})}});
  const auto at = st.find("[8,16]");
  ASSERT_NE(at, std::string::npos);
  st.replace(at, 6, "[4,12]");
  test::write_bytes(p("m/model.safetensors"), st);
  spit(p("t.txt"), std::string(4000, 'a'));
  fails({"eval", "--model", p("m"), "--text", p("t.txt")}, "overlap");
}

// ---- 15. messages that mislead --------------------------------------------------------------

TEST_F(Rel, D15_MessagesNameTheRealProblem) {
  fs::create_directories(p("folder"));
  fails({"eval", "--model", kModel.string(), "--text", p("folder")}, "--text");
  fails({"eval", "--model", kModel.string(), "--text", p("folder")}, "is a folder");
  spit(p("t.txt"), std::string(4000, 'a'));
  fails({"eval", "--model", kModel.string(), "--text", p("t.txt"), "--algorithm", "gptq",
         "--weight-format", "mxint4", "--calib", p("missing.txt"), "--windows", "1",
         "--window-size", "16"},
        "--calib");
  // A 10 MB value in an error is cut to one short line.
  experiments::testing::write_text(
      p("long.toml"), "[sweep]\nformats = [\"" + std::string(10'000'000, 'x') +
                          "\"]\nblock_sizes = [32]\n[workloads.w]\nkind = \"normal\"\nshape = "
                          "[64]\n");
  const Exit e = mx({"sweep", "--config", p("long.toml"), "--output", p("s.h5")});
  EXPECT_EQ(e.code, 1);
  EXPECT_LT(e.err.size(), 2200u);
  EXPECT_THAT(e.err, HasSubstr("bytes elided"));
  // A subnormal in a numeric table axis (std::stod threw out_of_range: "error: stod").
  const std::string r = small_sweep();
  auto rf = experiments::read_results(r);
  auto rec = rf.records[0];
  experiments::set_fixed(rec.row.point_id, "deadbeefdeadbeef");
  rec.row.bits_budget = 5e-324;  // "5e-324": std::stod throws out_of_range
  experiments::append_points(r, std::span(&rec, 1), true);
  const Exit t = mx({"table", "--input", r, "--rows", "bits_budget", "--cols", "block_size"});
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("5e-324"));
}

// ---- 16. PTQ refuses non-finite data (kept, documented) -------------------------------------

TEST_F(Rel, D16_PtqRefusesNonFiniteData) {
  std::vector<float> w(4 * 32, 0.5f);
  w[5] = std::numeric_limits<float>::quiet_NaN();
  npy("w.npy", {4, 32}, w);
  npy("x.npy", {8, 32}, std::vector<float>(8 * 32, 1.0f));
  fails({"ptq", "--weights", p("w.npy"), "--activations", p("x.npy"), "--algorithm", "gptq",
         "--weight-format", "mxint4", "--report", p("r.json")},
        "non-finite value at [0, 5]");
  EXPECT_FALSE(fs::exists(p("r.json")));
  const std::string readme = slurp(fs::path(MX_SOURCE_DIR) / "README.md");
  EXPECT_THAT(readme, HasSubstr("the one place where non-finite data is an error"));
}

// ---- every damaged file, every command: printable messages only ----------------------------

TEST_F(Rel, NoMessageHoldsAByteOutsidePrintableUtf8) {
  // The damaged files: raw control/non-UTF-8 bytes where names, dtypes and strings go.
  using namespace std::string_literals;
  const std::string junk = "\x1b[31m\xff\xfe\x07\x9b\xc3\x28\xed\xa0\x80\x00tail"s;
  std::string dname = "x";
  dname += junk.substr(0, 12);
  spit(p("d.npy"),
       npy_bytes("{'descr': '" + junk + "', 'fortran_order': False, 'shape': (1,), }", 4));
  spit(p("d2.npy"), std::string("\x93NUMPY\x07\x00", 8) + junk);
  spit(p("d3.npy"), junk + junk);
  spit(p("d.h5"), "\x89HDF\r\n\x1a\n" + junk);
  {
    H5File f(p("names.h5"));
    chunked_dataset(f.id, dname.c_str(), H5T_IEEE_F32LE, {2, 2});
  }
  fs::create_directories(p("m"));
  spit(p("m/config.json"), "{\"model_type\": \"" + std::string("\\u001b[2J\\u0007") + "\"}");
  test::write_bytes(p("m/model.safetensors"),
                    test::safetensors_bytes({{"\x1b\x07", "\x1b[31mF99", {1}, {0, 0, 0, 0}}}));
  fs::create_directories(p("s"));
  spit(p("s/config.json"), slurp(kModel / "config.json"));
  spit(p("s/model.safetensors.index.json"),
       "{\"weight_map\": {\"w\": \"\\u001b[2Jshard\\u0007.safetensors\"}}");
  spit(p("d.toml"), "[sweep]\nformats = [\"" + junk.substr(0, 12) + "\"]\n");
  spit(p("t.txt"), std::string(4000, 'a'));
  const std::vector<std::string> tensors = {p("d.npy"), p("d2.npy"), p("d3.npy"), p("d.h5") + ":/x",
                                            p("names.h5") + ":/" + dname};
  std::vector<std::vector<std::string>> runs;
  for (const auto& t : tensors) {
    runs.push_back({"quantize", "--input", t, "--format", "mxint8", "--output", p("y.npy")});
    runs.push_back({"gemm", "--a", t, "--b", t, "--format", "mxint8", "--output", p("y.npy")});
    runs.push_back({"ptq", "--weights", t, "--activations", t, "--algorithm", "rtn",
                    "--weight-format", "mxint8", "--report", p("r.json")});
  }
  for (const auto& h : {p("d.h5"), p("names.h5"), p("d.npy")}) {
    runs.push_back({"table", "--input", h});
    runs.push_back({"hwcheck", "--data", h, "--accum", "exact"});
    runs.push_back({"hwfit", "--data", h});
  }
  for (const auto& m : {p("m"), p("s")})
    runs.push_back({"eval", "--model", m, "--text", p("t.txt")});
  runs.push_back({"eval", "--model", kModel.string(), "--text", p("t.txt"), "--weight-format",
                  junk.substr(0, 12)});
  runs.push_back({"sweep", "--config", p("d.toml"), "--output", p("o.h5")});
  runs.push_back(
      {"golden", "--format", junk.substr(0, 12), "--accum", "exact", "--output", p("g.h5")});
  runs.push_back({"gemm", "--a", p("d.npy"), "--b", p("d.npy"), "--format", "mxint8", "--accum",
                  "fused:" + junk.substr(0, 12), "--output", p("y.npy")});
  for (const auto& r : runs) (void)mx(r);  // mx() checks that stdout and stderr are printable
}

}  // namespace
}  // namespace mx
