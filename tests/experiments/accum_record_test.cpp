// The accumulator model in result files: every point row of a model workload carries the
// canonical descriptor of its accum axis value (it fits the fixed-length field for every
// model the table allows), /accum_models/<accum> holds one attribute per field, and files
// written before the descriptor existed still read.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/record.hpp"
#include "experiments/sweep.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

std::string attr(hid_t loc, const std::string& obj, const std::string& name) {
  std::string v = "<none>";
  const hid_t a = H5Aopen_by_name(loc, obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return v;
  const hid_t t = H5Aget_type(a);
  if (H5Tis_variable_str(t) > 0) {
    char* s = nullptr;
    H5Aread(a, t, &s);
    v = s ? s : "";
    H5free_memory(s);
  } else {
    std::vector<char> buf(H5Tget_size(t) + 1, '\0');
    H5Aread(a, t, buf.data());
    v = buf.data();
  }
  H5Tclose(t);
  H5Aclose(a);
  return v;
}

TEST(AccumRecord, DescriptorIsCanonicalAndFits) {
  EXPECT_EQ(accum_descriptor("fp32"), "fp32");
  EXPECT_EQ(accum_descriptor("h100-mma-fp8"), to_string(parse_accum_model("h100-mma")));
  EXPECT_EQ(accum_descriptor("exact:out-round=toward-zero"),
            "exact:out=fp32,out-round=toward-zero");
  EXPECT_THROW(accum_descriptor("h200-magic"), AccumModelError);
  // The longest descriptor the table allows: every field at its widest value.
  const std::string widest =
      "fused:k=1048576,split=64,gran=1048576,w=100,terms=nearest-even,acc=e8m22ieee,"
      "round=toward-positive,conv=e8m22ieee,join=1,ovf=inf,zero=pos,c=promote,"
      "promote=1073741824,promote-acc=e8m22ieee,promote-round=toward-positive,scales=product,"
      "out=e8m22ieee,out-round=toward-positive";
  EXPECT_EQ(to_string(parse_accum_model(widest)), widest);
  EXPECT_LE(widest.size(), sizeof(PointRow::accum_descriptor));
  const FieldDef* f = find_field("accum_descriptor");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->role, FieldRole::kParam);
}

TEST(AccumRecord, ResultFileHasOneAttributePerField) {
  testing::TempDir dir("accum_record");
  const std::string path = dir / "r.h5";
  const std::string model = std::string(MX_SHARED_DIR) + "/models/bytellama-7m";
  const SweepConfig c = parse_config(fmt::format(R"([sweep]
formats = ["mxint8"]
accum_models = ["fp32", "h100-mma", "exact:out-round=odd"]
workloads = ["m"]
[workloads.m]
kind = "model"
path = "{}"
text = "{}/data/wiki_test.txt"
)",
                                                 model, model),
                                     "a.toml", "", "a");
  create_result_file(path, c, RunInfo{"9.9.9", "abc", "host", "2026-01-01T00:00:00Z"}, 0);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(fid, 0);
  EXPECT_EQ(attr(fid, "accum_models/fp32", "descriptor"), "fp32");
  EXPECT_EQ(attr(fid, "accum_models/fp32", "k"), "<none>");
  const AccumModel mma = parse_accum_model("h100-mma");
  EXPECT_EQ(attr(fid, "accum_models/h100-mma", "descriptor"), to_string(mma));
  for (const auto& [name, value] : accum_attributes(mma))
    EXPECT_EQ(attr(fid, "accum_models/h100-mma", name), value) << name;
  EXPECT_EQ(attr(fid, "accum_models/h100-mma", "promote"), "32");
  const std::string tz = "accum_models/exact:out-round=odd";
  EXPECT_EQ(attr(fid, tz, "descriptor"), "exact:out=fp32,out-round=odd");
  EXPECT_EQ(attr(fid, tz, "out_round"), "odd");
  EXPECT_EQ(attr(fid, tz, "kind"), "exact");
  H5Fclose(fid);
}

// A file whose /points rows lack accum_descriptor (written before it existed) reads, the
// field empty, the rest as written.
TEST(AccumRecord, FilesWithoutTheDescriptorStillRead) {
  const std::string py = MX_PYTHON3;
  if (py.empty() || std::system((py + " -c 'import h5py' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "python3 with h5py not available";
  testing::TempDir dir("accum_record");
  const std::string path = dir / "r.h5";
  const SweepConfig c = parse_config(
      "[sweep]\nformats = [\"mxint8\"]\n[workloads.w]\n"
      "kind = \"normal\"\nshape = [4, 64]\n",
      "t.toml", "", "t");
  create_result_file(path, c, RunInfo{"9.9.9", "abc", "host", "2026-01-01T00:00:00Z"}, 1);
  std::vector<PointRecord> recs;
  for (const Point& p : expand(c)) {
    recs.push_back(testing::make_record(p, 5.0));
    set_fixed(recs.back().row.accum_descriptor, "marker");
  }
  append_points(path, recs, true);
  testing::write_text(dir / "strip.py", R"(import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    p = f["points"][:]
    keep = [n for n in p.dtype.names if n != "accum_descriptor"]
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
    EXPECT_EQ(get_fixed(r.records[i].row.accum_descriptor), "");
    EXPECT_EQ(get_fixed(r.records[i].row.point_id), get_fixed(recs[i].row.point_id));
    EXPECT_EQ(r.records[i].row.sqnr_db, 5.0);
  }
}

}  // namespace
}  // namespace mx::experiments
