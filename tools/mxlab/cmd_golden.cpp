// mxlab golden: test vectors (inputs as packed codes + scale bytes, expected output bits)
// for an operand format and an accumulator model, to HDF5 and optionally $readmemh hex.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "emulator/io/golden.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {
namespace {

struct GoldenArgs {
  std::string format, format_b, accum = "exact", output, hex, output_format = "fp32";
  std::string rounding = "nearest-even";
  int block_size = 32;
  int promote_every = -1;
  long long cases = 64, k = 32;
  std::uint64_t seed = 0;
};

int run_golden(const GoldenArgs& g, const CLI::App& sub) {
  if (g.block_size < 1)
    throw std::runtime_error(fmt::format("--block-size must be >= 1 (got {})", g.block_size));
  if (g.cases < 1 || g.cases > 10000000)
    throw std::runtime_error(fmt::format("--cases must be 1..10000000 (got {})", g.cases));
  if (g.k < 1 || g.k > 1000000)
    throw std::runtime_error(fmt::format("--k must be 1..1000000 (got {})", g.k));
  GoldenSpec spec;
  spec.a.format = parse_operand_format("--format", g.format, g.block_size);
  spec.b.format = g.format_b.empty() ? spec.a.format
                                     : parse_operand_format("--format-b", g.format_b, g.block_size);
  if ((spec.a.format.block_size > 0) != (spec.b.format.block_size > 0))
    throw std::runtime_error(fmt::format(
        "--format-b {}: both operands must have a shared scale or neither", g.format_b));
  spec.model = parse_model_flags(g.accum, sub.count("--promote-every") > 0, g.promote_every,
                                 g.output_format, g.rounding);
  spec.cases = static_cast<std::size_t>(g.cases);
  spec.k = static_cast<std::size_t>(g.k);
  spec.seed = g.seed;
  check_writable("--output", g.output);
  if (!g.hex.empty()) check_writable("--hex", g.hex);
  const auto cases = make_golden(spec);
  const std::string provenance =
      fmt::format("{}; mxlab golden --format {} --accum {} --cases {} --seed {} --k {}",
                  version_string(), g.format, g.accum, g.cases, g.seed, g.k);
  if (!g.hex.empty()) write_golden_hex(g.hex, spec, cases, provenance);
  write_golden_h5(g.output, spec, cases, provenance);
  return 0;
}

}  // namespace

void register_golden(CLI::App& app, std::vector<Command>& out) {
  auto g = std::make_shared<GoldenArgs>();
  CLI::App* sub = app.add_subcommand(
      "golden", "golden test vectors of MX dot products under an accumulator model (HDF5 + hex)");
  sub->add_option("--format", g->format, "operand format (mxfp8_e4m3, ..., or an element format)")
      ->required();
  sub->add_option("--format-b", g->format_b, "format of the second operand (default: --format)");
  sub->add_option("--accum", g->accum, "accumulator model (see mxlab gemm --help)")->required();
  sub->add_option("--cases", g->cases,
                  "number of cases (the first ones are fixed edge cases; default 64)");
  sub->add_option("--seed", g->seed, "seed of the random cases (default 0)");
  sub->add_option("--k", g->k, "dot-product length (default 32)");
  sub->add_option("--block-size", g->block_size, "elements per shared scale (default 32)");
  sub->add_option("--promote-every", g->promote_every, "promotion interval N (fused models)");
  sub->add_option("--output-format", g->output_format, "output format (default fp32)");
  sub->add_option("--rounding", g->rounding, "rounding into the output format");
  sub->add_option("--output", g->output, "HDF5 file (replaced atomically)")->required();
  sub->add_option("--hex", g->hex, "also write $readmemh text, one case per line");
  out.push_back({sub, [g, sub] { return run_golden(*g, *sub); }});
}

}  // namespace mx::cli
