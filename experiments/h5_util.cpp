#include "experiments/h5_util.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "experiments/record.hpp"

namespace mx::experiments::h5 {

namespace {
void check(herr_t st, const std::string& what) {
  if (st < 0) throw std::runtime_error(fmt::format("HDF5: cannot {}", what));
}
}  // namespace

Id row_type(bool packed) {
  Id t(H5Tcreate(H5T_COMPOUND, sizeof(PointRow)), H5Tclose);
  for (const FieldDef& f : point_fields()) {
    Id str;
    hid_t mt = H5I_INVALID_HID;
    switch (f.type) {
      case FieldType::kStr:
        str = Id(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(str.get(), f.size);
        H5Tset_strpad(str.get(), H5T_STR_NULLPAD);
        mt = str.get();
        break;
      case FieldType::kI32:
        mt = H5T_NATIVE_INT32;
        break;
      case FieldType::kI64:
        mt = H5T_NATIVE_INT64;
        break;
      case FieldType::kU64:
        mt = H5T_NATIVE_UINT64;
        break;
      case FieldType::kF64:
        mt = H5T_NATIVE_DOUBLE;
        break;
    }
    check(H5Tinsert(t.get(), std::string(f.name).c_str(), f.offset, mt), "build the row type");
  }
  if (packed) check(H5Tpack(t.get()), "pack the row type");
  return t;
}

}  // namespace mx::experiments::h5
