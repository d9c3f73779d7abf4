// mxlab hwfit: identifies the accumulator model of each capture family of a hardware probe
// file, stage by stage from the targeted probes (experiments/hw/hwfit.hpp, results/HARDWARE.md).
//
//   mxlab hwfit --data probe.h5 [--group SUBSTR]... [--report fit.json] [--expect MODEL]
//               [--threads N]
//
// Prints per family the stages (probe read, parameters pinned, winner, runners-up), the
// descriptor, the parameters the data cannot distinguish and the hwcheck agreement table.
// Exits 1 with one error line when a family is outside the model space (naming the probe
// kinds left unexplained) or when --expect MODEL does not reproduce the data as well.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "emulator/accum_model.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/hw/hwcheck.hpp"
#include "experiments/hw/hwfit.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct HwfitArgs {
  std::string data, report, expect;
  std::vector<std::string> groups;
  int threads = 0;
};

nlohmann::json to_json(const FitResult& r) {
  nlohmann::json j;
  j["family"] = r.family;
  j["formats"] = r.formats;
  j["groups"] = r.groups;
  j["ok"] = r.ok;
  j["descriptor"] = to_string(r.model);
  j["stages"] = nlohmann::json::array();
  for (const FitStage& s : r.stages) {
    nlohmann::json js = {{"round", s.round}, {"stage", s.name},    {"probe", s.probe},
                         {"pins", s.pins},   {"chosen", s.chosen}, {"match", s.match},
                         {"total", s.total}, {"ties", s.ties},     {"note", s.note}};
    js["runners_up"] = nlohmann::json::array();
    for (const auto& c : s.runners_up)
      js["runners_up"].push_back({{"params", c.params}, {"match", c.match}, {"total", c.total}});
    j["stages"].push_back(js);
  }
  j["local_search"] = r.local_search;
  j["undistinguished"] = r.undistinguished;
  j["agreement"] = nlohmann::json::array();
  for (const KindAgreement& a : r.table)
    j["agreement"].push_back(
        {{"group", a.group}, {"kind", a.kind}, {"match", a.match}, {"total", a.total}});
  if (!r.ok) j["failure"] = r.failure;
  return j;
}

void print(const FitResult& r) {
  std::printf("family %s (%s): %zu groups\n", r.family.c_str(), r.formats.c_str(), r.groups.size());
  for (const FitStage& s : r.stages) {
    std::printf("  round %d %-9s %-42s pins %-24s -> %s", s.round, s.name.c_str(), s.probe.c_str(),
                s.pins.c_str(), s.chosen.c_str());
    if (s.total) std::printf("  %zu/%zu", s.match, s.total);
    if (!s.runners_up.empty())
      std::printf("  (next %s %zu/%zu)", s.runners_up.front().params.c_str(),
                  s.runners_up.front().match, s.runners_up.front().total);
    if (!s.ties.empty()) std::printf("  [%zu tied]", s.ties.size());
    if (!s.note.empty()) std::printf("  %s", s.note.c_str());
    std::printf("\n");
  }
  for (const auto& l : r.local_search) std::printf("  local search: %s\n", l.c_str());
  std::printf("descriptor: %s\n", to_string(r.model).c_str());
  if (!r.undistinguished.empty())
    std::printf("not distinguished by this data: %s\n",
                fmt::format("{}", fmt::join(r.undistinguished, "; ")).c_str());
  std::printf("%-40s %-10s %17s %9s\n", "group", "kind", "match/total", "%");
  std::size_t m = 0, t = 0;
  for (const KindAgreement& a : r.table) {
    m += a.match;
    t += a.total;
    std::printf("%-40s %-10s %8zu/%-8zu %9.4f\n", a.group.c_str(), a.kind.c_str(), a.match, a.total,
                100.0 * static_cast<double>(a.match) / static_cast<double>(a.total));
  }
  std::printf("%-40s %-10s %8zu/%-8zu %9.4f\n\n", "total", "", m, t,
              t ? 100.0 * static_cast<double>(m) / static_cast<double>(t) : 0.0);
}

int run_hwfit(const HwfitArgs& h) {
  if (h.threads < 0)
    throw std::runtime_error(fmt::format("--threads must be >= 0 (got {})", h.threads));
  std::optional<AccumModel> expect;
  if (!h.expect.empty()) {
    try {
      expect = parse_accum_model(h.expect);
    } catch (const AccumModelError& e) {  // its message names --accum; this flag is --expect
      std::string msg = e.what();
      if (msg.rfind("--accum", 0) == 0) msg = "--expect" + msg.substr(7);
      throw std::runtime_error(msg);
    }
  }
  if (!h.report.empty()) check_writable("--report", h.report);
  const ProbeFile pf = read_probe(h.data, h.groups);
  const int threads =
      h.threads > 0 ? h.threads : static_cast<int>(std::thread::hardware_concurrency());
  const std::vector<FitResult> fits = hwfit(pf, threads);
  for (const FitResult& r : fits) print(r);
  for (const FitResult& r : fits)
    if (!r.ok) throw std::runtime_error("hwfit: " + r.failure);
  if (expect) {
    for (const FitResult& r : fits) {
      std::size_t m = 0, t = 0;
      for (const std::string& gname : r.groups)
        for (const ProbeGroup& g : pf.groups)
          if (g.name == gname)
            for (const KindAgreement& a : hwcheck(g, *expect, threads)) {
              m += a.match;
              t += a.total;
            }
      if (m != t)
        throw std::runtime_error(
            fmt::format("--expect {}: {}/{} outputs of {} where the fitted {} reproduces all",
                        h.expect, m, t, r.family, to_string(r.model)));
      std::printf("--expect %s: equivalent on %s (%zu/%zu)\n", h.expect.c_str(), r.family.c_str(),
                  m, t);
    }
  }
  if (!h.report.empty()) {
    nlohmann::json j;
    j["data"] = h.data;
    j["layout"] = pf.layout;
    j["families"] = nlohmann::json::array();
    for (const FitResult& r : fits) j["families"].push_back(to_json(r));
    const std::string text = j.dump(2) + "\n";
    write_file_atomic(h.report, text.data(), text.size());  // temp + fsync + rename
  }
  return 0;
}

}  // namespace

void register_hwfit(CLI::App& app, std::vector<Command>& out) {
  auto h = std::make_shared<HwfitArgs>();
  CLI::App* sub = app.add_subcommand(
      "hwfit", "identify the accumulator model of a hardware capture (tools/hw/probe.py)");
  sub->add_option("--data", h->data, "capture file (HDF5, layout mxlab-hwprobe-v1)")->required();
  sub->add_option("--group", h->groups,
                  "only capture groups whose name contains this (repeatable)");
  sub->add_option("--report", h->report, "write the fit (stages, descriptor, agreement) as JSON");
  sub->add_option(
      "--expect", h->expect,
      "also check that this model reproduces every output the fit does (exit 1 if not)");
  sub->add_option("--threads", h->threads, "worker threads (default: all cores)");
  out.push_back({sub, [h] { return run_hwfit(*h); }});
}

}  // namespace mx::cli
