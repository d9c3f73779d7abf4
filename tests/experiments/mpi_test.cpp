// Two MPI ranks give the same result file as one process.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cli_util.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

constexpr const char* kConfig = R"([sweep]
formats = ["mxint8", "mxfp6_e2m3", "mxfp4_e2m1"]
block_sizes = [8, 32, 256]
roundings = ["nearest-even", "stochastic"]
seeds = [0, 5]
[workloads.act]
kind = "llm_activations"
shape = [64, 1024]
[workloads.t]
kind = "student_t"
shape = [32, 500]
axis = 0
)";

TEST(SweepMpi, TwoRanksEqualOneProcess) {
  const std::string mpirun = MX_MPIRUN;
  if (mpirun.empty()) GTEST_SKIP() << "mpirun not found";
  testing::TempDir dir("mpi");
  testing::write_text(dir / "c.toml", kConfig);
  // OpenMPI's own allocations are not ours to leak-check under the sanitizer build.
  const std::vector<std::string> env = {"ASAN_OPTIONS=detect_leaks=0"};
  const testing::Exit one = testing::run(
      {MXLAB_BIN, "sweep", "--config", dir / "c.toml", "--output", dir / "one.h5", "--no-table"},
      dir / "one", env);
  ASSERT_EQ(one.code, 0) << one.err;
  const testing::Exit two = testing::run(
      {mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "2", MXLAB_BIN, "sweep", "--config",
       dir / "c.toml", "--output", dir / "two.h5", "--threads", "1", "--no-table"},
      dir / "two", env);
  ASSERT_EQ(two.code, 0) << two.out << two.err;
  EXPECT_NE(two.err.find("2 ranks"), std::string::npos) << two.err;
  const ResultFile a = read_results(dir / "one.h5"), b = read_results(dir / "two.h5");
  EXPECT_EQ(a.records.size(), 2u * 2 * 3 * 3 * 2);
  EXPECT_EQ(testing::compare_results(a, b), "");
  std::set<std::int64_t> pids;
  for (const auto& r : b.records) pids.insert(r.row.pid);
  EXPECT_EQ(pids.size(), 2u) << "both ranks computed points";
}

}  // namespace
}  // namespace mx::experiments
