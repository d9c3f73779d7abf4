// libFuzzer target: mxlab's HDF5 readers (read_tensor on file.h5:/x, read_results,
// read_probe). The input is not fed to libhdf5's own parser (that is HDF5's to fuzz): it is
// a little program that builds a well-formed HDF5 file with objects of any name, rank,
// type, dims (up to 2^64 - 1, chunked so that no data needs writing) and attributes, in a
// temporary file; then every reader runs on it. Readers may fail only with their error types
// and printable messages; they must never crash, overflow or allocate what the file lacks.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <hdf5.h>

#include "emulator/io/tensor_io.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/h5_util.hpp"
#include "experiments/hw/hwcheck.hpp"
#include "formats/message.hpp"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }
  std::string str(std::size_t max) {
    const std::size_t len = byte() % (max + 1);
    std::string s;
    for (std::size_t i = 0; i < len; ++i) s += static_cast<char>(byte());
    return s;
  }
};

// Names: mostly the ones the readers look for, sometimes arbitrary bytes.
std::string pick_name(Reader& r) {
  static const char* kNames[] = {
      "points", "error_histogram", "axes", "x",   "g",   "a",   "b",     "c", "d",
      "kind",   "axes/format",     "g/a",  "g/b", "g/c", "g/d", "g/kind"};
  const std::uint8_t k = r.byte();
  if (k < 200) return kNames[k % (sizeof kNames / sizeof *kNames)];
  std::string s = r.str(12);
  for (char& c : s)
    if (c == '\0' || c == '/' || c == '.') c = '_';
  return s.empty() ? "z" : s;
}

void put_str_attr(hid_t obj, const std::string& name, const std::string& v, bool vlen) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (vlen)
    H5Tset_size(t, H5T_VARIABLE);
  else
    H5Tset_size(t, v.size() + 1);
  hid_t s = H5Screate(H5S_SCALAR);
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  hid_t a = H5Acreate2(obj, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    const char* p = v.c_str();
    if (vlen)
      H5Awrite(a, t, &p);
    else
      H5Awrite(a, t, v.c_str());
    H5Aclose(a);
  }
  H5Sclose(s);
  H5Tclose(t);
}

void build(Reader& r, hid_t f) {
  const int objects = 1 + r.byte() % 6;
  for (int o = 0; o < objects && r.n > 0; ++o) {
    const std::uint8_t op = r.byte() % 4;
    const std::string name = pick_name(r);
    if (op == 0) {  // a group
      hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
      H5Pset_create_intermediate_group(lcpl, 1);
      hid_t g = H5Gcreate2(f, name.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT);
      if (g >= 0) H5Gclose(g);
      H5Pclose(lcpl);
      continue;
    }
    if (op == 1) {  // a string attribute on the root
      static const char* kAttrs[] = {"schema", "layout", "format_a",         "format_b",
                                     "kinds",  "op",     "config_canonical", "schema_version"};
      const std::uint8_t k = r.byte();
      std::string an = kAttrs[k % 8];
      std::string v = r.str(40);
      if (k & 8) v = k & 16 ? "mxlab-sweep" : "mxlab-hwprobe-v1";
      if (an == "schema_version") {
        hid_t s = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, an.c_str(), H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        std::int64_t one = k & 32 ? 1 : static_cast<std::int64_t>(r.u64());
        if (a >= 0) {
          H5Awrite(a, H5T_NATIVE_INT64, &one);
          H5Aclose(a);
        }
        H5Sclose(s);
      } else {
        put_str_attr(f, an, v, k & 64);
      }
      continue;
    }
    // A dataset: type, rank, dims (chunked, nothing written unless small).
    const std::uint8_t ty = r.byte() % 6;
    hid_t type = -1;
    bool own = false;
    switch (ty) {
      case 0:
        type = H5T_IEEE_F32LE;
        break;
      case 1:
        type = H5T_IEEE_F64LE;
        break;
      case 2:
        type = H5T_STD_U32LE;
        break;
      case 3:
        type = H5T_STD_U8LE;
        break;
      case 4: {
        mx::experiments::h5::Id rt = mx::experiments::h5::row_type(true);
        type = H5Tcopy(rt.get());
        own = true;
        break;
      }
      default:
        type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        own = true;
        break;
    }
    const int rank = r.byte() % 5;
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), maxd(dims.size()),
        chunk(dims.size(), 1);
    hsize_t total = 1;
    for (int i = 0; i < rank; ++i) {
      const std::uint8_t m = r.byte();
      dims[static_cast<std::size_t>(i)] = m < 128 ? m % 9 : m < 200 ? r.u64() % 100000 : r.u64();
      if (dims[static_cast<std::size_t>(i)] == 0) dims[static_cast<std::size_t>(i)] = m & 1;
      maxd[static_cast<std::size_t>(i)] = H5S_UNLIMITED;
      total = total > 0 && dims[static_cast<std::size_t>(i)] > UINT64_MAX / total
                  ? 0
                  : total * dims[static_cast<std::size_t>(i)];
    }
    hid_t space =
        rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims.data(), maxd.data());
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0) H5Pset_chunk(dcpl, rank, chunk.data());
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(f, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
    if (d >= 0 && total > 0 && total <= 64 && ty < 4) {
      std::vector<std::uint8_t> buf(static_cast<std::size_t>(total) * 8);
      for (auto& b : buf) b = r.byte();
      const hid_t mt = ty == 0   ? H5T_NATIVE_FLOAT
                       : ty == 1 ? H5T_NATIVE_DOUBLE
                       : ty == 2 ? H5T_NATIVE_UINT32
                                 : H5T_NATIVE_UINT8;
      H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (own) H5Tclose(type);
  }
}

bool printable(const char* s) { return mx::is_printable_utf8(s); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  static const std::string path =
      "/tmp/mxlab_fuzz_h5_" + std::to_string(static_cast<long>(::getpid())) + ".h5";
  {
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 0;
    Reader r{data, size};
    build(r, f);
    H5Fclose(f);
  }
  try {
    (void)mx::read_tensor(path + ":/x");
  } catch (const mx::IoError& e) {
    if (!printable(e.what())) std::abort();
  }
  try {
    (void)mx::experiments::read_results(path);
  } catch (const mx::IoError& e) {
    if (!printable(e.what())) std::abort();
  }
  try {
    const mx::ProbeFile pf = mx::read_probe(path);
    for (const auto& g : pf.groups)
      if (!mx::is_printable_utf8(g.name)) std::abort();
  } catch (const mx::HwCheckError& e) {
    if (!printable(e.what())) std::abort();
  }
  return 0;
}
