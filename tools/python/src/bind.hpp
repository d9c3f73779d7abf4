// Shared helpers of the Python module (_core): argument checks worded as the CLI words them,
// arrays handed to numpy without copies, and the registration functions of each source file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

namespace mx::py {

namespace nb = nanobind;

// Bad arguments: the message is the CLI's (naming the flag), raised as ValueError.
class ArgError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// threads=None means what the CLI's default --threads 0 means: every core.
inline int resolve_threads(std::optional<int> threads) {
  if (threads && *threads < 1)
    throw ArgError("--threads must be >= 1 (got " + std::to_string(*threads) + ")");
  return threads ? *threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Memory of the arrays the module returns. Large blocks (>= 4 MiB) are mapped with transparent
// huge pages (a 64 MiB result costs 32 page faults instead of 16384), and the last large block
// freed is kept for the next request of the same size, so a loop over same-shaped tensors
// pays no page faults at all (at most one block is held). Thread-safe.
void* alloc_bytes(std::size_t bytes);
void free_bytes(void* p, std::size_t bytes) noexcept;

// An uninitialized buffer of `count` T from alloc_bytes, owned until handed to numpy.
template <typename T>
class Buffer {
 public:
  explicit Buffer(std::size_t count)
      : bytes_(count * sizeof(T)), p_(static_cast<T*>(alloc_bytes(bytes_))) {}
  ~Buffer() {
    if (p_) free_bytes(p_, bytes_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* get() const { return p_; }
  T& operator[](std::size_t i) const { return p_[i]; }
  // A numpy array of `shape` that owns the memory from now on.
  nb::ndarray<nb::numpy, T> to_numpy(const std::vector<std::size_t>& shape) {
    struct Owner {
      void* p;
      std::size_t bytes;
    };
    auto* o = new Owner{p_, bytes_};
    nb::capsule owner(o, [](void* q) noexcept {
      auto* w = static_cast<Owner*>(q);
      free_bytes(w->p, w->bytes);
      delete w;
    });
    T* data = p_;
    p_ = nullptr;
    return nb::ndarray<nb::numpy, T>(data, shape.size(), shape.data(), owner);
  }

 private:
  std::size_t bytes_;
  T* p_;
};

// Moves a vector into a numpy array without copying its elements.
template <typename T>
nb::ndarray<nb::numpy, T> numpy_from_vector(std::vector<T>&& v,
                                            const std::vector<std::size_t>& shape) {
  auto* holder = new std::vector<T>(std::move(v));
  nb::capsule owner(holder, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(holder->data(), shape.size(), shape.data(), owner);
}

template <typename... Args>
std::vector<std::size_t> shape_of(const nb::ndarray<Args...>& a) {
  std::vector<std::size_t> s(a.ndim());
  for (std::size_t i = 0; i < a.ndim(); ++i) s[i] = a.shape(i);
  return s;
}

void register_quantize(nb::module_& m);
void register_gemm(nb::module_& m);
void register_ptq(nb::module_& m);
void register_model(nb::module_& m);

}  // namespace mx::py
