// Reading a result file back (for --resume, `mxlab table` and the tests).
#include <algorithm>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/h5_util.hpp"

namespace mx::experiments {
namespace {

using h5::Id;

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

std::vector<std::string> read_axis(hid_t d) {
  Id ft(H5Dget_type(d), H5Tclose);
  Id space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return {};
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<std::string> out;
  if (H5Tget_class(ft.get()) == H5T_STRING && H5Tis_variable_str(ft.get()) > 0) {
    Id t = h5::string_type();
    std::vector<char*> p(n, nullptr);
    if (H5Dread(d, t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0) return {};
    for (char* s : p) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(t.get(), space.get(), H5P_DEFAULT, p.data());
  } else if (H5Tget_class(ft.get()) == H5T_INTEGER) {
    std::vector<std::int64_t> v(n);
    if (H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) return {};
    for (auto x : v) out.push_back(fmt::format("{}", x));
  }
  return out;
}

}  // namespace

ResultFile read_results(const std::string& path) {
  h5::quiet();
  if (!std::filesystem::exists(path)) throw IoError(fmt::format("{}: no such file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(fmt::format("{}: not an HDF5 file", path));
  Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f) throw IoError(fmt::format("{}: cannot open HDF5 file", path));
  ResultFile r;
  std::string schema;
  if (!h5::read_attr_str(f.get(), "schema", &schema) || schema != "mxlab-sweep")
    throw IoError(fmt::format(
        "{}: not an mxlab sweep result file (no root attribute schema = \"mxlab-sweep\")", path));
  h5::read_attr_i64(f.get(), "schema_version", &r.schema_version);
  if (r.schema_version != kSchemaVersion)
    throw IoError(fmt::format("{}: result schema version {} (this mxlab reads {})", path,
                              r.schema_version, kSchemaVersion));
  h5::read_attr_i64(f.get(), "points_total", &r.points_total);
  h5::read_attr_i64(f.get(), "complete", &r.complete);
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(f.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names);
  for (const auto& n : names) {
    std::string v;
    if (h5::read_attr_str(f.get(), n, &v)) r.attrs[n] = v;
  }
  if (H5Lexists(f.get(), "axes", H5P_DEFAULT) > 0) {
    Id g(H5Gopen2(f.get(), "axes", H5P_DEFAULT), H5Gclose);
    std::vector<std::string> links;
    idx = 0;
    H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link_name, &links);
    for (const auto& n : links) {
      Id d(H5Dopen2(g.get(), n.c_str(), H5P_DEFAULT), H5Dclose);
      if (d) r.axes[n] = read_axis(d.get());
    }
  }
  Id d(H5Dopen2(f.get(), "points", H5P_DEFAULT), H5Dclose);
  if (!d) throw IoError(fmt::format("{}: no /points table", path));
  Id s(H5Dget_space(d.get()), H5Sclose);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(s.get(), &n, nullptr);
  // Files written before a field existed lack it: members are matched by name, and the
  // missing ones keep these values (empty strings, 0, NaN metrics) through the background
  // buffer that H5Pset_preserve asks for.
  PointRow blank{};
  blank.bits_per_byte = blank.perplexity = blank.weight_bits =
      std::numeric_limits<double>::quiet_NaN();
  std::vector<PointRow> rows(n, blank);
  Id mt = h5::row_type(false);
  Id xfer(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_preserve(xfer.get(), 1);
  if (n && H5Dread(d.get(), mt.get(), H5S_ALL, H5S_ALL, xfer.get(), rows.data()) < 0)
    throw IoError(fmt::format("{}: cannot read /points", path));
  std::vector<std::uint64_t> hist(n * kHistBins);
  if (H5Lexists(f.get(), "error_histogram", H5P_DEFAULT) > 0) {
    Id h(H5Dopen2(f.get(), "error_histogram", H5P_DEFAULT), H5Dclose);
    Id hs(H5Dget_space(h.get()), H5Sclose);
    hsize_t dims[2] = {0, 0};
    if (H5Sget_simple_extent_ndims(hs.get()) != 2)
      throw IoError(fmt::format("{}: bad /error_histogram", path));
    H5Sget_simple_extent_dims(hs.get(), dims, nullptr);
    if (dims[0] != n || dims[1] != kHistBins)
      throw IoError(fmt::format("{}: /error_histogram has {}x{} entries for {} points", path,
                                dims[0], dims[1], n));
    if (n && H5Dread(h.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, hist.data()) < 0)
      throw IoError(fmt::format("{}: cannot read /error_histogram", path));
  }
  r.records.resize(n);
  for (hsize_t i = 0; i < n; ++i) {
    r.records[i].row = rows[i];
    std::copy_n(hist.begin() + static_cast<std::ptrdiff_t>(i * kHistBins), kHistBins,
                r.records[i].hist.begin());
  }
  return r;
}

}  // namespace mx::experiments
