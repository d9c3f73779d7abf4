// mxlab gemm: C = A * B (+ C0) with A (M x K) and B (K x N) quantized along K, multiplied
// under an accumulator model (emulator/accum_model.hpp); float32 output.
#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "emulator/io/tensor_io.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct GemmArgs {
  std::string a, b, c, output, format, format_b, accum = "exact", output_format = "fp32";
  std::string rounding = "nearest-even";
  int block_size = 32;
  int promote_every = -1;
  int threads = 0;
};

Tensor read_matrix(const std::string& flag, const std::string& spec) {
  Tensor t = read_tensor(spec);
  if (t.shape.size() != 2)
    throw std::runtime_error(
        fmt::format("{} {}: expected a matrix (rank 2), got rank {}", flag, spec, t.shape.size()));
  return t;
}

int run_gemm(const GemmArgs& g, const CLI::App& sub) {
  if (g.block_size < 1)
    throw std::runtime_error(fmt::format("--block-size must be >= 1 (got {})", g.block_size));
  const MxFormat fa = parse_operand_format("--format", g.format, g.block_size);
  const MxFormat fb =
      g.format_b.empty() ? fa : parse_operand_format("--format-b", g.format_b, g.block_size);
  if ((fa.block_size > 0) != (fb.block_size > 0))
    throw std::runtime_error(fmt::format(
        "--format-b {}: both operands must have a shared scale or neither", g.format_b));
  const AccumModel model = parse_model_flags(g.accum, sub.count("--promote-every") > 0,
                                             g.promote_every, g.output_format, g.rounding);
  check_writable("--output", g.output);

  const Tensor a = read_matrix("--a", g.a);
  const Tensor b = read_matrix("--b", g.b);
  if (a.shape[1] != b.shape[0])
    throw std::runtime_error(
        fmt::format("--b {}: K mismatch: B has {} rows but A ({}) has K = {} columns", g.b,
                    b.shape[0], g.a, a.shape[1]));
  const std::size_t m = a.shape[0], n = b.shape[1];
  std::vector<float> c0;
  if (!g.c.empty()) {
    const Tensor c = read_matrix("--c", g.c);
    if (c.shape[0] != m || c.shape[1] != n)
      throw std::runtime_error(fmt::format("--c {}: shape {}x{} does not match the output {}x{}",
                                           g.c, c.shape[0], c.shape[1], m, n));
    c0.resize(m * n);
    for (std::size_t i = 0; i < m * n; ++i)  // C0 enters as fp32
      c0[i] =
          c.dtype == DType::kF32
              ? c.f32[i]
              : static_cast<float>(decode(
                    kFp32, encode(kFp32, c.f64[i],
                                  RoundSpec{Rounding::kNearestEven, Overflow::kToNanOrInf, 0})));
  }
  const int threads =
      g.threads > 0 ? g.threads : static_cast<int>(std::thread::hardware_concurrency());
  BlockSpec sa, sb;
  sa.format = fa;
  sb.format = fb;
  MxMatrix qa = quantize_operand(a, 1, sa, threads, "--a");
  MxMatrix qb = quantize_operand(b, 0, sb, threads, "--b");
  keep_infinities(a, 1, qa);
  keep_infinities(b, 0, qb);
  GemmOptions opt;
  opt.model = model;
  opt.threads = threads;
  const std::vector<std::uint32_t> codes = gemm(qa, qb, c0, opt);
  Tensor out;
  out.shape = {m, n};
  out.f32.resize(m * n);
  for (std::size_t i = 0; i < m * n; ++i)
    out.f32[i] = static_cast<float>(decode(model.out, codes[i]));
  write_tensor(g.output, out);
  return 0;
}

}  // namespace

void register_gemm(CLI::App& app, std::vector<Command>& out) {
  auto g = std::make_shared<GemmArgs>();
  CLI::App* sub = app.add_subcommand(
      "gemm", "C = A*B (+C0) of MX-quantized operands under an accumulator model");
  sub->add_option("--a", g->a, "A: M x K matrix (.npy or file.h5:/dataset)")->required();
  sub->add_option("--b", g->b, "B: K x N matrix")->required();
  sub->add_option("--c", g->c, "C0: M x N addend (float32; float64 is rounded to float32)");
  sub->add_option("--output", g->output, "output M x N float32 (replaced atomically)")->required();
  sub->add_option("--format", g->format,
                  "operand format: mxfp8_e4m3 ... (E8M0 scales) or an element format (e4m3)")
      ->required();
  sub->add_option("--format-b", g->format_b, "format of B (default: --format)");
  sub->add_option("--block-size", g->block_size, "elements per shared scale along K (default 32)");
  sub->add_option("--accum", g->accum,
                  "exact | fp32-seq | fp32-pairwise | h100-mma | h100-wgmma | h100-wgmma-fast | "
                  "fused:k=16,w=25,acc=fp32,round=toward-zero,... (see results/GOLDEN_VECTORS.md)");
  sub->add_option(
      "--promote-every", g->promote_every,
      "promotion interval N (fused models): partial sums go into fp32 every N products");
  sub->add_option("--output-format", g->output_format,
                  "rounding target of the output (fp32, bf16, fp16, eXmY)");
  sub->add_option("--rounding", g->rounding, "rounding of the output into --output-format");
  sub->add_option("--threads", g->threads,
                  "worker threads (default: all cores); results do not depend on it");
  out.push_back({sub, [g, sub] { return run_gemm(*g, *sub); }});
}

}  // namespace mx::cli
