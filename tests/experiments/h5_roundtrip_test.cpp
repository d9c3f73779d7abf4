// The result file: write -> read gives the same records and header; the file stays a complete
// HDF5 file across commits; it is readable with h5py and pandas without mxlab.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/sweep.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

constexpr const char* kConfig = R"(# round trip
[sweep]
formats = ["mxint8", "mxfp4_e2m1"]
block_sizes = [16, 32]
roundings = ["nearest-even", "stochastic"]
seeds = [3]
[workloads.w]
kind = "normal"
shape = [4, 64]
)";

RunInfo info() { return RunInfo{"9.9.9", "abc123", "testhost", "2024-01-02T03:04:05Z"}; }

std::vector<PointRecord> records(const SweepConfig& c) {
  std::vector<PointRecord> out;
  double v = 1.0;
  for (const Point& p : expand(c)) {
    PointRecord r = testing::make_record(p, v);
    r.row.max_rel_err = v / 7;
    r.row.kl_softmax = v == 3.0 ? std::numeric_limits<double>::quiet_NaN() : 1e-300 * v;
    r.row.sqnr_db = v == 2.0 ? std::numeric_limits<double>::infinity() : v;
    for (std::size_t j = 0; j < r.hist.size(); ++j)
      r.hist[j] = static_cast<std::uint64_t>(v) * 1000 + j;
    out.push_back(r);
    v += 1;
  }
  return out;
}

bool same_bytes(const PointRecord& a, const PointRecord& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(SweepH5, RoundTrip) {
  testing::TempDir dir("h5");
  const std::string path = dir / "r.h5";
  const SweepConfig c = parse_config(kConfig, "rt.toml", "", "rt");
  const auto recs = records(c);
  ASSERT_EQ(recs.size(), 8u);
  create_result_file(path, c, info(), recs.size());
  ResultFile empty = read_results(path);
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.complete, 0);
  append_points(path, std::span(recs).first(3), false);
  append_points(path, std::span(recs).subspan(3), true);
  const ResultFile r = read_results(path);
  ASSERT_EQ(r.records.size(), recs.size());
  for (std::size_t i = 0; i < recs.size(); ++i) EXPECT_TRUE(same_bytes(r.records[i], recs[i])) << i;
  EXPECT_EQ(r.schema_version, kSchemaVersion);
  EXPECT_EQ(r.points_total, 8);
  EXPECT_EQ(r.complete, 1);
  EXPECT_EQ(r.attrs.at("config_toml"), kConfig);
  EXPECT_EQ(r.attrs.at("config_canonical"), canonical_text(c));
  EXPECT_EQ(r.attrs.at("config_origin"), "rt.toml");
  EXPECT_EQ(r.attrs.at("mxlab_version"), "9.9.9");
  EXPECT_EQ(r.attrs.at("git_revision"), "abc123");
  EXPECT_EQ(r.attrs.at("host"), "testhost");
  EXPECT_EQ(r.attrs.at("start_time"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(r.attrs.at("sweep_name"), "rt");
  EXPECT_EQ(r.axes.at("format"), (std::vector<std::string>{"mxint8", "mxfp4_e2m1"}));
  EXPECT_EQ(r.axes.at("block_size"), (std::vector<std::string>{"16", "32"}));
  EXPECT_EQ(r.axes.at("seed"), std::vector<std::string>{"3"});
  EXPECT_EQ(r.axes.at("rounding"), (std::vector<std::string>{"nearest-even", "stochastic"}));
  EXPECT_EQ(r.axes.at("scale_rule"), std::vector<std::string>{"floor"});
  EXPECT_EQ(r.axes.at("workload"), std::vector<std::string>{"w"});
  // No temporary copy is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "r.h5");
}

TEST(SweepH5, CreateReplacesAnExistingFile) {
  testing::TempDir dir("h5");
  const std::string path = dir / "r.h5";
  const SweepConfig c = parse_config(kConfig, "rt.toml", "", "rt");
  create_result_file(path, c, info(), 8);
  append_points(path, records(c), true);
  create_result_file(path, c, info(), 8);
  EXPECT_TRUE(read_results(path).records.empty());
}

TEST(SweepH5, ErrorsNameTheFile) {
  testing::TempDir dir("h5");
  EXPECT_THAT([&] { read_results(dir / "none.h5"); },
              ::testing::ThrowsMessage<IoError>(::testing::EndsWith("none.h5: no such file")));
  testing::write_text(dir / "t.h5", "not hdf5");
  EXPECT_THAT([&] { read_results(dir / "t.h5"); },
              ::testing::ThrowsMessage<IoError>(::testing::EndsWith("t.h5: not an HDF5 file")));
  Tensor t;
  t.shape = {2};
  t.f32 = {1, 2};
  write_tensor(dir / "o.h5:/x", t);
  EXPECT_THAT(
      [&] { read_results(dir / "o.h5"); },
      ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("not an mxlab sweep result file")));
  EXPECT_THAT([&] { append_points(dir / "missing.h5", {}, true); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("missing.h5: cannot copy")));
}

TEST(SweepH5, StaleTemporariesOfDeadProcessesAreRemoved) {
  testing::TempDir dir("h5");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that is (almost certainly) no longer alive
  const std::string dead = dir / ("r.h5.tmp-" + std::to_string(child));
  const std::string mine = dir / ("r.h5.tmp-" + std::to_string(::getpid()));
  const std::string other = dir / "q.h5.tmp-1";
  for (const auto& p : {dead, mine, other}) testing::write_text(p, "x");
  remove_stale_temps(dir / "r.h5");
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(mine));
  EXPECT_TRUE(std::filesystem::exists(other));
}

// The schema as results/README.md shows it, read by h5py + pandas only.
TEST(SweepH5, ReadableWithH5pyAndPandas) {
  const std::string py = MX_PYTHON3;
  if (py.empty() || std::system((py + " -c 'import h5py, pandas' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "python3 with h5py and pandas not available";
  testing::TempDir dir("h5");
  const std::string path = dir / "r.h5";
  const SweepConfig c = parse_config(kConfig, "rt.toml", "", "rt");
  create_result_file(path, c, info(), 8);
  append_points(path, records(c), true);
  testing::write_text(dir / "check.py", R"(import sys, h5py, numpy as np, pandas as pd
f = h5py.File(sys.argv[1], "r")
df = pd.DataFrame(f["points"][:])
for col in df.columns:
    if df[col].dtype == object:
        df[col] = df[col].str.decode("utf-8")
assert len(df) == 8, len(df)
assert set(df["format"]) == {"mxint8", "mxfp4_e2m1"}, set(df["format"])
assert list(df.columns[:4]) == ["point_id", "workload", "seed", "format"], list(df.columns)
assert df["sqnr_db"].iloc[0] == 1.0 and np.isinf(df["sqnr_db"].iloc[1])
h = f["error_histogram"][:]
assert h.shape == (8, 34) and h[1, 2] == 2002, h[1, 2]
assert f["error_histogram_edges"][33] == 1.0
assert f.attrs["config_toml"].startswith("# round trip")
assert f.attrs["git_revision"] == "abc123" and f.attrs["complete"] == 1
assert list(f["axes/block_size"][:]) == [16, 32]
assert list(f["axes/format"].asstr()[:]) == ["mxint8", "mxfp4_e2m1"]
assert f["formats/mxint8"].attrs["max_value"] == 127 / 64
assert f["formats/mxfp4_e2m1"].attrs["bits"] == 4
assert list(f["workloads/w"].attrs["shape"]) == [4, 64]
print("ok")
)");
  EXPECT_EQ(std::system((py + " " + (dir / "check.py") + " " + path).c_str()), 0);
}

// Files written before the model fields existed (their /points rows lack act_format ...
// weight_bits) still read: the missing fields come back empty, zero or NaN, the rest as written.
TEST(SweepH5, FilesWithoutTheModelFieldsStillRead) {
  const std::string py = MX_PYTHON3;
  if (py.empty() || std::system((py + " -c 'import h5py' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "python3 with h5py not available";
  testing::TempDir dir("h5");
  const std::string path = dir / "r.h5";
  const SweepConfig c = parse_config(kConfig, "rt.toml", "", "rt");
  create_result_file(path, c, info(), 8);
  const auto recs = records(c);
  append_points(path, recs, true);
  testing::write_text(dir / "strip.py", R"(import sys, h5py, numpy as np
new = ["act_format", "algorithm", "accum", "windows", "calib_windows", "bits_budget",
       "bits_per_byte", "perplexity", "weight_bits"]
with h5py.File(sys.argv[1], "r+") as f:
    p = f["points"][:]
    keep = [n for n in p.dtype.names if n not in new]
    old = np.empty(len(p), dtype=[(n, p.dtype.fields[n][0]) for n in keep])
    for n in keep:
        old[n] = p[n]
    del f["points"]
    f.create_dataset("points", data=old, maxshape=(None,), chunks=(64,))
)");
  ASSERT_EQ(std::system((py + " " + (dir / "strip.py") + " " + path).c_str()), 0);
  const ResultFile r = read_results(path);
  ASSERT_EQ(r.records.size(), recs.size());
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const PointRow &got = r.records[i].row, &want = recs[i].row;
    EXPECT_EQ(get_fixed(got.point_id), get_fixed(want.point_id));
    EXPECT_EQ(got.sqnr_db, want.sqnr_db);
    EXPECT_EQ(got.pid, want.pid);
    EXPECT_EQ(get_fixed(got.algorithm), "");
    EXPECT_EQ(got.windows, 0);
    EXPECT_TRUE(std::isnan(got.bits_per_byte));
    EXPECT_TRUE(std::isnan(got.weight_bits));
  }
}

}  // namespace
}  // namespace mx::experiments
