#include "emulator/quantize.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "formats/codec.hpp"

namespace mx {

Blocking make_blocking(const std::vector<std::size_t>& shape, int axis, int block_size) {
  const int rank = static_cast<int>(shape.size());
  Blocking b;
  if (rank == 0) {  // a scalar is a single block of one element
    return b;
  }
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw std::invalid_argument(
        fmt::format("--axis {} is out of range for a tensor of rank {}", axis, rank));
  for (int i = 0; i < a; ++i) b.outer *= shape[static_cast<std::size_t>(i)];
  b.length = shape[static_cast<std::size_t>(a)];
  for (int i = a + 1; i < rank; ++i) b.inner *= shape[static_cast<std::size_t>(i)];
  b.block = block_size > 0 ? static_cast<std::size_t>(block_size) : 1;
  b.blocks_per_lane = b.length == 0 ? 0 : (b.length + b.block - 1) / b.block;
  return b;
}

namespace {

template <typename T>
void quantize_typed(const QuantizeOptions& opt, const T* x, std::size_t n,
                    const std::vector<std::size_t>& shape, T* y, std::uint32_t* codes,
                    std::uint32_t* scales) {
  const MxFormat& f = opt.block.format;
  BlockSpec spec = opt.block;
  if (f.scale == ScaleFormat::kNvfp4) {  // per-tensor second-level scale
    double amax = 0;
    for (std::size_t i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(double(x[i])));
    spec.tensor_scale = nvfp4_tensor_scale(amax);
  }
  const BlockQuantizer bq(spec);
  if (f.block_size == 0) {  // element-wise: no shared scale
    parallel_for(n, opt.threads, [&](std::size_t b, std::size_t e) {
      if constexpr (std::is_same_v<T, float>) {
        bq.elems_f32(x + b, e - b, y ? y + b : nullptr, codes ? codes + b : nullptr, b);
      } else {
        for (std::size_t i = b; i < e; ++i) {
          const std::uint32_t c =
              encode(f.elem, x[i], spec.round, nullptr, stochastic_bits(spec.round.seed, i));
          if (codes) codes[i] = c;
          if (y) y[i] = decode(f.elem, c);
        }
      }
    });
    return;
  }
  const Blocking bk = make_blocking(shape, opt.axis, f.block_size);
  auto run_block = [&](const T* xb, std::size_t len, T* yb, std::uint32_t* cb,
                       std::uint64_t index0) {
    if constexpr (std::is_same_v<T, float>)
      return bq.f32(xb, len, yb, cb, index0);
    else
      return bq.f64(xb, len, yb, cb, index0);
  };
  const std::size_t lanes = bk.outer * bk.inner;
  if constexpr (std::is_same_v<T, float>) {
    if (bk.inner == 1 && y && !codes && spec.compat == Compat::kOcp &&
        f.scale == ScaleFormat::kE8m0) {
      // Contiguous blocks, values only: whole runs of blocks per call (one lane at a time).
      parallel_for(lanes * bk.blocks_per_lane, opt.threads,
                   [&](std::size_t begin, std::size_t end) {
                     std::vector<std::uint32_t> tmp;
                     for (std::size_t job = begin; job < end;) {
                       const std::size_t o = job / bk.blocks_per_lane;
                       const std::size_t j = job % bk.blocks_per_lane;
                       const std::size_t jend = std::min(end, (o + 1) * bk.blocks_per_lane);
                       const std::size_t start = j * bk.block;
                       const std::size_t stop =
                           std::min(bk.length, (jend - o * bk.blocks_per_lane) * bk.block);
                       std::uint32_t* sc = scales ? scales + job : nullptr;
                       if (!sc) {
                         tmp.resize(jend - job);
                         sc = tmp.data();
                       }
                       const std::size_t base = o * bk.length + start;
                       bq.f32_blocks(x + base, stop - start, y + base, sc, base);
                       job = jend;
                     }
                   });
      return;
    }
  }
  parallel_for(lanes * bk.blocks_per_lane, opt.threads, [&](std::size_t begin, std::size_t end) {
    std::vector<T> gx, gy;
    std::vector<std::uint32_t> gc;
    // job enumerates (outer o, block j, inner i) in C order of the scale tensor; the
    // coordinates are derived once and then stepped (no division per block).
    std::size_t i = begin % bk.inner;
    std::size_t j = (begin / bk.inner) % bk.blocks_per_lane;
    std::size_t o = begin / (bk.inner * bk.blocks_per_lane);
    for (std::size_t job = begin; job < end; ++job) {
      const std::size_t start = j * bk.block;
      const std::size_t len = std::min(bk.block, bk.length - start);
      const std::size_t base = (o * bk.length + start) * bk.inner + i;
      const std::uint64_t index0 = (o * bk.inner + i) * bk.length + start;  // axis-major
      std::uint32_t sc;
      if (bk.inner == 1) {
        sc = run_block(x + base, len, y ? y + base : nullptr, codes ? codes + base : nullptr,
                       index0);
      } else {  // strided block: gather, quantize, scatter
        gx.resize(len);
        gy.resize(len);
        gc.resize(len);
        for (std::size_t k = 0; k < len; ++k) gx[k] = x[base + k * bk.inner];
        sc = run_block(gx.data(), len, gy.data(), gc.data(), index0);
        for (std::size_t k = 0; k < len; ++k) {
          if (y) y[base + k * bk.inner] = gy[k];
          if (codes) codes[base + k * bk.inner] = gc[k];
        }
      }
      if (scales) scales[job] = sc;
      if (++i == bk.inner) {
        i = 0;
        if (++j == bk.blocks_per_lane) {
          j = 0;
          ++o;
        }
      }
    }
  });
}

}  // namespace

void quantize_buffer(const QuantizeOptions& opt, const float* x,
                     const std::vector<std::size_t>& shape, float* y, std::uint32_t* codes,
                     std::uint32_t* scales) {
  if (opt.block.format.block_size < 0) throw std::invalid_argument("--block-size must be >= 1");
  if (opt.block.format.block_size > 0)
    make_blocking(shape, opt.axis, opt.block.format.block_size);  // validate axis
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  quantize_typed<float>(opt, x, n, shape, y, codes, scales);
}

void quantize_buffer(const QuantizeOptions& opt, const double* x,
                     const std::vector<std::size_t>& shape, double* y, std::uint32_t* codes,
                     std::uint32_t* scales) {
  if (opt.block.format.block_size < 0) throw std::invalid_argument("--block-size must be >= 1");
  if (opt.block.format.block_size > 0)
    make_blocking(shape, opt.axis, opt.block.format.block_size);  // validate axis
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  quantize_typed<double>(opt, x, n, shape, y, codes, scales);
}

std::size_t num_scales(const QuantizeOptions& opt, const std::vector<std::size_t>& shape) {
  const int block = opt.block.format.block_size;
  if (block < 0) throw std::invalid_argument("--block-size must be >= 1");
  return block > 0 ? make_blocking(shape, opt.axis, block).num_blocks() : 0;
}

void quantize_tensor(const QuantizeOptions& opt, const Tensor& in, Tensor* dequantized,
                     std::vector<std::uint32_t>* codes, std::vector<std::uint32_t>* scales) {
  const std::size_t n = in.size();
  const std::size_t nscales = num_scales(opt, in.shape);  // validates block size and axis
  if (codes) codes->resize(n);
  if (scales) scales->resize(nscales);
  if (dequantized && dequantized != &in) {
    dequantized->shape = in.shape;
    dequantized->dtype = in.dtype;
    if (in.dtype == DType::kF32)
      dequantized->f32.resize(n);
    else
      dequantized->f64.resize(n);
  }
  std::uint32_t* cp = codes ? codes->data() : nullptr;
  std::uint32_t* sp = scales ? scales->data() : nullptr;
  if (in.dtype == DType::kF32) {
    float* y = dequantized ? const_cast<float*>(dequantized->f32.data()) : nullptr;
    quantize_buffer(opt, in.f32.data(), in.shape, y, cp, sp);
  } else {
    double* y = dequantized ? const_cast<double*>(dequantized->f64.data()) : nullptr;
    quantize_buffer(opt, in.f64.data(), in.shape, y, cp, sp);
  }
}

}  // namespace mx
