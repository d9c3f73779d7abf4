// mxlab sweep: runs a config-driven sweep into a crash-safe HDF5 result file and prints the
// config's [report] table (experiments/runner.hpp has the semantics).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "emulator/io/io_checks.hpp"
#include "experiments/config.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/runner.hpp"
#include "experiments/table.hpp"
#include "formats/message.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {
namespace {

struct SweepArgs {
  std::string config, output;
  bool resume = false, overwrite = false, progress = false, print_default = false, no_table = false;
  int threads = 0;
  double commit_interval = 0.2;
};

int run_sweep_cmd(const SweepArgs& a) {
  namespace xp = mx::experiments;
  if (a.print_default) {
    const auto text = xp::default_config_text();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  resolve_threads(a.threads);  // the runner divides the cores among MPI ranks for 0
  if (!a.output.empty()) {
    check_writable("--output", a.output);
    check_distinct_files({{"--config", a.config}}, {{"--output", a.output}});
    if (!a.output.ends_with(".h5") && !a.output.ends_with(".hdf5"))
      throw std::runtime_error(
          fmt::format("--output {}: the result file must end in .h5 or .hdf5", a.output));
  }
  if (!(a.commit_interval >= 0) || a.commit_interval > 3600)
    throw std::runtime_error(
        fmt::format("--commit-interval must be 0..3600 seconds (got {})", a.commit_interval));
  xp::SweepOptions o;
  o.config_path = a.config;
  o.output = a.output;
  o.resume = a.resume;
  o.overwrite = a.overwrite;
  o.threads = a.threads;
  o.progress = a.progress;
  o.commit_interval_s = a.commit_interval;
  o.mxlab_version = version_number();
  o.git_revision = git_revision();
  xp::SweepSummary s;
  try {
    s = xp::run_sweep(o);
  } catch (const xp::PeerFailed&) {
    return 1;  // rank 0 reports the error
  }
  if (!s.is_root) return 0;
  std::fprintf(stderr,
               "mxlab sweep: %zu points (%zu computed, %zu already in the file) in %.1f s, %d "
               "rank%s -> %s\n",
               s.total, s.computed, s.already, s.seconds, s.ranks, s.ranks == 1 ? "" : "s",
               s.output.c_str());
  if (s.computed > 0)
    std::fprintf(stderr,
                 "mxlab sweep: driver overhead: %.3f s writing the file = %.2f%% of the %.1f s "
                 "spent computing points\n",
                 s.write_seconds, 100.0 * s.write_seconds / std::max(s.compute_seconds, 1e-9),
                 s.compute_seconds);
  if (a.no_table) return 0;
  xp::TableSpec t;
  t.rows = s.config.report.rows;
  t.cols = s.config.report.cols;
  t.metric = s.config.report.metric;
  t.where = s.config.report.where;
  try {
    const std::string table = xp::format_table(xp::read_results(s.output), t);
    std::fwrite(table.data(), 1, table.size(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mxlab sweep: warning: [report] table: %s\n",
                 sanitize_message(e.what()).c_str());
  }
  return 0;
}

}  // namespace

void register_sweep(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sub = app.add_subcommand(
      "sweep",
      "run a sweep of formats x block sizes x scale rules x roundings x workloads x seeds "
      "into a crash-safe HDF5 result file (MPI: mpirun -n N mxlab sweep ...)");
  sub->add_option(
      "--config", args->config,
      "sweep config (TOML); default: the embedded default config (--print-default-config)");
  sub->add_option(
      "--output", args->output,
      "result file (default results/<sweep.name>.h5); an existing one needs --resume or "
      "--overwrite");
  auto* resume = sub->add_flag(
      "--resume", args->resume,
      "keep the points already in --output and run only the missing ones (starts afresh "
      "if the file does not exist)");
  auto* overwrite =
      sub->add_flag("--overwrite", args->overwrite,
                    "replace an existing --output (its old points are gone once the sweep starts)");
  overwrite->excludes(resume);
  add_int_option(
      sub, "--threads", args->threads,
      "points computed in parallel per process (default: cores / MPI ranks on this host)");
  sub->add_option("--commit-interval", args->commit_interval,
                  "seconds between commits of finished points to the file (default 0.2; 0: after "
                  "every point); a kill loses at most this much work");
  sub->add_flag("--progress", args->progress,
                "show progress on stderr even when it is not a terminal");
  sub->add_flag("--no-table", args->no_table, "do not print the [report] table at the end");
  sub->add_flag("--print-default-config", args->print_default,
                "print the embedded default config and exit");
  out.push_back({sub, [args] { return run_sweep_cmd(*args); }});
}

MXLAB_COMMAND(20, register_sweep);

}  // namespace mx::cli
