// mxlab hwcheck: agreement of an accumulator model with a hardware capture
// (tools/hw/probe.py; layout and measured tables in results/HARDWARE.md).
//
//   mxlab hwcheck --data probe.h5 --accum MODEL [--group SUBSTR]... [--threads N]
//
// Prints one row per capture group and data kind: exact bit matches / total (NaN = NaN
// counts as a match) and the worst distance in fp32 ULPs over the mismatches; then the total.
#include <bit>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "experiments/hw/hwcheck.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct HwcheckArgs {
  std::string data, accum;
  std::vector<std::string> groups;
  int threads = 0;
  bool quiet = false;
  int show = 0;
};

std::string ulp_str(std::uint64_t u) { return u == kNanMismatch ? "NaN" : fmt::format("{}", u); }

int run_hwcheck(const HwcheckArgs& h) {
  const AccumModel model = parse_accum_model(h.accum);  // AccumModelError names --accum
  if (!(model.out == kFp32))
    throw std::runtime_error("--accum: the output format must be fp32 (captures are fp32)");
  if (h.threads < 0)
    throw std::runtime_error(fmt::format("--threads must be >= 0 (got {})", h.threads));
  const ProbeFile pf = read_probe(h.data, h.groups);
  const int threads =
      h.threads > 0 ? h.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::printf("model: %s\n", to_string(model).c_str());
  std::printf("%-40s %-10s %17s %9s %10s\n", "group", "kind", "match/total", "%", "worst ulp");
  std::size_t match = 0, total = 0;
  std::uint64_t worst = 0;
  int shown = 0;
  for (const ProbeGroup& g : pf.groups) {
    if (shown < h.show) {  // the first mismatches, to see what a model gets wrong
      const auto d = model_outputs(g, model, threads);
      for (std::size_t j = 0; j < d.size() && shown < h.show; ++j) {
        if (hw_match(g.d[j], d[j])) continue;
        const std::size_t mn = g.m * g.n, t = j / mn;
        std::printf("mismatch %s tile %zu (%s) row %zu col %zu: hw %08x model %08x c %08x\n",
                    g.name.c_str(), t, g.kinds[g.kind[t]].c_str(), (j % mn) / g.n, j % g.n, g.d[j],
                    d[j], std::bit_cast<std::uint32_t>(g.c[j]));
        ++shown;
      }
    }
    for (const KindAgreement& r : hwcheck(g, model, threads)) {
      match += r.match;
      total += r.total;
      if (r.match != r.total) worst = std::max(worst, r.worst_ulp);
      if (h.quiet) continue;
      std::printf("%-40s %-10s %8zu/%-8zu %9.4f %10s\n", r.group.c_str(), r.kind.c_str(), r.match,
                  r.total, 100.0 * static_cast<double>(r.match) / static_cast<double>(r.total),
                  r.match == r.total ? "-" : ulp_str(r.worst_ulp).c_str());
    }
  }
  std::printf("%-40s %-10s %8zu/%-8zu %9.4f %10s\n", "total", "", match, total,
              total ? 100.0 * static_cast<double>(match) / static_cast<double>(total) : 0.0,
              match == total ? "-" : ulp_str(worst).c_str());
  return 0;
}

}  // namespace

void register_hwcheck(CLI::App& app, std::vector<Command>& out) {
  auto h = std::make_shared<HwcheckArgs>();
  CLI::App* sub = app.add_subcommand(
      "hwcheck", "agreement of an accumulator model with a hardware capture (tools/hw/probe.py)");
  sub->add_option("--data", h->data, "capture file (HDF5, layout mxlab-hwprobe-v1)")->required();
  sub->add_option("--accum", h->accum,
                  "model: h100-mma | h100-wgmma | h100-wgmma-fast | fused:k=...,w=... "
                  "(see results/GOLDEN_VECTORS.md)")
      ->required();
  sub->add_option("--group", h->groups,
                  "only capture groups whose name contains this (repeatable)");
  sub->add_option("--threads", h->threads, "worker threads (default: all cores)");
  sub->add_flag("--quiet", h->quiet, "print the total only");
  sub->add_option("--show-mismatches", h->show, "print the first N mismatching outputs");
  out.push_back({sub, [h] { return run_hwcheck(*h); }});
}

}  // namespace mx::cli
