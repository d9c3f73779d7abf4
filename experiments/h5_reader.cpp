// Reading a result file back (for --resume, `mxlab table` and the tests).
#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/h5_util.hpp"
#include "experiments/record.hpp"
#include "formats/message.hpp"

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

// The dataset's rank and element count, checked: rank `rank` exactly, the size without
// overflow and not beyond what the file holds (a damaged or hostile file must not make us
// allocate or read past a buffer). Throws IoError naming the file and the dataset.
std::vector<hsize_t> checked_dims(hid_t d, int rank, std::uint64_t elem_bytes,
                                  const std::string& what) {
  Id space(H5Dget_space(d), H5Sclose);
  const int r = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (r != rank) throw IoError(fmt::format("{}: expected rank {}, got {}", what, rank, r));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank), 0);
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    throw IoError(fmt::format("{}: unreadable dataspace", what));
  hsize_t file_size = 0;
  {
    Id fid(H5Iget_file_id(d), H5Fclose);
    if (fid) H5Fget_filesize(fid.get(), &file_size);
  }
  Id dcpl(H5Dget_create_plist(d), H5Pclose);
  check_backed_size(
      checked_bytes(std::vector<std::uint64_t>(dims.begin(), dims.end()), elem_bytes, what),
      file_size, dcpl && H5Pget_nfilters(dcpl.get()) > 0, what);
  return dims;
}

std::vector<std::string> read_axis(hid_t d, const std::string& what) {
  Id ft(H5Dget_type(d), H5Tclose);
  Id space(H5Dget_space(d), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return {};
  const hsize_t n = checked_dims(d, 1, 8, what)[0];
  std::vector<std::string> out;
  if (H5Tget_class(ft.get()) == H5T_STRING && H5Tis_variable_str(ft.get()) > 0) {
    Id t = h5::string_type();
    std::vector<char*> p(n, nullptr);
    if (H5Dread(d, t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0) return {};
    for (char* s : p) out.emplace_back(escape_text(s ? s : "", 1000));
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
  const std::string qpath = escape_text(path);
  if (!std::filesystem::exists(path)) throw IoError(fmt::format("{}: no such file", qpath));
  require_regular_file(path);  // no FIFO, no folder
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(fmt::format("{}: not an HDF5 file", qpath));
  Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f) throw IoError(fmt::format("{}: cannot open HDF5 file", qpath));
  ResultFile r;
  std::string schema;
  if (!h5::read_attr_str(f.get(), "schema", &schema) || schema != "mxlab-sweep")
    throw IoError(fmt::format(
        "{}: not an mxlab sweep result file (no root attribute schema = \"mxlab-sweep\")", qpath));
  h5::read_attr_i64(f.get(), "schema_version", &r.schema_version);
  if (r.schema_version != kSchemaVersion)
    throw IoError(fmt::format("{}: result schema version {} (this mxlab reads {})", qpath,
                              r.schema_version, kSchemaVersion));
  h5::read_attr_i64(f.get(), "points_total", &r.points_total);
  h5::read_attr_i64(f.get(), "complete", &r.complete);
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(f.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names);
  for (const auto& n : names) {
    std::string v;
    // Kept as stored (multi-line texts compared on --resume); escaped where shown.
    if (h5::read_attr_str(f.get(), n, &v)) r.attrs[n] = v;
  }
  if (H5Lexists(f.get(), "axes", H5P_DEFAULT) > 0) {
    Id g(H5Gopen2(f.get(), "axes", H5P_DEFAULT), H5Gclose);
    std::vector<std::string> links;
    idx = 0;
    H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link_name, &links);
    for (const auto& n : links) {
      Id d(H5Dopen2(g.get(), n.c_str(), H5P_DEFAULT), H5Dclose);
      if (d) r.axes[escape_text(n)] = read_axis(d.get(), qpath + ":/axes/" + escape_text(n));
    }
  }
  Id d(H5Dopen2(f.get(), "points", H5P_DEFAULT), H5Dclose);
  if (!d) throw IoError(fmt::format("{}: no /points table", qpath));
  std::size_t row_bytes = 0;  // in the file
  {
    Id ft(H5Dget_type(d.get()), H5Tclose);
    if (!ft || H5Tget_class(ft.get()) != H5T_COMPOUND)
      throw IoError(fmt::format("{}: /points is not a table of records", qpath));
    row_bytes = std::max<std::size_t>(1, H5Tget_size(ft.get()));
  }
  const hsize_t n = checked_dims(d.get(), 1, row_bytes, qpath + ":/points")[0];
  check_allocation(checked_bytes({n}, sizeof(PointRow) + 8 * kHistBins, qpath + ":/points"),
                   qpath + ":/points");
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
    throw IoError(fmt::format("{}: cannot read /points", qpath));
  std::vector<std::uint64_t> hist(n * kHistBins);
  if (H5Lexists(f.get(), "error_histogram", H5P_DEFAULT) > 0) {
    Id h(H5Dopen2(f.get(), "error_histogram", H5P_DEFAULT), H5Dclose);
    if (!h) throw IoError(fmt::format("{}: /error_histogram is not a dataset", qpath));
    {
      Id ht(H5Dget_type(h.get()), H5Tclose);
      if (!ht || H5Tget_class(ht.get()) != H5T_INTEGER)
        throw IoError(fmt::format("{}: /error_histogram is not integer data", qpath));
    }
    const auto dims = checked_dims(h.get(), 2, 8, qpath + ":/error_histogram");
    if (dims[0] != n || dims[1] != kHistBins)
      throw IoError(fmt::format("{}: /error_histogram has {}x{} entries for {} points", qpath,
                                dims[0], dims[1], n));
    if (n && H5Dread(h.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, hist.data()) < 0)
      throw IoError(fmt::format("{}: cannot read /error_histogram", qpath));
  }
  // Strings of the rows come from the file: a byte that is not printable UTF-8 is shown as
  // '?' (the fields have a fixed width), so tables and messages never carry raw bytes.
  for (PointRow& row : rows)
    for (const FieldDef& fd : point_fields())
      if (fd.type == FieldType::kStr) {
        char* p = reinterpret_cast<char*>(&row) + fd.offset;
        const std::string v = get_fixed(p, fd.size);
        if (!is_printable_utf8(v))
          for (std::size_t k = 0; k < v.size(); ++k)
            if (static_cast<unsigned char>(p[k]) < 0x20 || static_cast<unsigned char>(p[k]) >= 0x7F)
              p[k] = '?';
      }
  // Each point at most once: two writers on one file (before the sweep took a lock) left
  // duplicates that a table would silently average and a resume would trust.
  std::set<std::string> ids;
  for (const PointRow& row : rows) {
    const std::string id = get_fixed(row.point_id);
    if (!ids.insert(id).second)
      throw IoError(fmt::format(
          "{}: point {} appears more than once in /points (two sweeps wrote this file at the "
          "same time?); rerun the sweep with --overwrite",
          qpath, escape_text(id)));
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
