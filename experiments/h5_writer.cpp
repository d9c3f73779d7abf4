// Writing the result file: creation and atomic commits (h5_results.hpp explains the protocol).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/h5_util.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"

namespace mx::experiments {
namespace {

namespace fs = std::filesystem;
using h5::Id;

void check(herr_t st, const std::string& what) {
  if (st < 0) throw std::runtime_error(fmt::format("cannot {}", what));
}

Id file_access() {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);  // closing the file closes everything
  return fapl;
}

// fsync a file or a folder: a SIGKILL needs no fsync (the page cache survives the process),
// but a power loss after the rename would otherwise leave an empty file.
void sync_path(const std::string& p, bool dir) {
  const int fd = ::open(p.c_str(), dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

void publish(const std::string& tmp, const std::string& path) {
  sync_path(tmp, false);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("cannot rename the new file into place ({})", ec.message()));
  fs::path dir = fs::path(path).parent_path();
  sync_path(dir.empty() ? "." : dir.string(), true);
}

Id create_group(hid_t loc, const std::string& name) {
  Id g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!g) throw std::runtime_error(fmt::format("cannot create group {}", name));
  return g;
}

void strings_dataset(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
  Id t = h5::string_type();
  const hsize_t n = v.size();
  Id s(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id d(H5Dcreate2(loc, name.c_str(), t.get(), s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
       H5Dclose);
  if (!d) throw std::runtime_error(fmt::format("cannot create dataset {}", name));
  std::vector<const char*> p;
  for (const auto& x : v) p.push_back(x.c_str());
  check(H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "write " + name);
}

void ints_dataset(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v) {
  const hsize_t n = v.size();
  Id s(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id d(H5Dcreate2(loc, name.c_str(), H5T_STD_I64LE, s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
       H5Dclose);
  if (!d) throw std::runtime_error(fmt::format("cannot create dataset {}", name));
  check(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()),
        "write " + name);
}

// An empty dataset that grows along its first dimension.
Id growing_dataset(hid_t loc, const std::string& name, hid_t type, hsize_t width) {
  const int rank = width ? 2 : 1;
  const hsize_t dims[2] = {0, width}, maxdims[2] = {H5S_UNLIMITED, width},
                chunk[2] = {64, width ? width : 1};
  Id s(H5Screate_simple(rank, dims, maxdims), H5Sclose);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  check(H5Pset_chunk(dcpl.get(), rank, chunk), "set chunking");
  Id d(H5Dcreate2(loc, name.c_str(), type, s.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
       H5Dclose);
  if (!d) throw std::runtime_error(fmt::format("cannot create dataset {}", name));
  return d;
}

std::string_view nonfinite_name(Nonfinite n) {
  switch (n) {
    case Nonfinite::kIeee:
      return "ieee";
    case Nonfinite::kNanOnly:
      return "nan-only";
    case Nonfinite::kFiniteOnly:
      return "finite-only";
  }
  return "?";
}

void write_format(hid_t loc, const std::string& name) {
  if (name == "none" || name == "mixed") {  // model workloads: fp32 / per-layer weights
    Id g = create_group(loc, name);
    h5::attr_str(g.get(), "description",
                 name == "none" ? "fp32 weights (not quantized)"
                                : "per-layer MX weight formats chosen under the workload's "
                                  "bits_budget from its mixed_levels");
    return;
  }
  const MxFormat f = parse_mx_format(name);
  const ElemFormat& e = f.elem;
  Id g = create_group(loc, name);
  h5::attr_str(g.get(), "description", describe(e));
  h5::attr_str(g.get(), "elem", std::string(e.name_view()));
  h5::attr_str(g.get(), "elem_kind", e.is_int() ? "int" : "float");
  h5::attr_i64(g.get(), "bits", e.bits);
  h5::attr_i64(g.get(), "exp_bits", e.exp_bits);
  h5::attr_i64(g.get(), "man_bits", e.man_bits);
  h5::attr_i64(g.get(), "bias", e.bias);
  h5::attr_str(g.get(), "nonfinite", std::string(nonfinite_name(e.nonfinite)));
  h5::attr_i64(g.get(), "int_scale_exp", e.int_scale_exp);
  h5::attr_i64(g.get(), "emax", e.emax());
  h5::attr_f64(g.get(), "max_value", decode(e, e.max_magnitude_code()));
  h5::attr_f64(g.get(), "min_positive", decode(e, 1));
  h5::attr_str(g.get(), "scale", std::string(scale_format_name(f.scale)));
  h5::attr_i64(g.get(), "scale_bits", 8);
  h5::attr_i64(g.get(), "scale_emin", -127);
  h5::attr_i64(g.get(), "scale_emax", 127);
}

void write_workload(hid_t loc, const WorkloadSpec& w) {
  Id g = create_group(loc, w.name);
  const hid_t id = g.get();
  h5::attr_str(id, "kind", std::string(workload_kind_name(w.kind())));
  h5::attr_i64(id, "axis", w.axis);
  auto shape = [&](const std::vector<std::size_t>& v) {
    h5::attr_i64s(id, "shape", std::vector<std::int64_t>(v.begin(), v.end()));
  };
  std::visit(Overloaded{
                 [&](const NormalWorkload& n) {
                   shape(n.shape);
                   h5::attr_f64(id, "mean", n.mean);
                   h5::attr_f64(id, "std", n.stddev);
                 },
                 [&](const LaplaceWorkload& l) {
                   shape(l.shape);
                   h5::attr_f64(id, "loc", l.loc);
                   h5::attr_f64(id, "scale", l.scale);
                 },
                 [&](const StudentTWorkload& t) {
                   shape(t.shape);
                   h5::attr_f64(id, "dof", t.dof);
                   h5::attr_f64(id, "scale", t.scale);
                 },
                 [&](const LlmActivationsWorkload& l) {
                   shape(l.shape);
                   h5::attr_f64(id, "outlier_channel_fraction", l.outlier_channel_fraction);
                   h5::attr_f64(id, "outlier_scale_min", l.outlier_scale_min);
                   h5::attr_f64(id, "outlier_scale_max", l.outlier_scale_max);
                   h5::attr_f64(id, "heavy_token_fraction", l.heavy_token_fraction);
                   h5::attr_f64(id, "dof", l.dof);
                 },
                 [&](const WeightsWorkload& ww) {
                   shape(ww.shape);
                   h5::attr_f64(id, "std", ww.stddev);
                   h5::attr_f64(id, "row_scale_sigma", ww.row_scale_sigma);
                 },
                 [&](const FileWorkload& f) { h5::attr_str(id, "path", f.path); },
                 [&](const ModelWorkload& m) {
                   h5::attr_str(id, "path", m.path);
                   h5::attr_str(id, "text", m.text);
                   h5::attr_i64(id, "windows", m.windows);
                   h5::attr_i64(id, "window_size", m.window_size);
                   h5::attr_str(id, "calib", m.calib);
                   h5::attr_i64(id, "calib_windows", m.calib_windows);
                   h5::attr_f64(id, "bits_budget", m.bits_budget);
                   std::string levels;
                   for (const auto& l : m.mixed_levels) levels += (levels.empty() ? "" : ",") + l;
                   h5::attr_str(id, "mixed_levels", levels);
                   h5::attr_str(id, "protocol",
                                "windows: the first `windows` non-overlapping windows of "
                                "`window_size` bytes of `text` from offset 0; calibration: the "
                                "first `calib_windows` of `calib`");
                 },
             },
             w.params);
}

std::string field_docs() {
  std::string s;
  for (const FieldDef& f : point_fields()) {
    const char* role = f.role == FieldRole::kParam    ? "param"
                       : f.role == FieldRole::kMetric ? "metric"
                                                      : "info";
    s += fmt::format("{} ({}): {}\n", f.name, role, f.doc);
  }
  return s;
}

void fill_file(hid_t fid, const SweepConfig& c, const RunInfo& info, std::uint64_t total) {
  h5::attr_str(fid, "schema", "mxlab-sweep");
  h5::attr_i64(fid, "schema_version", kSchemaVersion);
  h5::attr_str(fid, "sweep_name", c.name);
  h5::attr_str(fid, "config_toml", c.text);
  h5::attr_str(fid, "config_origin", c.origin);
  h5::attr_str(fid, "config_canonical", canonical_text(c));
  h5::attr_str(fid, "mxlab_version", info.mxlab_version);
  h5::attr_str(fid, "git_revision", info.git_revision);
  h5::attr_str(fid, "host", info.host);
  h5::attr_str(fid, "start_time", info.start_time);
  h5::attr_i64(fid, "points_total", static_cast<std::int64_t>(total));
  h5::attr_i64(fid, "complete", total == 0 ? 1 : 0);
  h5::attr_str(fid, "statistics_note",
               "computed in double over the whole tensor; see results/README.md. "
               "kl_softmax: softmax over the last axis, mean over rows, natural log.");
  {
    Id g = create_group(fid, "formats");
    for (const auto& f : c.formats) write_format(g.get(), f);
  }
  {
    Id g = create_group(fid, "workloads");
    for (const auto& w : c.workloads) write_workload(g.get(), c.workload_specs.at(w));
  }
  {
    Id g = create_group(fid, "axes");
    h5::attr_str(g.get(), "description",
                 "values of each sweep axis in config order (the run list is their cross product, "
                 "nested in this order: workload, seed, format, [act_format, algorithm, accum: "
                 "model workloads], block_size, scale_rule, rounding)");
    strings_dataset(g.get(), "workload", c.workloads);
    ints_dataset(g.get(), "seed", c.seeds);
    strings_dataset(g.get(), "format", c.formats);
    ints_dataset(g.get(), "block_size",
                 std::vector<std::int64_t>(c.block_sizes.begin(), c.block_sizes.end()));
    std::vector<std::string> rules, modes;
    for (auto r : c.scale_rules) rules.emplace_back(scale_rule_name(r));
    for (auto m : c.roundings) modes.emplace_back(rounding_name(m));
    strings_dataset(g.get(), "scale_rule", rules);
    strings_dataset(g.get(), "rounding", modes);
    bool any_model = false;
    for (const auto& w : c.workloads) any_model |= c.workload_specs.at(w).is_model();
    if (any_model) {
      strings_dataset(g.get(), "act_format", c.act_formats);
      strings_dataset(g.get(), "algorithm", c.algorithms);
      strings_dataset(g.get(), "accum", c.accum_models);
    }
  }
  {
    // Each accumulator axis value: its canonical descriptor and one attribute per field.
    bool any_model = false;
    for (const auto& w : c.workloads) any_model |= c.workload_specs.at(w).is_model();
    if (any_model) {
      Id g = create_group(fid, "accum_models");
      h5::attr_str(g.get(), "description",
                   "one group per value of the accum axis: descriptor (canonical, "
                   "emulator/accum_model.hpp) and one attribute per field; fp32 = Eigen sgemm, "
                   "not emulated (descriptor only)");
      for (const std::string& a : c.accum_models) {
        Id m = create_group(g.get(), a);
        h5::attr_str(m.get(), "descriptor", accum_descriptor(a));
        if (a != "fp32")
          for (const auto& [name, value] : accum_attributes(parse_accum_model(a)))
            h5::attr_str(m.get(), name, value);
      }
    }
  }
  {
    Id ft = h5::row_type(true);
    Id d = growing_dataset(fid, "points", ft.get(), 0);
    h5::attr_str(d.get(), "description", "one row per finished sweep point, in completion order");
    h5::attr_str(d.get(), "fields", field_docs());
  }
  {
    Id d = growing_dataset(fid, "error_histogram", H5T_STD_U64LE, kHistBins);
    h5::attr_str(
        d.get(), "description",
        "row i belongs to /points row i: counts of |e|/|x| over the elements with x != 0 "
        "(x and q finite), bin j = [edges[j], edges[j+1]), edges in /error_histogram_edges");
  }
  {
    const auto edges = error_histogram_edges();
    const hsize_t n = edges.size();
    Id s(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Id d(H5Dcreate2(fid, "error_histogram_edges", H5T_IEEE_F64LE, s.get(), H5P_DEFAULT, H5P_DEFAULT,
                    H5P_DEFAULT),
         H5Dclose);
    if (!d) throw std::runtime_error("cannot create error_histogram_edges");
    check(H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, edges.data()),
          "write edges");
    h5::attr_str(d.get(), "description", "0, 2^-32, 2^-31, ..., 2^-1, 1, +inf");
  }
}

void append_rows(hid_t fid, std::span<const PointRecord> recs) {
  const hsize_t k = recs.size();
  {
    Id d(H5Dopen2(fid, "points", H5P_DEFAULT), H5Dclose);
    if (!d) throw std::runtime_error("no /points table");
    Id s0(H5Dget_space(d.get()), H5Sclose);
    hsize_t n0 = 0;
    H5Sget_simple_extent_dims(s0.get(), &n0, nullptr);
    const hsize_t n1 = n0 + k;
    check(H5Dset_extent(d.get(), &n1), "extend /points");
    Id fs(H5Dget_space(d.get()), H5Sclose);
    check(H5Sselect_hyperslab(fs.get(), H5S_SELECT_SET, &n0, nullptr, &k, nullptr), "select rows");
    Id ms(H5Screate_simple(1, &k, nullptr), H5Sclose);
    std::vector<PointRow> rows;
    for (const auto& r : recs) rows.push_back(r.row);
    Id mt = h5::row_type(false);
    check(H5Dwrite(d.get(), mt.get(), ms.get(), fs.get(), H5P_DEFAULT, rows.data()),
          "write /points");
  }
  {
    Id d(H5Dopen2(fid, "error_histogram", H5P_DEFAULT), H5Dclose);
    if (!d) throw std::runtime_error("no /error_histogram");
    Id s0(H5Dget_space(d.get()), H5Sclose);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(s0.get(), dims, nullptr);
    const hsize_t n1[2] = {dims[0] + k, kHistBins};
    check(H5Dset_extent(d.get(), n1), "extend /error_histogram");
    Id fs(H5Dget_space(d.get()), H5Sclose);
    const hsize_t start[2] = {dims[0], 0}, count[2] = {k, kHistBins};
    check(H5Sselect_hyperslab(fs.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
          "select rows");
    Id ms(H5Screate_simple(2, count, nullptr), H5Sclose);
    std::vector<std::uint64_t> h;
    for (const auto& r : recs) h.insert(h.end(), r.hist.begin(), r.hist.end());
    check(H5Dwrite(d.get(), H5T_NATIVE_UINT64, ms.get(), fs.get(), H5P_DEFAULT, h.data()),
          "write /error_histogram");
  }
}

}  // namespace

void create_result_file(const std::string& path, const SweepConfig& c, const RunInfo& info,
                        std::uint64_t points_total) {
  h5::quiet();
  const std::string tmp = temp_path_for(path);
  try {
    {
      Id fapl = file_access();
      Id f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
      if (!f) throw std::runtime_error("cannot create the file");
      fill_file(f.get(), c, info, points_total);
      check(H5Fflush(f.get(), H5F_SCOPE_GLOBAL), "flush");
    }
    publish(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IoError(fmt::format("{}: {}", path, e.what()));
  }
}

void append_points(const std::string& path, std::span<const PointRecord> records, bool complete) {
  h5::quiet();
  const std::string tmp = temp_path_for(path);
  try {
    std::error_code ec;
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot copy ({})", ec.message()));
    {
      Id fapl = file_access();
      Id f(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl.get()), H5Fclose);
      if (!f) throw std::runtime_error("cannot open a copy for writing");
      if (!records.empty()) append_rows(f.get(), records);
      if (complete) h5::attr_i64(f.get(), "complete", 1);
      check(H5Fflush(f.get(), H5F_SCOPE_GLOBAL), "flush");
    }
    publish(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IoError(fmt::format("{}: {}", path, e.what()));
  }
}

void remove_stale_temps(const std::string& path) {
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".tmp-";
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    if (pid > 0 && pid != static_cast<long>(::getpid()) &&
        ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      fs::remove(entry.path(), rm);
    }
  }
}

}  // namespace mx::experiments
