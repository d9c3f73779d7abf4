// HDF5 datasets as tensors: `file.h5:/path/to/dataset`.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <hdf5.h>

#include "emulator/io/h5.hpp"
#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "formats/message.hpp"

namespace mx {
namespace {

using H5Id = h5::Id;  // RAII for HDF5 identifiers (emulator/io/h5.hpp)

void quiet_hdf5() { h5::quiet(); }

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
  const std::string qspec = escape_text(spec);
  const std::uint64_t file_size = require_regular_file(file);  // no FIFO, no folder
  if (H5Fis_hdf5(file.c_str()) <= 0)
    throw IoError(fmt::format("{}: not an HDF5 file", escape_text(file)));
  H5Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f) throw IoError(fmt::format("{}: cannot open HDF5 file", escape_text(file)));
  if (dset.empty() || H5Lexists(f.id, dset.c_str(), H5P_DEFAULT) <= 0)
    throw IoError(fmt::format("{}: no dataset '{}'", qspec, escape_text(dset)));
  H5O_info_t oi;
  if (H5Oget_info_by_name2(f.id, dset.c_str(), &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      oi.type != H5O_TYPE_DATASET)
    throw IoError(fmt::format("{}: '{}' is not a dataset", qspec, escape_text(dset)));
  H5Id d(H5Dopen2(f.id, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d) throw IoError(fmt::format("{}: '{}' is not a dataset", qspec, escape_text(dset)));
  H5Id type(H5Dget_type(d.id), H5Tclose);
  if (!type || H5Tget_class(type.id) != H5T_FLOAT)
    throw IoError(fmt::format("{}: dataset is not floating point", qspec));
  const std::size_t tsize = H5Tget_size(type.id);
  if (tsize != 4 && tsize != 8)
    throw IoError(fmt::format("{}: unsupported float size {} bytes", qspec, tsize));
  H5Id space(H5Dget_space(d.id), H5Sclose);
  const H5S_class_t sclass = space ? H5Sget_simple_extent_type(space.id) : H5S_NO_CLASS;
  if (sclass != H5S_SIMPLE && sclass != H5S_SCALAR)
    throw IoError(fmt::format("{}: unreadable or empty dataspace", qspec));
  const int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0 || rank > H5S_MAX_RANK)
    throw IoError(fmt::format("{}: unreadable dataspace", qspec));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.id, dims.data(), nullptr) < 0)
    throw IoError(fmt::format("{}: unreadable dataspace", qspec));
  // The size, without overflow, against the memory and against what the file holds: an
  // unfiltered dataset cannot hold more than the file's bytes (a chunked one may lack chunks
  // and read as fill values; so may a compressed one, within a bound on the ratio).
  const std::vector<std::uint64_t> d64(dims.begin(), dims.end());
  const std::uint64_t bytes = checked_bytes(d64, tsize, qspec);
  H5Id dcpl(H5Dget_create_plist(d.id), H5Pclose);
  check_backed_size(bytes, file_size, dcpl && H5Pget_nfilters(dcpl.id) > 0, qspec);
  Tensor t;
  t.dtype = tsize == 4 ? DType::kF32 : DType::kF64;
  for (hsize_t x : dims) t.shape.push_back(static_cast<std::size_t>(x));
  herr_t st = 0;
  if (t.dtype == DType::kF32) {
    t.f32.resize(t.size());
    if (!t.f32.empty())
      st = H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.f32.data());
  } else {
    t.f64.resize(t.size());
    if (!t.f64.empty())
      st = H5Dread(d.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.f64.data());
  }
  if (st < 0) throw IoError(fmt::format("{}: read failed", qspec));
  return t;
}

// Writes `t` as dataset `dset` of a copy of `file` (or a new file) at a temporary path and
// returns that path; the caller renames it over `file`.
static std::string stage_h5(const std::string& file, const std::string& dset,
                            const std::string& spec, const Tensor& t) {
  quiet_hdf5();
  const std::string tmp = temp_path_for(file);
  const std::string qspec = escape_text(spec);
  io_detail::remove_dead_temps(file);
  std::error_code ec;
  if (dset.empty() || dset == "/")
    throw IoError(fmt::format("{}: no dataset path after the file name", qspec));
  hid_t fid;
  if (std::filesystem::exists(file)) {
    require_regular_file(file);
    if (H5Fis_hdf5(file.c_str()) <= 0)
      throw IoError(fmt::format("{}: exists and is not an HDF5 file", escape_text(file)));
    std::filesystem::copy_file(file, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) throw IoError(fmt::format("{}: cannot write ({})", escape_text(file), ec.message()));
    fid = H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  } else {
    fid = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  }
  auto fail = [&](const std::string& what) {
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: {}", qspec, what));
  };
  if (fid < 0) fail("cannot open for writing");
  {
    H5Id f(fid, H5Fclose);
    if (H5Lexists(f.id, dset.c_str(), H5P_DEFAULT) > 0) {
      // Only a dataset is replaced: never a group (with everything below it) or a link.
      H5O_info_t oi;
      if (H5Oget_info_by_name2(f.id, dset.c_str(), &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
          oi.type != H5O_TYPE_DATASET)
        fail(fmt::format("'{}' exists and is not a dataset (a group?); refusing to replace it",
                         escape_text(dset)));
      if (H5Ldelete(f.id, dset.c_str(), H5P_DEFAULT) < 0)
        fail(fmt::format("cannot replace dataset '{}'", escape_text(dset)));
    }
    std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
    H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.id, 1);
    const hid_t mem = t.dtype == DType::kF32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
    const hid_t ftype = t.dtype == DType::kF32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    H5Id d(H5Dcreate2(f.id, dset.c_str(), ftype, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose);
    if (!d) fail(fmt::format("cannot create dataset '{}'", escape_text(dset)));
    const void* data = t.dtype == DType::kF32 ? static_cast<const void*>(t.f32.data())
                                              : static_cast<const void*>(t.f64.data());
    if (t.size() > 0 && H5Dwrite(d.id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
      fail(fmt::format("write failed ({})", std::strerror(errno ? errno : EIO)));
    if (H5Fflush(f.id, H5F_SCOPE_GLOBAL) < 0)
      fail(fmt::format("write failed ({})", std::strerror(errno ? errno : EIO)));
  }
  io_detail::fsync_path(tmp, false);
  return tmp;
}

namespace io_detail {
std::string stage_tensor_file(const std::string& spec, const Tensor& t) {
  std::string file, dset;
  if (is_hdf5_spec(spec, &file, &dset)) return stage_h5(file, dset, spec, t);
  const std::string tmp = temp_path_for(spec);
  write_npy_to(tmp, spec, t);
  return tmp;
}
}  // namespace io_detail

Tensor read_tensor(const std::string& spec) {
  std::string file, dset;
  if (is_hdf5_spec(spec, &file, &dset)) return read_h5(file, dset, spec);
  return read_npy(spec);
}

void write_tensor(const std::string& spec, const Tensor& t) {
  StagedOutputs out;
  out.stage_tensor(spec, t);
  out.commit();
}

}  // namespace mx
