// Reading and writing tensors: .npy files and HDF5 datasets (`file.h5:/path`), and the atomic
// file write every single-file output uses (mx::io).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "emulator/tensor.hpp"

namespace mx {

// Raised for unreadable or malformed inputs and unwritable outputs; the message names the
// file (and what is wrong with it) in one line.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads `path` (.npy) or `file.h5:/dataset`. Throws IoError naming the culprit.
Tensor read_tensor(const std::string& spec);
// Writes atomically: to a temporary file in the same folder, then renamed over `spec`'s file.
// For HDF5 targets the dataset is written into a copy of the existing file (other datasets
// are kept) which then replaces it.
void write_tensor(const std::string& spec, const Tensor& t);

// .npy specifics (NumPy format versions 1.0-3.0, little-endian float32/float64, C order).
Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);  // atomic
bool is_hdf5_spec(const std::string& spec, std::string* file, std::string* dataset);

// Writes bytes to `path` atomically (temporary file + rename). Throws IoError.
void write_file_atomic(const std::string& path, const void* data, std::size_t size);
// Returns a temporary path next to `path`; the caller renames or removes it.
std::string temp_path_for(const std::string& path);

}  // namespace mx
