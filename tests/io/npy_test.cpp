#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "emulator/io/tensor_io.hpp"

namespace mx {
namespace {

std::string tmp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mxlab_npy_" + name)).string();
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string s = "\x93NUMPY";
  s += '\x01';
  s += '\x00';
  s += static_cast<char>(h.size() & 0xFF);
  s += static_cast<char>(h.size() >> 8);
  return s + h + std::string(data_bytes, '\0');
}

TEST(Npy, RoundTrip) {
  Tensor t;
  t.shape = {2, 3};
  t.f32 = {1, 2, 3, 4, 5, -6};
  write_npy(tmp("rt.npy"), t);
  const Tensor r = read_npy(tmp("rt.npy"));
  EXPECT_EQ(r.shape, t.shape);
  EXPECT_EQ(r.f32, t.f32);
  Tensor d;
  d.shape = {4};
  d.dtype = DType::kF64;
  d.f64 = {1.5, -2, 0, 1e300};
  write_npy(tmp("rt64.npy"), d);
  EXPECT_EQ(read_npy(tmp("rt64.npy")).f64, d.f64);
}

TEST(Npy, MalformedInputsNameTheProblem) {
  struct Case {
    std::string name, bytes, message;
  };
  const std::vector<Case> cases = {
      {"magic.npy", "hello world, not numpy", "bad magic"},
      {"short.npy", "\x93NUM", "truncated"},
      {"int.npy", npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8),
       "unsupported dtype '<i4'"},
      {"be.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8),
       "big-endian"},
      {"fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16),
       "Fortran-order"},
      {"size.npy",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000), }", 8),
       "does not match"},
      {"trunc.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 12),
       "does not match"},
  };
  for (const auto& c : cases) {
    write_raw(tmp(c.name), c.bytes);
    try {
      read_npy(tmp(c.name));
      ADD_FAILURE() << c.name << " was accepted";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.name), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_npy(tmp("does_not_exist.npy")), IoError);
}

TEST(Hdf5, RoundTripKeepsOtherDatasets) {
  const std::string file = tmp("t.h5");
  std::filesystem::remove(file);
  Tensor a;
  a.shape = {3};
  a.f32 = {1, 2, 3};
  write_tensor(file + ":/a", a);
  Tensor b;
  b.shape = {2, 1};
  b.dtype = DType::kF64;
  b.f64 = {4, 5};
  write_tensor(file + ":/group/b", b);
  EXPECT_EQ(read_tensor(file + ":/a").f32, a.f32);
  EXPECT_EQ(read_tensor(file + ":/group/b").f64, b.f64);
  EXPECT_THROW(read_tensor(file + ":/missing"), IoError);
}

}  // namespace
}  // namespace mx
