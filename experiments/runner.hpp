// Runs a sweep: config -> run list -> points computed by a thread pool (and MPI ranks) ->
// committed to the result file by one writer, point by point, crash-safe (h5_results.hpp).
//
// Output policy: with --resume and an existing file, the points already in it are skipped
// (the file must come from the same config: its canonical text is compared). An existing
// file is never replaced unless asked (--overwrite); then, or when there is no file, the
// sweep starts afresh: a new file with the header and no points atomically replaces whatever
// was at the output path, and points are appended as they finish. A killed run therefore
// always leaves a valid, resumable file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/tensor.hpp"
#include "experiments/config.hpp"
#include "experiments/record.hpp"
#include "experiments/sweep.hpp"

namespace mx::experiments {

struct SweepOptions {
  std::string config_path;  // empty: the embedded default config
  std::string output;       // empty: results/<sweep name>.h5 (results/ is created)
  bool resume = false;
  bool overwrite = false;          // replace an existing output (without it and --resume: an error)
  int threads = 0;                 // worker threads per process; 0: cores / ranks on this host
  bool progress = false;           // progress on stderr even when it is not a terminal
  double commit_interval_s = 0.2;  // the writer commits at most this often (and at the end)
  std::string mxlab_version = "unknown", git_revision = "unknown";
};

struct SweepSummary {
  bool is_root = true;  // rank 0 (or no MPI): the process that wrote the file
  std::string output;
  SweepConfig config;
  std::size_t total = 0;     // points in the run list
  std::size_t already = 0;   // found in the file (--resume)
  std::size_t computed = 0;  // computed by this run, all ranks
  double seconds = 0;
  double compute_seconds = 0;  // rank 0: summed time of the points (quantize + statistics)
  double write_seconds = 0;    // rank 0: time spent committing points to the file
  int ranks = 1;
};

// Raised on ranks other than 0 when rank 0 failed before the sweep started (rank 0 reports
// the error; the others exit quietly with status 1).
class PeerFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

SweepSummary run_sweep(const SweepOptions& opt);

// One point on its (already generated) workload tensor, with the statistics and provenance
// filled in. `q` and `codes` are scratch buffers reused between calls.
PointRecord run_point(const Point& p, const WorkloadSpec& w, const Tensor& x, Tensor& q,
                      std::vector<std::uint32_t>& codes);

}  // namespace mx::experiments
