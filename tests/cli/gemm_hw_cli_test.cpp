// The hardware captures through the command line, the way an outside check runs them:
// every tile of the committed H100 subset (one tile per data kind and group) is written as
// A.npy (M x K), B.npy (K x N) and C.npy (M x N) float32, `mxlab gemm --format FA
// --format-b FB --accum PRESET --c C.npy` is run on it, and the fp32 bits of the output must
// equal what the GPU returned (NaN matches any NaN). This covers what the library-level
// hwcheck test cannot: argument parsing, .npy I/O, the pass-through of already representable
// element values and the C operand on the CLI path.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "emulator/io/tensor_io.hpp"
#include "experiments/hw/hwcheck.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "tests/cli/run_mxlab.hpp"

namespace fs = std::filesystem;

namespace mx {
namespace {

const std::string kCapture = std::string(MX_HW_DATA_DIR) + "/h100_probe.h5";
const std::string kSpecials = std::string(MX_HW_DATA_DIR) + "/h100_cublas_specials.h5";

// The preset an outside check names for each captured operation.
std::string preset_for(const ProbeGroup& g) {
  if (g.op.find("use_fast_accum=True") != std::string::npos) return "h100-cublas-fp8-fast";
  if (g.op.find("_scaled_mm") != std::string::npos) return "h100-cublas-fp8";
  if (g.op.find("m16n8k32") != std::string::npos) return "h100-mma-fp8";
  if (g.op.find(".f16.") != std::string::npos) return "h100-mma-fp16";
  if (g.op.find(".bf16.") != std::string::npos) return "h100-mma-bf16";
  return "";
}

Tensor matrix(std::size_t r, std::size_t c) {
  Tensor t;
  t.shape = {r, c};
  t.f32.assign(r * c, 0.0f);
  return t;
}

TEST(GemmHwCli, CapturedTilesReproducedBitForBit) {
  ProbeFile pf = read_probe(kCapture);
  // cuBLAS with NaN/Inf operands and single products, from a second capture.
  for (ProbeGroup& g : read_probe(kSpecials).groups) pf.groups.push_back(std::move(g));
  const fs::path dir = test::fresh_test_dir("mxlab_gemm_hw_cli");
  std::size_t tiles = 0, outputs = 0;
  std::set<std::string> presets_run;
  for (const ProbeGroup& g : pf.groups) {
    const std::string preset = preset_for(g);
    if (preset.empty()) continue;
    const ElemFormat fa = parse_elem_format(g.format_a), fb = parse_elem_format(g.format_b);
    std::set<std::uint8_t> kinds_seen;
    for (std::size_t t = 0; t < g.t; ++t) {
      if (!kinds_seen.insert(g.kind[t]).second) continue;  // one tile per kind
      Tensor a = matrix(g.m, g.k), b = matrix(g.k, g.n), c = matrix(g.m, g.n);
      for (std::size_t i = 0; i < g.m; ++i)
        for (std::size_t k = 0; k < g.k; ++k)
          a.f32[i * g.k + k] = static_cast<float>(decode(fa, g.a[(t * g.m + i) * g.k + k]));
      for (std::size_t j = 0; j < g.n; ++j)
        for (std::size_t k = 0; k < g.k; ++k)
          b.f32[k * g.n + j] = static_cast<float>(decode(fb, g.b[(t * g.n + j) * g.k + k]));
      for (std::size_t x = 0; x < g.m * g.n; ++x) c.f32[x] = g.c[t * g.m * g.n + x];
      const std::string pa = (dir / "a.npy").string(), pb = (dir / "b.npy").string(),
                        pc = (dir / "c.npy").string(), py = (dir / "y.npy").string();
      write_npy(pa, a);
      write_npy(pb, b);
      write_npy(pc, c);
      const test::CmdResult r = test::run_mxlab(
          "gemm --a " + pa + " --b " + pb + " --c " + pc + " --output " + py + " --format " +
              g.format_a + " --format-b " + g.format_b + " --accum " + preset,
          "gemm_hw_cli");
      ASSERT_EQ(r.status, 0) << g.name << " tile " << t << ": " << r.err;
      const Tensor y = read_npy(py);
      ASSERT_EQ(y.size(), g.m * g.n) << g.name;
      for (std::size_t x = 0; x < g.m * g.n; ++x) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &y.f32[x], 4);
        const std::uint32_t hw = g.d[t * g.m * g.n + x];
        EXPECT_TRUE(hw_match(hw, bits))
            << g.name << " tile " << t << " kind " << g.kinds[g.kind[t]] << " output " << x
            << ": hw 0x" << std::hex << hw << " mxlab 0x" << bits;
      }
      ++tiles;
      outputs += g.m * g.n;
      presets_run.insert(preset);
    }
  }
  // The subset holds every preset above with all ten data kinds; a smaller count means the
  // loop silently skipped groups.
  EXPECT_EQ(presets_run.size(), 5u);
  EXPECT_GE(tiles, 100u);
  RecordProperty("tiles", static_cast<int>(tiles));
  RecordProperty("outputs", static_cast<int>(outputs));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace mx
