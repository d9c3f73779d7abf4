// The one RAII and attribute layer over the HDF5 C API (mx::io): every HDF5 file mxlab reads
// or writes (tensors, golden vectors, probe captures, sweep results) goes through it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hdf5.h>

namespace mx::h5 {

// Owns an HDF5 identifier and closes it with the matching H5*close. Invalid (< 0) ids are
// held as well, so `Id f(H5Fopen(...), H5Fclose); if (!f) ...` needs no separate check.
class Id {
 public:
  Id() = default;
  Id(hid_t i, herr_t (*close)(hid_t)) : id(i), close_(close) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id(o.id), close_(o.close_) { o.id = H5I_INVALID_HID; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id = o.id;
      close_ = o.close_;
      o.id = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Id() { reset(); }
  void reset() {
    if (id >= 0 && close_) close_(id);
    id = H5I_INVALID_HID;
  }
  hid_t get() const { return id; }
  explicit operator bool() const { return id >= 0; }

  // The identifier, for the HDF5 calls (read it; reset() or move to change it).
  hid_t id = H5I_INVALID_HID;

 private:
  herr_t (*close_)(hid_t) = nullptr;
};

void quiet();  // no HDF5 error stack printing; errors are reported by return codes

Id string_type();  // variable-length UTF-8 string

// Attributes. Writers replace an existing attribute of the name and throw
// std::runtime_error("HDF5: cannot ...") on failure.
void attr_str(hid_t loc, const std::string& name, const std::string& value);  // variable length
// A fixed-length, NUL-terminated string (the golden-vector and probe files' layout).
void attr_fixed_str(hid_t loc, const std::string& name, const std::string& value);
void attr_i64(hid_t loc, const std::string& name, std::int64_t value);
void attr_u64(hid_t loc, const std::string& name, std::uint64_t value);
void attr_f64(hid_t loc, const std::string& name, double value);
void attr_i64s(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v);

// Readers return false when the attribute is absent or of another kind. read_attr_str reads
// fixed- and variable-length strings.
bool read_attr_str(hid_t loc, const std::string& name, std::string* out);
bool read_attr_i64(hid_t loc, const std::string& name, std::int64_t* out);

}  // namespace mx::h5
