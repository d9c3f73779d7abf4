// SIGKILL a sweep at many moments, resume it, and compare with an uninterrupted run: the same
// points with the same values, nothing lost or duplicated, and a valid file at every kill.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

// 2 workloads x 2 seeds x 3 formats x 4 block sizes x 2 roundings = 96 points of 512 Ki
// elements: about a second of work on two cores (Release).
constexpr const char* kConfig = R"([sweep]
formats = ["mxint8", "mxfp4_e2m1", "mxfp8_e4m3"]
block_sizes = [16, 32, 64, 128]
roundings = ["nearest-even", "stochastic"]
seeds = [0, 1]
workloads = ["act", "wt"]
[workloads.act]
kind = "llm_activations"
shape = [256, 2048]
[workloads.wt]
kind = "weights"
shape = [512, 1024]
)";

std::vector<std::string> sweep_args(const testing::TempDir& dir, const std::string& out,
                                    bool resume) {
  std::vector<std::string> a = {
      MXLAB_BIN,   "sweep", "--config",   dir / "c.toml",      "--output", out,
      "--threads", "2",     "--no-table", "--commit-interval", "0"};
  if (resume) a.push_back("--resume");
  return a;
}

TEST(SweepCrashResume, SigkillAtManyMomentsThenResumeEqualsUninterruptedRun) {
  testing::TempDir dir("crash");
  testing::write_text(dir / "c.toml", kConfig);
  const auto t0 = std::chrono::steady_clock::now();
  const testing::Exit ref = testing::run(sweep_args(dir, dir / "ref.h5", false), dir / "ref");
  ASSERT_EQ(ref.code, 0) << ref.err;
  const double ref_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const ResultFile want = read_results(dir / "ref.h5");
  ASSERT_EQ(want.records.size(), 96u);
  std::set<std::string> want_ids;
  for (const auto& r : want.records) want_ids.insert(get_fixed(r.row.point_id));

  const std::string out = dir / "out.h5";
  std::size_t last_count = 0;
  int kills = 0, partial_states = 0, mid_commit = 0;
  bool done = false;
  constexpr int kKillRuns = 25;  // then one run that is left to finish
  for (int k = 0; k <= kKillRuns && !done; ++k) {
    // Kill times spread unevenly over 1%..15% of an uninterrupted run (start-up, computation
    // and commits), so that sanitizer builds, which are slower, get the same coverage.
    const int delay_ms = static_cast<int>(ref_ms * (0.01 + 0.14 * ((k * 37) % 25) / 24.0));
    const std::string log = dir / fmt::format("run{}", k);
    const pid_t pid = testing::spawn(sweep_args(dir, out, k > 0), log);
    if (k < kKillRuns) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      ::kill(pid, SIGKILL);
    }
    const testing::Exit e = testing::wait_for(pid, log);
    if (e.signal == SIGKILL) {
      ++kills;
    } else {
      ASSERT_EQ(e.code, 0) << "signal " << e.signal << " after " << delay_ms << " ms: " << e.err;
      done = true;
    }
    for (const auto& f : std::filesystem::directory_iterator(dir.path()))
      if (f.path().filename().string().find(".tmp-") != std::string::npos) ++mid_commit;
    if (!std::filesystem::exists(out)) continue;  // killed before the first file was written
    // At every kill the file is a complete result file holding a subset of the points.
    ResultFile got;
    ASSERT_NO_THROW(got = read_results(out)) << "after a kill at " << delay_ms << " ms";
    std::set<std::string> ids;
    for (const auto& r : got.records) {
      const std::string id = get_fixed(r.row.point_id);
      EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
      EXPECT_TRUE(want_ids.count(id)) << "unexpected " << id;
    }
    EXPECT_GE(ids.size(), k > 0 ? last_count : 0);  // resumed runs never lose points
    last_count = ids.size();
    if (ids.size() > 0 && ids.size() < want_ids.size()) ++partial_states;
  }
  std::printf(
      "%d kills, %d of them mid-commit (a temporary copy left behind), %d partial files "
      "seen\n",
      kills, mid_commit, partial_states);
  ASSERT_TRUE(done) << "the sweep never finished";
  EXPECT_GE(kills, 5);
  EXPECT_GE(partial_states, 3);  // kills really landed mid-sweep
  EXPECT_EQ(testing::compare_results(want, read_results(out)), "");
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace mx::experiments
