// Small RAII and attribute helpers over the HDF5 C API, private to experiments/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hdf5.h>

namespace mx::experiments::h5 {

// Owns an HDF5 identifier and closes it with the matching H5*close.
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Id() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

void quiet();  // no HDF5 error stack printing; errors are reported by return codes

// The /points row type (memory layout of PointRow); `packed` gives the file type.
Id row_type(bool packed);
Id string_type();  // variable-length UTF-8 string

void attr_str(hid_t loc, const std::string& name, const std::string& value);
void attr_i64(hid_t loc, const std::string& name, std::int64_t value);
void attr_f64(hid_t loc, const std::string& name, double value);
void attr_i64s(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v);

bool read_attr_str(hid_t loc, const std::string& name, std::string* out);
bool read_attr_i64(hid_t loc, const std::string& name, std::int64_t* out);

}  // namespace mx::experiments::h5
