// Running the built mxlab binary from tests: fork/exec with stdout/stderr captured in files.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "experiments/h5_results.hpp"

namespace mx::experiments::testing {

struct Exit {
  int code = -1;   // exit status, or -1 when killed
  int signal = 0;  // the signal that killed it
  std::string out, err;
};

// Starts argv[0] with argv, stdout/stderr redirected to `log_prefix`.out/.err; extra
// "NAME=value" environment entries are added. Returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_prefix,
            const std::vector<std::string>& env = {});
Exit wait_for(pid_t pid, const std::string& log_prefix);
Exit run(const std::vector<std::string>& argv, const std::string& log_prefix,
         const std::vector<std::string>& env = {});

// Compares two result files the way the crash/MPI contract states it: the same set of points
// (by point_id, none duplicated) with identical values in every field and histogram bin, and
// identical root attributes and axes, except fields/attributes whose names contain time,
// timing, elapsed, duration, host or pid. Returns "" when equal, else what differs.
std::string compare_results(const ResultFile& a, const ResultFile& b);

}  // namespace mx::experiments::testing
