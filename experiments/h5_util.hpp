// The result file's HDF5 row type, private to experiments/; the RAII and attribute helpers
// come from mx::io (emulator/io/h5.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hdf5.h>

#include "emulator/io/h5.hpp"

namespace mx::experiments::h5 {

// The RAII and attribute helpers are mx::io's (emulator/io/h5.hpp), under their old names.
using mx::h5::attr_f64;
using mx::h5::attr_i64;
using mx::h5::attr_i64s;
using mx::h5::attr_str;
using mx::h5::Id;
using mx::h5::quiet;
using mx::h5::read_attr_i64;
using mx::h5::read_attr_str;
using mx::h5::string_type;

// The /points row type (memory layout of PointRow); `packed` gives the file type.
Id row_type(bool packed);

}  // namespace mx::experiments::h5
