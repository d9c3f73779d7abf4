// The C ABI (tools/capi/include/mxlab/mxlab.h) against the mxlab binary and the golden sets:
// mxlab_quantize_f32 / mxlab_encode_f32 equal `mxlab quantize` (values, codes, scales) and
// mxlab_gemm_f32 / mxlab_dot equal `mxlab gemm` bit for bit, on random and edge inputs, for
// every format and every accumulator preset; the OCP and scale-rule golden sets pass through
// the C ABI; four threads calling it at once get the single-thread bits; bad input returns a
// code and one line naming the culprit, and writes nothing.
#include "mxlab/mxlab.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/capi/npy_f32.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

std::vector<std::uint32_t> bits_of(const std::vector<float>& v) {
  std::vector<std::uint32_t> out;
  for (float f : v) out.push_back(std::bit_cast<std::uint32_t>(f));
  return out;
}

// Random values over many binades, with edge values planted: zeros of both signs, fp32
// subnormals, the largest finite values, an all-tiny block, a cancelling pair and (when
// `nonfinite`) Inf and NaN in their own blocks.
std::vector<float> inputs(std::size_t n, unsigned seed, bool nonfinite) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> val(0.0f, 1.0f);
  std::uniform_int_distribution<int> ex(-12, 12);
  std::vector<float> x(n);
  for (float& v : x) v = std::ldexp(val(rng), ex(rng));
  const float edges[] = {0.0f,
                         -0.0f,
                         1e-40f,
                         -3e-45f,
                         std::numeric_limits<float>::max(),
                         -std::numeric_limits<float>::max(),
                         448.0f,
                         -57344.0f,
                         6.0f,
                         1.0f,
                         -1.0f};
  for (std::size_t i = 0; i < std::size(edges) && i < n; ++i) x[i] = edges[i];
  for (std::size_t i = 32; i < 64 && i < n; ++i) x[i] = std::ldexp(1.5f, -130);  // tiny block
  if (n > 70) {
    x[68] = 3.25f;
    x[69] = -3.25f;
  }
  if (nonfinite && n > 160) {
    x[130] = std::numeric_limits<float>::infinity();
    x[161] = std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

class CapiCli : public ::testing::Test {
 protected:
  void SetUp() override { dir = test::fresh_test_dir("mxlab_capi_test"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string p(const std::string& n) const { return (dir / n).string(); }
  void mxlab(const std::string& args) {
    const test::CmdResult r = test::run_mxlab(args, "capi");
    ASSERT_EQ(r.status, 0) << args << "\n" << r.err;
  }
  fs::path dir;
};

struct QuantCase {
  const char* format;
  int bits;  // element code bits
  bool scaled;
};
const QuantCase kQuantFormats[] = {{"mxfp8_e4m3", 8, true}, {"mxfp8_e5m2", 8, true},
                                   {"mxfp6_e3m2", 6, true}, {"mxfp6_e2m3", 6, true},
                                   {"mxfp4_e2m1", 4, true}, {"mxint8", 8, true},
                                   {"mxint4", 4, true},     {"e4m3", 8, false},
                                   {"bf16", 16, false},     {"int8", 8, false}};

TEST_F(CapiCli, QuantizeAndEncodeEqualTheCli) {
  const std::size_t n = 200;  // blocks of 32 and 16: the last one is short
  const std::vector<float> x = inputs(n, 1, true);
  test::write_npy_f32(p("x.npy"), {n}, x);
  for (const QuantCase& f : kQuantFormats)
    for (const int block : {32, 16})
      for (const char* rnd : {"nearest-even", "toward-zero", "stochastic"})
        for (const char* rule : {"floor", "rceil"}) {
          if (!f.scaled && (block != 32 || std::string(rule) != "floor")) continue;
          SCOPED_TRACE(std::string(f.format) + " " + rnd + " " + rule + " " +
                       std::to_string(block));
          const std::string args = " --format " + std::string(f.format) + " --block-size " +
                                   std::to_string(block) + " --rounding " + rnd + " --scale-rule " +
                                   rule;
          mxlab("quantize --input " + p("x.npy") + " --output " + p("y.npy") + args);
          // Codes in a run of their own: with --output, mxlab quantize fake-quantizes in place
          // and then codes a finite input whose value fp32 shows as Inf (FLT_MAX under rceil)
          // as NaN (reported; the codes-only run is right).
          mxlab("quantize --input " + p("x.npy") + " --codes-output " + p("c.bin") +
                (f.scaled ? " --scales-output " + p("s.bin") : "") + args);
          std::vector<float> y(n);
          ASSERT_EQ(mxlab_quantize_f32(x.data(), n, f.format, block, rnd, rule, y.data()), 0)
              << mxlab_last_error();
          EXPECT_EQ(bits_of(y), bits_of(test::read_npy_f32(p("y.npy"))));
          std::vector<std::uint32_t> codes(n);
          const std::size_t nb = (n + block - 1) / block;
          std::vector<std::uint8_t> scales(nb, 0xAB);
          ASSERT_EQ(mxlab_encode_f32(x.data(), n, f.format, block, rnd, rule, codes.data(),
                                     f.scaled ? scales.data() : nullptr),
                    0)
              << mxlab_last_error();
          EXPECT_EQ(codes, test::unpack_lsb_first(test::read_bytes(p("c.bin")), n, f.bits));
          if (f.scaled) {
            EXPECT_EQ(scales, test::read_bytes(p("s.bin")));
          }
          // decode(encode(x)) is the fake-quantized x, bit for bit.
          {
            std::vector<float> d(n);
            ASSERT_EQ(mxlab_decode(codes.data(), f.scaled ? scales.data() : nullptr, n, f.format,
                                   block, d.data()),
                      0)
                << mxlab_last_error();
            EXPECT_EQ(bits_of(d), bits_of(y));
          }
        }
  // nvfp4 (two-level scales): fake-quantization only.
  mxlab("quantize --input " + p("x.npy") + " --output " + p("y.npy") + " --format nvfp4");
  std::vector<float> y(n);
  ASSERT_EQ(mxlab_quantize_f32(x.data(), n, "nvfp4", 16, nullptr, nullptr, y.data()), 0)
      << mxlab_last_error();
  EXPECT_EQ(bits_of(y), bits_of(test::read_npy_f32(p("y.npy"))));
}

// The defaults (NULL) are the CLI's: mxfp8_e4m3, nearest-even, floor.
TEST_F(CapiCli, NullNamesAreTheCliDefaults) {
  const std::vector<float> x = inputs(96, 2, false);
  std::vector<float> y1(96), y2(96);
  ASSERT_EQ(mxlab_quantize_f32(x.data(), 96, nullptr, 32, nullptr, nullptr, y1.data()), 0);
  ASSERT_EQ(mxlab_quantize_f32(x.data(), 96, "mxfp8_e4m3", 32, "nearest-even", "floor", y2.data()),
            0);
  EXPECT_EQ(bits_of(y1), bits_of(y2));
  EXPECT_STREQ(mxlab_last_error(), "");
}

struct GemmFormats {
  const char* a;
  const char* b;  // nullptr: same as a
  int bits_a, bits_b;
};
const GemmFormats kGemmFormats[] = {{"mxfp8_e4m3", nullptr, 8, 8},
                                    {"mxfp8_e5m2", nullptr, 8, 8},
                                    {"mxfp6_e3m2", nullptr, 6, 6},
                                    {"mxfp6_e2m3", nullptr, 6, 6},
                                    {"mxfp4_e2m1", nullptr, 4, 4},
                                    {"mxint8", nullptr, 8, 8},
                                    {"mxfp8_e4m3", "mxfp8_e5m2", 8, 8},
                                    {"e4m3", nullptr, 8, 8},
                                    {"bf16", "fp16", 16, 16}};

TEST_F(CapiCli, GemmAndDotEqualTheCliForEveryPresetAndFormat) {
  const std::size_t m = 3, n = 4, k = 160;  // five blocks of 32; promotion chunks of 32 / 128
  std::vector<float> a = inputs(m * k, 3, true), b = inputs(k * n, 4, false), c(m * n);
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<float>(i) * 0.75f - 4.0f;
  c[1] = -0.0f;
  b[5 * n + 1] = -b[5 * n + 1] * 0.0f;  // a signed zero in B
  test::write_npy_f32(p("a.npy"), {m, k}, a);
  test::write_npy_f32(p("b.npy"), {k, n}, b);
  test::write_npy_f32(p("c.npy"), {m, n}, c);
  const char* presets[] = {"exact",         "fp32-seq",        "fp32-pairwise",
                           "h100-mma",      "h100-wgmma",      "h100-wgmma-fast",
                           "h100-mma-fp8",  "h100-cublas-fp8", "h100-cublas-fp8-fast",
                           "h100-mma-fp16", "h100-mma-bf16",   "fused:k=32,w=10,acc=fp32"};
  for (const GemmFormats& f : kGemmFormats)
    for (const char* accum : presets) {
      const std::string fb = f.b ? f.b : f.a;
      SCOPED_TRACE(std::string(f.a) + " x " + fb + " " + accum);
      mxlab("gemm --a " + p("a.npy") + " --b " + p("b.npy") + " --c " + p("c.npy") + " --format " +
            f.a + " --format-b " + fb + " --accum " + accum + " --output " + p("o.npy"));
      const std::vector<float> cli = test::read_npy_f32(p("o.npy"));
      std::vector<float> out(m * n);
      ASSERT_EQ(mxlab_gemm_f32(a.data(), b.data(), c.data(), out.data(), m, n, k, f.a, f.b, 32,
                               accum, nullptr),
                0)
          << mxlab_last_error();
      EXPECT_EQ(bits_of(out), bits_of(cli));
      // Each output is one mxlab_dot of the encoded row of A and column of B (element
      // formats: the Inf of A's row 0 saturates in encode but not in gemm, so rows 1.. only).
      const bool scaled = f.a[0] == 'm';
      const std::size_t nb = (k + 31) / 32;
      for (std::size_t i = scaled ? 0 : 1; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          std::vector<float> col(k);
          for (std::size_t t = 0; t < k; ++t) col[t] = b[t * n + j];
          std::vector<std::uint32_t> ca(k), cb(k);
          std::vector<std::uint8_t> sa(nb), sb(nb);
          ASSERT_EQ(mxlab_encode_f32(&a[i * k], k, f.a, 32, nullptr, nullptr, ca.data(), sa.data()),
                    0);
          ASSERT_EQ(mxlab_encode_f32(col.data(), k, fb.c_str(), 32, nullptr, nullptr, cb.data(),
                                     sb.data()),
                    0);
          std::uint32_t bits = 0;
          ASSERT_EQ(mxlab_dot(ca.data(), sa.data(), cb.data(), sb.data(), k, f.a, f.b, 32, accum,
                              c[i * n + j], &bits),
                    0)
              << mxlab_last_error();
          EXPECT_EQ(bits, std::bit_cast<std::uint32_t>(cli[i * n + j])) << i << "," << j;
        }
    }
  // Another output format and no C, as `--output-format bf16`.
  mxlab("gemm --a " + p("a.npy") + " --b " + p("b.npy") +
        " --format mxfp8_e4m3 --accum h100-wgmma --output-format bf16 --output " + p("o.npy"));
  std::vector<float> out(m * n);
  ASSERT_EQ(mxlab_gemm_f32(a.data(), b.data(), nullptr, out.data(), m, n, k, "mxfp8_e4m3", nullptr,
                           32, "h100-wgmma", "bf16"),
            0)
      << mxlab_last_error();
  EXPECT_EQ(bits_of(out), bits_of(test::read_npy_f32(p("o.npy"))));
}

TEST_F(CapiCli, VersionIsTheCliVersion) {
  const std::string out = p("version.txt");
  ASSERT_EQ(std::system((std::string(MXLAB_BIN) + " --version > " + out).c_str()), 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind(std::string("mxlab ") + mxlab_version(), 0), 0u) << line;
}

// The golden sets (an independent implementation of the spec) through the C ABI.
TEST(CapiGolden, OcpAndScaleRuleSetsPassBitForBit) {
  for (const char* set : {"ocp", "scale_rules"}) {
    const fs::path root = fs::path(MX_SHARED_DIR) / "golden" / set;
    std::ifstream in(root / "manifest.json");
    ASSERT_TRUE(in) << root;
    const nlohmann::json manifest = nlohmann::json::parse(in);
    std::size_t done = 0;
    for (const auto& c : manifest) {
      ASSERT_EQ(c["axis"].get<int>(), -1);
      const std::vector<float> x =
          test::read_npy_f32((root / c["name"].get<std::string>() / "x.npy").string());
      const std::vector<float> want =
          test::read_npy_f32((root / c["name"].get<std::string>() / "y.npy").string());
      const std::size_t cols = c["shape"].back().get<std::size_t>();
      const std::string rule = c.contains("scale_rule") ? c["scale_rule"] : "floor";
      std::vector<float> y(x.size());
      for (std::size_t r = 0; r < x.size() / cols; ++r)
        ASSERT_EQ(
            mxlab_quantize_f32(&x[r * cols], cols, c["format"].get<std::string>().c_str(),
                               c["block"].get<int>(), c["rounding"].get<std::string>().c_str(),
                               rule.c_str(), &y[r * cols]),
            0)
            << mxlab_last_error();
      EXPECT_EQ(bits_of(y), bits_of(want)) << set << "/" << c["name"];
      ++done;
    }
    EXPECT_GT(done, 10u) << set;
  }
}

// Four threads at once, each with its own inputs and errors: the single-thread bits, and each
// thread sees only its own last error.
TEST(CapiThreads, FourThreadsGetTheSingleThreadBits) {
  const std::size_t m = 4, n = 5, k = 128;
  struct Work {
    std::vector<float> a, b, want_q, want_g, got_q, got_g;
    std::string err;
    bool ok = true;
  };
  const char* accums[] = {"h100-mma", "h100-wgmma", "fp32-pairwise", "exact"};
  std::vector<Work> work(4);
  for (unsigned t = 0; t < 4; ++t) {
    Work& w = work[t];
    w.a = inputs(m * k, 10 + t, false);
    w.b = inputs(k * n, 20 + t, false);
    w.want_q.resize(m * k);
    w.want_g.resize(m * n);
    ASSERT_EQ(
        mxlab_quantize_f32(w.a.data(), m * k, "mxfp6_e2m3", 32, nullptr, nullptr, w.want_q.data()),
        0);
    ASSERT_EQ(mxlab_gemm_f32(w.a.data(), w.b.data(), nullptr, w.want_g.data(), m, n, k,
                             "mxfp8_e4m3", nullptr, 32, accums[t], nullptr),
              0);
  }
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Work& w = work[t];
      w.got_q.resize(m * k);
      w.got_g.resize(m * n);
      for (int rep = 0; rep < 20; ++rep) {
        w.ok &= mxlab_quantize_f32(w.a.data(), m * k, "mxfp6_e2m3", 32, nullptr, nullptr,
                                   w.got_q.data()) == 0;
        w.ok &= mxlab_gemm_f32(w.a.data(), w.b.data(), nullptr, w.got_g.data(), m, n, k,
                               "mxfp8_e4m3", nullptr, 32, accums[t], nullptr) == 0;
        w.ok &= bits_of(w.got_q) == bits_of(w.want_q) && bits_of(w.got_g) == bits_of(w.want_g);
        // An error of this thread only.
        const std::string bad = "fused:k=" + std::to_string(t + 1) + ",bogus=1";
        w.ok &= mxlab_gemm_f32(w.a.data(), w.b.data(), nullptr, w.got_g.data(), m, n, k,
                               "mxfp8_e4m3", nullptr, 32, bad.c_str(), nullptr) == MXLAB_ERR_ACCUM;
        w.err = mxlab_last_error();
        w.ok &= w.err.find("bogus") != std::string::npos;
      }
    });
  for (auto& th : threads) th.join();
  for (const Work& w : work) EXPECT_TRUE(w.ok) << w.err;
}

// Bad input: the code, one line naming the function and the culprit, and nothing written.
TEST(CapiErrors, BadInputReturnsACodeAndOneLine) {
  std::vector<float> x(64, 1.0f), y(64, 7.0f), out(4, 7.0f);
  std::vector<std::uint32_t> codes(64, 0), bits(1, 7);
  std::vector<std::uint8_t> scales(2, 127);
  struct Case {
    int got, want;
    const char* culprit;
  };
  const Case cases[] = {
      {mxlab_quantize_f32(nullptr, 64, "mxfp8_e4m3", 32, nullptr, nullptr, y.data()),
       MXLAB_ERR_NULL, "mxlab_quantize_f32: x is NULL"},
      {mxlab_quantize_f32(x.data(), 64, "mxfp8_e4m3", 32, nullptr, nullptr, nullptr),
       MXLAB_ERR_NULL, "y is NULL"},
      {mxlab_quantize_f32(x.data(), 0, "mxfp8_e4m3", 32, nullptr, nullptr, y.data()),
       MXLAB_ERR_SIZE, "n = 0"},
      {mxlab_quantize_f32(x.data(), 64, "mxbogus", 32, nullptr, nullptr, y.data()),
       MXLAB_ERR_FORMAT, "mxbogus"},
      {mxlab_quantize_f32(x.data(), 64, "mxfp8_e4m3", 0, nullptr, nullptr, y.data()),
       MXLAB_ERR_SIZE, "block_size must be >= 1 (got 0)"},
      {mxlab_quantize_f32(x.data(), 64, "e4m3", -3, nullptr, nullptr, y.data()), MXLAB_ERR_SIZE,
       "block_size"},
      {mxlab_quantize_f32(x.data(), 64, "mxfp8_e4m3", 32, "nearest", nullptr, y.data()),
       MXLAB_ERR_FORMAT, "rounding: unknown rounding mode 'nearest'"},
      {mxlab_quantize_f32(x.data(), 64, "mxfp8_e4m3", 32, nullptr, "round", y.data()),
       MXLAB_ERR_FORMAT, "scale_rule: unknown scale rule 'round'"},
      {mxlab_encode_f32(x.data(), 64, "mxfp8_e4m3", 32, nullptr, nullptr, codes.data(), nullptr),
       MXLAB_ERR_NULL, "mxlab_encode_f32: scales is NULL"},
      {mxlab_encode_f32(x.data(), 64, "nvfp4", 16, nullptr, nullptr, codes.data(), scales.data()),
       MXLAB_ERR_FORMAT, "nvfp4"},
      {mxlab_decode(codes.data(), scales.data(), 64, "mxfp4_e2m1", 32, nullptr), MXLAB_ERR_NULL,
       "mxlab_decode: y is NULL"},
      {mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3",
                 nullptr, 32, "fused:k=0", 0.0f, bits.data()),
       MXLAB_ERR_ACCUM, "mxlab_dot: accum: k=0"},
      {mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3",
                 nullptr, 32, "h200-magic", 0.0f, bits.data()),
       MXLAB_ERR_ACCUM, "h200-magic"},
      {mxlab_dot(codes.data(), nullptr, codes.data(), scales.data(), 64, "mxfp8_e4m3", nullptr, 32,
                 nullptr, 0.0f, bits.data()),
       MXLAB_ERR_NULL, "a_scales is NULL"},
      {mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 0, "mxfp8_e4m3", nullptr,
                 32, nullptr, 0.0f, bits.data()),
       MXLAB_ERR_SIZE, "k = 0"},
      {mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3", "e5m2",
                 32, nullptr, 0.0f, bits.data()),
       MXLAB_ERR_FORMAT, "format_b e5m2: both operands"},
      {mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3", "fp32",
                 32, nullptr, 0.0f, bits.data()),
       MXLAB_ERR_FORMAT, "format_b"},
      {mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), 2, 2, 16, "mxfp8_e4m3", nullptr, 32,
                      "fused:w=0", nullptr),
       MXLAB_ERR_ACCUM, "mxlab_gemm_f32: accum: w=0"},
      {mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), 2, 2, 16, "mxfp8_e4m3", nullptr, 32,
                      nullptr, "e9m99"),
       MXLAB_ERR_FORMAT, "output_format"},
      {mxlab_gemm_f32(x.data(), nullptr, nullptr, out.data(), 2, 2, 16, "mxfp8_e4m3", nullptr, 32,
                      nullptr, nullptr),
       MXLAB_ERR_NULL, "b is NULL"},
      {mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), 2, 0, 16, "mxfp8_e4m3", nullptr, 32,
                      nullptr, nullptr),
       MXLAB_ERR_SIZE, "n = 0"},
      {mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), SIZE_MAX / 2, 3, 16, "mxfp8_e4m3",
                      nullptr, 32, nullptr, nullptr),
       MXLAB_ERR_SIZE, "too large"},
      {mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), 2, 2, 16, "mxfp8_e4m3", nullptr, 0,
                      nullptr, nullptr),
       MXLAB_ERR_SIZE, "block_size"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.got, c.want) << c.culprit;
  }
  // Messages are checked one call at a time (mxlab_last_error is the last call's).
  auto message_of = [](int rc) {
    EXPECT_LT(rc, 0);
    return std::string(mxlab_last_error());
  };
  struct Msg {
    std::string text;
    const char* culprit;
  };
  std::vector<Msg> msgs;
#define MX_MSG(call, culprit) msgs.push_back({message_of(call), culprit})
  MX_MSG(mxlab_quantize_f32(nullptr, 64, "mxfp8_e4m3", 32, nullptr, nullptr, y.data()),
         "mxlab_quantize_f32: x is NULL");
  MX_MSG(mxlab_quantize_f32(x.data(), 0, nullptr, 32, nullptr, nullptr, y.data()), "n = 0");
  MX_MSG(mxlab_quantize_f32(x.data(), 64, "mxbogus", 32, nullptr, nullptr, y.data()), "format: ");
  MX_MSG(mxlab_quantize_f32(x.data(), 64, nullptr, 0, nullptr, nullptr, y.data()),
         "block_size must be >= 1 (got 0)");
  MX_MSG(mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3",
                   nullptr, 32, "fused:k=0", 0.0f, bits.data()),
         "mxlab_dot: accum: ");
  MX_MSG(mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3",
                   nullptr, 32, "h200-magic", 0.0f, bits.data()),
         "h200-magic");
  MX_MSG(mxlab_gemm_f32(x.data(), x.data(), nullptr, out.data(), 2, 2, 16, "mxfp8_e4m3", nullptr,
                        32, nullptr, "e9m99"),
         "mxlab_gemm_f32: output_format");
  codes[3] = 0x100;  // not an fp8 code
  MX_MSG(mxlab_decode(codes.data(), scales.data(), 64, "mxfp8_e4m3", 32, y.data()),
         "codes[3] = 0x100 is not a code of e4m3");
  MX_MSG(mxlab_dot(codes.data(), scales.data(), codes.data(), scales.data(), 64, "mxfp8_e4m3",
                   nullptr, 32, nullptr, 0.0f, bits.data()),
         "a_codes[3]");
#undef MX_MSG
  for (const Msg& m : msgs) {
    EXPECT_NE(m.text.find(m.culprit), std::string::npos) << m.text;
    EXPECT_EQ(m.text.find('\n'), std::string::npos) << m.text;
  }
  // Nothing was written by any failing call.
  for (float v : y) EXPECT_EQ(v, 7.0f);
  for (float v : out) EXPECT_EQ(v, 7.0f);
  EXPECT_EQ(bits[0], 7u);
  // A success clears the message.
  ASSERT_EQ(mxlab_quantize_f32(x.data(), 64, nullptr, 32, nullptr, nullptr, y.data()), 0);
  EXPECT_STREQ(mxlab_last_error(), "");
}

}  // namespace
}  // namespace mx
