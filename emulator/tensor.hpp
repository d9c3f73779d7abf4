// A dense host tensor of fp32 or fp64 values in C order, as read from .npy / HDF5.
// Reading and writing it lives in the I/O target: emulator/io/tensor_io.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mx {

enum class DType : std::uint8_t { kF32, kF64 };

struct Tensor {
  std::vector<std::size_t> shape;
  DType dtype = DType::kF32;
  std::vector<float> f32;   // used when dtype == kF32
  std::vector<double> f64;  // used when dtype == kF64

  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

}  // namespace mx
