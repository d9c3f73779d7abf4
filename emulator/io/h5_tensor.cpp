// HDF5 datasets as tensors: `file.h5:/path/to/dataset`.
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <hdf5.h>

#include "emulator/io/tensor_io.hpp"

namespace mx {
namespace {

// RAII for HDF5 identifiers.
struct H5Id {
  hid_t id = H5I_INVALID_HID;
  herr_t (*close)(hid_t) = nullptr;
  H5Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() {
    if (id >= 0 && close) close(id);
  }
  explicit operator bool() const { return id >= 0; }
};

void quiet_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

}  // namespace

bool is_hdf5_spec(const std::string& spec, std::string* file, std::string* dataset) {
  // The file part ends in .h5 / .hdf5 and is followed by ":/".
  for (const char* ext : {".h5:", ".hdf5:"}) {
    const auto p = spec.find(ext);
    if (p != std::string::npos) {
      const auto colon = p + std::char_traits<char>::length(ext) - 1;
      if (file) *file = spec.substr(0, colon);
      if (dataset) *dataset = spec.substr(colon + 1);
      return true;
    }
  }
  return false;
}

static Tensor read_h5(const std::string& file, const std::string& dset, const std::string& spec) {
  quiet_hdf5();
  if (!std::filesystem::exists(file)) throw IoError(fmt::format("{}: no such file", file));
  if (H5Fis_hdf5(file.c_str()) <= 0) throw IoError(fmt::format("{}: not an HDF5 file", file));
  H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f) throw IoError(fmt::format("{}: cannot open HDF5 file", file));
  if (dset.empty() || H5Lexists(f.id, dset.c_str(), H5P_DEFAULT) <= 0)
    throw IoError(fmt::format("{}: no dataset '{}'", spec, dset));
  H5Id d(H5Dopen2(f.id, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d) throw IoError(fmt::format("{}: '{}' is not a dataset", spec, dset));
  H5Id type(H5Dget_type(d.id), H5Tclose);
  if (H5Tget_class(type.id) != H5T_FLOAT)
    throw IoError(fmt::format("{}: dataset is not floating point", spec));
  const std::size_t tsize = H5Tget_size(type.id);
  if (tsize != 4 && tsize != 8)
    throw IoError(fmt::format("{}: unsupported float size {} bytes", spec, tsize));
  H5Id space(H5Dget_space(d.id), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0) throw IoError(fmt::format("{}: unreadable dataspace", spec));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  Tensor t;
  t.dtype = tsize == 4 ? DType::kF32 : DType::kF64;
  for (hsize_t x : dims) t.shape.push_back(static_cast<std::size_t>(x));
  herr_t st;
  if (t.dtype == DType::kF32) {
    t.f32.resize(t.size());
    st = H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.f32.data());
  } else {
    t.f64.resize(t.size());
    st = H5Dread(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.f64.data());
  }
  if (st < 0) throw IoError(fmt::format("{}: read failed", spec));
  return t;
}

static void write_h5(const std::string& file, const std::string& dset, const std::string& spec,
                     const Tensor& t) {
  quiet_hdf5();
  const std::string tmp = temp_path_for(file);
  std::error_code ec;
  hid_t fid;
  if (std::filesystem::exists(file)) {
    if (H5Fis_hdf5(file.c_str()) <= 0)
      throw IoError(fmt::format("{}: exists and is not an HDF5 file", file));
    std::filesystem::copy_file(file, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) throw IoError(fmt::format("{}: cannot write ({})", file, ec.message()));
    fid = H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  } else {
    fid = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  }
  auto fail = [&](const std::string& what) {
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: {}", spec, what));
  };
  if (fid < 0) fail("cannot open for writing");
  {
    H5Id f(fid, H5Fclose);
    if (H5Lexists(f.id, dset.c_str(), H5P_DEFAULT) > 0) H5Ldelete(f.id, dset.c_str(), H5P_DEFAULT);
    std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
    H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.id, 1);
    const hid_t mem = t.dtype == DType::kF32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    const hid_t ftype = t.dtype == DType::kF32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    H5Id d(H5Dcreate2(f.id, dset.c_str(), ftype, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
    if (!d) fail(fmt::format("cannot create dataset '{}'", dset));
    const void* data = t.dtype == DType::kF32 ? static_cast<const void*>(t.f32.data())
                                              : static_cast<const void*>(t.f64.data());
    if (H5Dwrite(d.id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail("write failed");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) fail(fmt::format("cannot replace file ({})", ec.message()));
}

Tensor read_tensor(const std::string& spec) {
  std::string file, dset;
  if (is_hdf5_spec(spec, &file, &dset)) return read_h5(file, dset, spec);
  return read_npy(spec);
}

void write_tensor(const std::string& spec, const Tensor& t) {
  std::string file, dset;
  if (is_hdf5_spec(spec, &file, &dset)) return write_h5(file, dset, spec, t);
  write_npy(spec, t);
}

}  // namespace mx
