// Hardware probe captures: reading (HDF5 C API) and comparing with an AccumModel.
#include "experiments/hw/hwcheck.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <hdf5.h>

#include "emulator/gemm.hpp"
#include "formats/catalog.hpp"

namespace mx {

namespace {

struct H5 {
  hid_t id = H5I_INVALID_HID;
  herr_t (*close)(hid_t) = nullptr;
  H5(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  H5(const H5&) = delete;
  H5& operator=(const H5&) = delete;
  ~H5() {
    if (id >= 0 && close) close(id);
  }
  explicit operator bool() const { return id >= 0; }
};

// A string attribute (fixed or variable length); `required` throws when absent.
std::string str_attr(hid_t obj, const char* name, const std::string& where, bool required) {
  if (H5Aexists(obj, name) <= 0) {
    if (required) throw HwCheckError(fmt::format("{}: missing attribute '{}'", where, name));
    return {};
  }
  H5 a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  H5 type(H5Aget_type(a.id), H5Tclose);
  if (!a || H5Tget_class(type.id) != H5T_STRING)
    throw HwCheckError(fmt::format("{}: attribute '{}' is not a string", where, name));
  if (H5Tis_variable_str(type.id) > 0) {
    H5 mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    char* s = nullptr;
    if (H5Aread(a.id, mem.id, &s) < 0 || !s)
      throw HwCheckError(fmt::format("{}: cannot read attribute '{}'", where, name));
    std::string out(s);
    H5free_memory(s);
    return out;
  }
  const std::size_t n = H5Tget_size(type.id);
  std::string out(n, '\0');
  H5 mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.id, n);
  if (H5Aread(a.id, mem.id, out.data()) < 0)
    throw HwCheckError(fmt::format("{}: cannot read attribute '{}'", where, name));
  out.resize(std::min(out.find('\0'), out.size()));
  return out;
}

// Reads dataset `name` of `grp` converted to `mtype`; checks its rank and returns its dims.
template <typename T>
std::vector<T> read_ds(hid_t grp, const char* name, hid_t mtype, H5T_class_t want_class, int rank,
                       std::vector<hsize_t>* dims, const std::string& where) {
  if (H5Lexists(grp, name, H5P_DEFAULT) <= 0)
    throw HwCheckError(fmt::format("{}: missing dataset '{}'", where, name));
  H5 d(H5Dopen2(grp, name, H5P_DEFAULT), H5Dclose);
  if (!d) throw HwCheckError(fmt::format("{}/{}: not a dataset", where, name));
  H5 type(H5Dget_type(d.id), H5Tclose);
  if (H5Tget_class(type.id) != want_class)
    throw HwCheckError(fmt::format("{}/{}: expected {} data", where, name,
                                   want_class == H5T_FLOAT ? "floating-point" : "integer"));
  if (want_class == H5T_INTEGER && H5Tget_size(type.id) > sizeof(T))
    throw HwCheckError(fmt::format("{}/{}: integers wider than {} bytes", where, name, sizeof(T)));
  H5 space(H5Dget_space(d.id), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.id) != rank)
    throw HwCheckError(fmt::format("{}/{}: expected rank {}, got {}", where, name, rank,
                                   H5Sget_simple_extent_ndims(space.id)));
  dims->assign(static_cast<std::size_t>(rank), 0);
  H5Sget_simple_extent_dims(space.id, dims->data(), nullptr);
  std::size_t n = 1;
  for (hsize_t x : *dims) n *= static_cast<std::size_t>(x);
  std::vector<T> v(n);
  if (n > 0 && H5Dread(d.id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    throw HwCheckError(fmt::format("{}/{}: cannot read", where, name));
  return v;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p <= s.size()) {
    const auto q = s.find('\n', p);
    std::string line = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
    if (!line.empty()) out.push_back(line);
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

ProbeGroup read_group(hid_t f, const std::string& name, const std::string& path) {
  const std::string where = fmt::format("{}:/{}", path, name);
  H5 g(H5Gopen2(f, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g) throw HwCheckError(fmt::format("{}: not a group", where));
  ProbeGroup pg;
  pg.name = name;
  pg.op = str_attr(g.id, "op", where, false);
  pg.note = str_attr(g.id, "note", where, false);
  pg.format_a = str_attr(g.id, "format_a", where, true);
  pg.format_b = str_attr(g.id, "format_b", where, true);
  pg.kinds = split_lines(str_attr(g.id, "kinds", where, true));
  std::vector<hsize_t> da, db, dc, dd, dk;
  pg.a = read_ds<std::uint32_t>(g.id, "a", H5T_NATIVE_UINT32, H5T_INTEGER, 3, &da, where);
  pg.b = read_ds<std::uint32_t>(g.id, "b", H5T_NATIVE_UINT32, H5T_INTEGER, 3, &db, where);
  pg.c = read_ds<float>(g.id, "c", H5T_NATIVE_FLOAT, H5T_FLOAT, 3, &dc, where);
  pg.d = read_ds<std::uint32_t>(g.id, "d", H5T_NATIVE_UINT32, H5T_INTEGER, 3, &dd, where);
  pg.kind = read_ds<std::uint8_t>(g.id, "kind", H5T_NATIVE_UINT8, H5T_INTEGER, 1, &dk, where);
  pg.t = da[0];
  pg.m = da[1];
  pg.k = da[2];
  pg.n = db[1];
  auto dims_str = [](const std::vector<hsize_t>& d) {
    return fmt::format("{}", fmt::join(d, " x "));
  };
  if (db[0] != pg.t || db[2] != pg.k)
    throw HwCheckError(
        fmt::format("{}/b: shape {} does not match a ({})", where, dims_str(db), dims_str(da)));
  for (auto [nm, d] : {std::pair{"c", &dc}, std::pair{"d", &dd}})
    if ((*d)[0] != pg.t || (*d)[1] != pg.m || (*d)[2] != pg.n)
      throw HwCheckError(fmt::format("{}/{}: shape {}, expected {} x {} x {}", where, nm,
                                     dims_str(*d), pg.t, pg.m, pg.n));
  if (dk[0] != pg.t)
    throw HwCheckError(fmt::format("{}/kind: {} entries, expected {}", where, dk[0], pg.t));
  for (std::uint8_t x : pg.kind)
    if (x >= pg.kinds.size())
      throw HwCheckError(
          fmt::format("{}/kind: index {} but only {} kinds", where, x, pg.kinds.size()));
  for (const auto& [nm, fmt_name] :
       {std::pair{"format_a", &pg.format_a}, std::pair{"format_b", &pg.format_b}}) {
    try {
      (void)parse_elem_format(*fmt_name);
    } catch (const std::exception& e) {
      throw HwCheckError(fmt::format("{}: attribute {}: {}", where, nm, e.what()));
    }
  }
  return pg;
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

}  // namespace

ProbeFile read_probe(const std::string& path, const std::vector<std::string>& filters) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::exists(path))
    throw HwCheckError(fmt::format("--data {}: no such file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw HwCheckError(fmt::format("--data {}: not an HDF5 file", path));
  H5 f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f) throw HwCheckError(fmt::format("--data {}: cannot open", path));
  ProbeFile pf;
  pf.path = path;
  pf.layout = str_attr(f.id, "layout", "--data " + path, false);
  if (pf.layout != kHwProbeLayout)
    throw HwCheckError(
        fmt::format("--data {}: root attribute 'layout' is '{}', expected '{}' "
                    "(a tools/hw/probe.py capture)",
                    path, pf.layout, kHwProbeLayout));
  pf.provenance = str_attr(f.id, "provenance", "--data " + path, false);
  std::vector<std::string> names;
  H5Literate(f.id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names);
  for (const auto& nm : names) {
    bool keep = filters.empty();
    for (const auto& flt : filters) keep = keep || nm.find(flt) != std::string::npos;
    if (keep) pf.groups.push_back(read_group(f.id, nm, path));
  }
  if (pf.groups.empty())
    throw HwCheckError(filters.empty() ? fmt::format("--data {}: no capture groups", path)
                                       : fmt::format("--group: no group of {} matches", path));
  return pf;
}

namespace {

void put_str_attr(hid_t obj, const char* name, const std::string& v, const std::string& where) {
  H5 type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id, std::max<std::size_t>(1, v.size()));
  H5 space(H5Screate(H5S_SCALAR), H5Sclose);
  H5 a(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::string buf = v.empty() ? std::string(1, '\0') : v;
  if (!a || H5Awrite(a.id, type.id, buf.data()) < 0)
    throw HwCheckError(fmt::format("{}: cannot write attribute '{}'", where, name));
}

template <typename T>
void put_ds(hid_t grp, const char* name, hid_t ftype, hid_t mtype, const std::vector<T>& v,
            std::vector<hsize_t> dims, const std::string& where) {
  H5 space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5 d(H5Dcreate2(grp, name, ftype, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!d || (!v.empty() && H5Dwrite(d.id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0))
    throw HwCheckError(fmt::format("{}/{}: cannot write", where, name));
}

}  // namespace

void write_probe(const std::string& path, const ProbeFile& pf) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const std::string tmp = path + ".tmp";
  {
    H5 f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f) throw HwCheckError(fmt::format("{}: cannot create", path));
    put_str_attr(f.id, "layout", pf.layout.empty() ? kHwProbeLayout : pf.layout, path);
    put_str_attr(f.id, "provenance", pf.provenance, path);
    for (const ProbeGroup& g : pf.groups) {
      const std::string where = fmt::format("{}:/{}", path, g.name);
      H5 grp(H5Gcreate2(f.id, g.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      if (!grp) throw HwCheckError(fmt::format("{}: cannot create group", where));
      std::string kinds;
      for (const auto& k : g.kinds) kinds += k + "\n";
      for (const auto& [nm, v] : {std::pair{"op", g.op}, std::pair{"format_a", g.format_a},
                                  std::pair{"format_b", g.format_b}, std::pair{"note", g.note},
                                  std::pair{"kinds", kinds}})
        put_str_attr(grp.id, nm, v, where);
      put_ds(grp.id, "a", H5T_STD_U32LE, H5T_NATIVE_UINT32, g.a, {g.t, g.m, g.k}, where);
      put_ds(grp.id, "b", H5T_STD_U32LE, H5T_NATIVE_UINT32, g.b, {g.t, g.n, g.k}, where);
      put_ds(grp.id, "c", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, g.c, {g.t, g.m, g.n}, where);
      put_ds(grp.id, "d", H5T_STD_U32LE, H5T_NATIVE_UINT32, g.d, {g.t, g.m, g.n}, where);
      put_ds(grp.id, "kind", H5T_STD_U8LE, H5T_NATIVE_UINT8, g.kind, {g.t}, where);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    throw HwCheckError(fmt::format("{}: cannot rename the temporary file: {}", path, ec.message()));
}

std::uint64_t ulp_distance(std::uint32_t x, std::uint32_t y) {
  const bool nx = (x & 0x7fffffffu) > 0x7f800000u, ny = (y & 0x7fffffffu) > 0x7f800000u;
  if (nx || ny) return nx && ny ? 0 : kNanMismatch;
  // Monotone map of the fp32 line onto the integers (+0 and -0 both at 0).
  auto ord = [](std::uint32_t v) -> std::int64_t {
    const std::int64_t mag = v & 0x7fffffffu;
    return (v >> 31) ? -mag : mag;
  };
  const std::int64_t d = ord(x) - ord(y);
  return static_cast<std::uint64_t>(d < 0 ? -d : d);
}

std::vector<std::uint32_t> model_outputs(const ProbeGroup& g, const AccumModel& model,
                                         int threads) {
  if (!(model.out == kFp32))
    throw HwCheckError("--accum: the model's output format must be fp32 to compare with a capture");
  const ElemFormat fa = parse_elem_format(g.format_a), fb = parse_elem_format(g.format_b);
  const std::size_t mk = g.m * g.k, nk = g.n * g.k, mn = g.m * g.n;
  std::vector<std::uint32_t> out(g.t * mn);
  GemmOptions opt;
  opt.model = model;
  opt.threads = std::max(1, threads);
  for (std::size_t t = 0; t < g.t; ++t) {
    const MxMatrix a = make_operand(
        fa, 0, g.m, g.k,
        std::vector<std::uint32_t>(g.a.begin() + static_cast<std::ptrdiff_t>(t * mk),
                                   g.a.begin() + static_cast<std::ptrdiff_t>((t + 1) * mk)),
        {});
    const MxMatrix b = make_operand(
        fb, 0, g.n, g.k,
        std::vector<std::uint32_t>(g.b.begin() + static_cast<std::ptrdiff_t>(t * nk),
                                   g.b.begin() + static_cast<std::ptrdiff_t>((t + 1) * nk)),
        {});
    const std::vector<float> c(g.c.begin() + static_cast<std::ptrdiff_t>(t * mn),
                               g.c.begin() + static_cast<std::ptrdiff_t>((t + 1) * mn));
    const auto d = gemm(a, b, c, opt);
    std::copy(d.begin(), d.end(), out.begin() + static_cast<std::ptrdiff_t>(t * mn));
  }
  return out;
}

std::vector<KindAgreement> hwcheck(const ProbeGroup& g, const AccumModel& model, int threads) {
  const std::vector<std::uint32_t> d = model_outputs(g, model, threads);
  std::vector<KindAgreement> rows(g.kinds.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].group = g.name;
    rows[i].kind = g.kinds[i];
  }
  const std::size_t mn = g.m * g.n;
  for (std::size_t t = 0; t < g.t; ++t) {
    KindAgreement& r = rows[g.kind[t]];
    for (std::size_t j = t * mn; j < (t + 1) * mn; ++j) {
      ++r.total;
      if (hw_match(g.d[j], d[j])) {
        ++r.match;
      } else {
        r.worst_ulp = std::max(r.worst_ulp, ulp_distance(g.d[j], d[j]));
      }
    }
  }
  std::erase_if(rows, [](const KindAgreement& r) { return r.total == 0; });
  return rows;
}

}  // namespace mx
