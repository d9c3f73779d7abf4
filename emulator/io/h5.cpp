#include "emulator/io/h5.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace mx::h5 {

void quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {

void check(herr_t st, const std::string& what) {
  if (st < 0) throw std::runtime_error(fmt::format("HDF5: cannot {}", what));
}
Id scalar_space() { return Id(H5Screate(H5S_SCALAR), H5Sclose); }

void write_attr(hid_t loc, const std::string& name, hid_t ftype, hid_t mtype, hid_t space,
                const void* data) {
  if (H5Aexists(loc, name.c_str()) > 0)
    check(H5Adelete(loc, name.c_str()), "delete attribute " + name);
  Id a(H5Acreate2(loc, name.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a) throw std::runtime_error(fmt::format("HDF5: cannot create attribute {}", name));
  check(H5Awrite(a.get(), mtype, data), "write attribute " + name);
}

}  // namespace

Id string_type() {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void attr_str(hid_t loc, const std::string& name, const std::string& value) {
  Id t = string_type();
  Id s = scalar_space();
  const char* p = value.c_str();
  write_attr(loc, name, t.get(), t.get(), s.get(), &p);
}
void attr_fixed_str(hid_t loc, const std::string& name, const std::string& value) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(t.get(), value.size() + 1), "size a string type");
  Id s = scalar_space();
  write_attr(loc, name, t.get(), t.get(), s.get(), value.c_str());
}
void attr_i64(hid_t loc, const std::string& name, std::int64_t value) {
  Id s = scalar_space();
  write_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s.get(), &value);
}
void attr_u64(hid_t loc, const std::string& name, std::uint64_t value) {
  Id s = scalar_space();
  write_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, s.get(), &value);
}
void attr_f64(hid_t loc, const std::string& name, double value) {
  Id s = scalar_space();
  write_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.get(), &value);
}
void attr_i64s(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v) {
  const hsize_t n = v.size();
  Id s(H5Screate_simple(1, &n, nullptr), H5Sclose);
  write_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s.get(), v.data());
}

bool read_attr_str(hid_t loc, const std::string& name, std::string* out) {
  if (H5Aexists(loc, name.c_str()) <= 0) return false;
  Id a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a) return false;
  Id ft(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(ft.get()) != H5T_STRING) return false;
  if (H5Tis_variable_str(ft.get()) > 0) {
    Id t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5Tget_cset(ft.get()));
    char* p = nullptr;
    if (H5Aread(a.get(), t.get(), &p) < 0) return false;
    *out = p ? p : "";
    H5free_memory(p);
    return true;
  }
  const std::size_t size = H5Tget_size(ft.get());
  std::string buf(size, '\0');
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), size);
  if (H5Aread(a.get(), t.get(), buf.data()) < 0) return false;
  *out = buf.substr(0, buf.find('\0'));
  return true;
}

bool read_attr_i64(hid_t loc, const std::string& name, std::int64_t* out) {
  if (H5Aexists(loc, name.c_str()) <= 0) return false;
  Id a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose);
  return a && H5Aread(a.get(), H5T_NATIVE_INT64, out) >= 0;
}

}  // namespace mx::h5
