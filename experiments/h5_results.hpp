// The sweep result file (HDF5; schema in results/README.md).
//
// Crash safety: the file on disk is always a complete HDF5 file. Every change is made to a
// copy (`NAME.h5.tmp-PID`), which is flushed, closed, fsync'ed and then renamed over the
// original; rename(2) is atomic, so a SIGKILL at any instant leaves either the old file or
// the new one, and a point is either entirely in the file or absent. Only one process (rank
// 0's main thread) ever writes.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "experiments/config.hpp"
#include "experiments/record.hpp"

namespace mx::experiments {

inline constexpr int kSchemaVersion = 1;

struct RunInfo {
  std::string mxlab_version, git_revision, host, start_time;
};

// Creates `path` afresh (atomically replacing any file there) with the root attributes, the
// format and workload descriptions, the axes and an empty /points table.
void create_result_file(const std::string& path, const SweepConfig& c, const RunInfo& info,
                        std::uint64_t points_total);

// Appends records as one atomic commit (copy, append, fsync, rename). `complete` sets the
// root attribute `complete` to 1 (all points present).
void append_points(const std::string& path, std::span<const PointRecord> records, bool complete);

// Removes `path`'s temporary copies left by killed processes (pids no longer alive).
void remove_stale_temps(const std::string& path);

struct ResultFile {
  std::map<std::string, std::string> attrs;  // every string root attribute
  std::int64_t schema_version = 0;
  std::int64_t points_total = 0;
  std::int64_t complete = 0;
  std::map<std::string, std::vector<std::string>> axes;  // /axes/<name>, values as text
  std::vector<PointRecord> records;                      // in file (completion) order
};

// Reads a result file. Throws IoError naming the file when it is missing or not one.
ResultFile read_results(const std::string& path);

}  // namespace mx::experiments
