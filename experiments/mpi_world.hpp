// MPI distribution of a sweep: rank 0 is the only writer; the other ranks compute their share
// of the points and send each finished record to rank 0.
//
// MPI is initialised only when the process was started by an MPI launcher (mpirun/mpiexec
// put OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK in the environment). A plain `mxlab sweep`
// does not touch MPI at all: no singleton start-up (about half a second with OpenMPI) and no
// helper daemon. Only the calling (main) thread makes MPI calls (MPI_THREAD_FUNNELED).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/record.hpp"

namespace mx::experiments {

class MpiWorld {
 public:
  MpiWorld();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  bool active() const { return active_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_size() const;  // ranks on this host (for the default thread count)

  // Collective: rank 0's value is copied to every rank (no-op without MPI).
  void bcast(std::string& s) const;
  void bcast(std::vector<std::uint64_t>& v) const;
  void bcast(std::int64_t& v) const;

  void send_record(const PointRecord& r) const;  // to rank 0
  // Rank 0: appends every record that has arrived (does not wait).
  void poll_records(std::vector<PointRecord>* out) const;

  [[noreturn]] void abort(int code) const;

 private:
  bool active_ = false, owns_ = false;
  int rank_ = 0, size_ = 1;
};

// True when the environment says an MPI launcher started this process.
bool launched_by_mpi();

}  // namespace mx::experiments
