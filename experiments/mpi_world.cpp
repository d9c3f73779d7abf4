#include "experiments/mpi_world.hpp"

#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdlib>
#include <stdexcept>

namespace mx::experiments {

namespace {
constexpr int kTagRecord = 1;
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

MpiWorld::MpiWorld() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (!launched_by_mpi()) return;
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw std::runtime_error("MPI_Init_thread failed");
    owns_ = true;
  }
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiWorld::~MpiWorld() {
  if (owns_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

int MpiWorld::local_size() const {
  if (const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) {
    const int n = std::atoi(v);
    if (n > 0) return n;
  }
  return 1;
}

void MpiWorld::bcast(std::string& s) const {
  if (!active_ || size_ == 1) return;
  std::int64_t n = static_cast<std::int64_t>(s.size());
  bcast(n);
  s.resize(static_cast<std::size_t>(n));
  if (n) MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
}

void MpiWorld::bcast(std::vector<std::uint64_t>& v) const {
  if (!active_ || size_ == 1) return;
  std::int64_t n = static_cast<std::int64_t>(v.size());
  bcast(n);
  v.resize(static_cast<std::size_t>(n));
  if (n) MPI_Bcast(v.data(), static_cast<int>(n), MPI_UINT64_T, 0, MPI_COMM_WORLD);
}

void MpiWorld::bcast(std::int64_t& v) const {
  if (!active_ || size_ == 1) return;
  MPI_Bcast(&v, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
}

void MpiWorld::send_record(const PointRecord& r) const {
  // Ranks run the same binary on the same architecture, so the record travels as bytes.
  MPI_Send(&r, static_cast<int>(sizeof r), MPI_BYTE, 0, kTagRecord, MPI_COMM_WORLD);
}

void MpiWorld::poll_records(std::vector<PointRecord>* out) const {
  if (!active_ || size_ == 1) return;
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagRecord, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return;
    PointRecord r;
    MPI_Recv(&r, static_cast<int>(sizeof r), MPI_BYTE, st.MPI_SOURCE, kTagRecord, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    out->push_back(r);
  }
}

void MpiWorld::abort(int code) const {
  if (active_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace mx::experiments
