// quantize / encode: the library's quantize_buffer on the caller's numpy memory, with the
// options checked and worded exactly as `mxlab quantize` checks them (cmd_quantize.cpp).
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>

#include "emulator/pack.hpp"
#include "emulator/quantize.hpp"
#include "formats/catalog.hpp"
#include "formats/compat_microxcaling.hpp"
#include "tools/python/src/bind.hpp"

namespace mx::py {
namespace {

using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

struct QuantizeArgs {
  std::string format;
  std::optional<int> block_size;
  int axis = -1;
  std::string rounding, overflow, scale_rule;
  std::optional<std::string> scale_format;
  std::string compat;
  std::uint64_t seed = 0;
  std::optional<int> threads;
};

// The option checks of cmd_quantize.cpp's run_quantize, in its order and with its messages.
QuantizeOptions make_options(const QuantizeArgs& a) {
  QuantizeOptions opt;
  MxFormat f;
  try {
    f = parse_mx_format(a.format);
  } catch (const FormatError& e) {
    throw ArgError(fmt::format("--format: {}", e.what()));
  }
  if (a.block_size && *a.block_size < 1)
    throw ArgError(fmt::format("--block-size must be >= 1 (got {})", *a.block_size));
  if (f.block_size > 0 && (a.block_size || f.scale != ScaleFormat::kNvfp4))
    f.block_size = a.block_size.value_or(32);
  const auto rnd = parse_rounding(a.rounding);
  if (!rnd) throw ArgError(fmt::format("--rounding: unknown rounding mode '{}'", a.rounding));
  const auto ovf = parse_overflow(a.overflow);
  if (!ovf) throw ArgError(fmt::format("--overflow: unknown overflow policy '{}'", a.overflow));
  const auto rule = parse_scale_rule(a.scale_rule);
  if (!rule) throw ArgError(fmt::format("--scale-rule: unknown scale rule '{}'", a.scale_rule));
  f.rule = *rule;
  if (a.scale_format) {
    const auto sf = parse_scale_format(*a.scale_format);
    if (!sf || *sf == ScaleFormat::kNvfp4)
      throw ArgError(fmt::format("--scale-format: unknown scale format '{}' (e8m0, ue4m3, fp32)",
                                 *a.scale_format));
    if (f.block_size == 0)
      throw ArgError(fmt::format("--scale-format: '{}' is an element format without a shared scale",
                                 a.format));
    f.scale = *sf;
  }
  opt.block.format = f;
  opt.block.round = RoundSpec{*rnd, *ovf, a.seed};
  if (a.compat == "microxcaling") {
    if (f.block_size == 0 || f.scale != ScaleFormat::kE8m0 || !microxcaling_supports(f.elem))
      throw ArgError(fmt::format(
          "--compat microxcaling: format '{}' is not one microxcaling supports", a.format));
    if (*rnd != Rounding::kNearestEven && *rnd != Rounding::kNearestAway &&
        *rnd != Rounding::kTowardZero)
      throw ArgError(
          "--compat microxcaling: rounding must be nearest-away (its 'nearest'), nearest-even "
          "('even') or toward-zero ('floor')");
    opt.block.compat = Compat::kMicroxcaling;
  } else if (a.compat != "ocp") {
    throw ArgError(fmt::format("--compat: unknown mode '{}' (ocp, microxcaling)", a.compat));
  }
  opt.axis = a.axis;
  opt.threads = resolve_threads(a.threads);
  return opt;
}

bool is_f32(const Array& x) { return x.dtype() == nb::dtype<float>(); }

void check_input(const Array& x, const QuantizeOptions& opt) {
  if (x.dtype() != nb::dtype<float>() && x.dtype() != nb::dtype<double>())
    throw nb::type_error("x: expected float32 or float64 values");
  if (opt.block.compat == Compat::kMicroxcaling && !is_f32(x))
    throw ArgError("--compat microxcaling: x must be float32");
  const std::vector<std::size_t> shape = shape_of(x);
  if (opt.block.format.block_size > 0) {
    try {
      make_blocking(shape, opt.axis, opt.block.format.block_size);
    } catch (const std::invalid_argument& e) {  // "axis N is out of range ...": name the flag
      throw ArgError(fmt::format("--{}", e.what()));
    }
  }
}

// Fake-quantization into a new array of x's shape and dtype (out = None) or into `out`
// (same shape and dtype, C-contiguous, may be x itself). The GIL is released while the
// library works.
nb::object quantize(Array x, const QuantizeArgs& a, nb::object out) {
  const QuantizeOptions opt = make_options(a);
  check_input(x, opt);
  const std::vector<std::size_t> shape = shape_of(x);
  const std::size_t n = x.size();
  const bool f32 = is_f32(x);
  if (out.is_none()) {
    if (f32) {
      Buffer<float> y(n);
      {
        nb::gil_scoped_release release;
        quantize_buffer(opt, static_cast<const float*>(x.data()), shape, y.get(), nullptr, nullptr);
      }
      return nb::cast(y.to_numpy(shape));
    }
    Buffer<double> y(n);
    {
      nb::gil_scoped_release release;
      quantize_buffer(opt, static_cast<const double*>(x.data()), shape, y.get(), nullptr, nullptr);
    }
    return nb::cast(y.to_numpy(shape));
  }
  auto o = nb::cast<nb::ndarray<nb::c_contig, nb::device::cpu>>(out);
  if (o.dtype() != x.dtype() || shape_of(o) != shape)
    throw ArgError("out: must have x's shape and dtype and be C-contiguous");
  {
    nb::gil_scoped_release release;
    if (f32)
      quantize_buffer(opt, static_cast<const float*>(x.data()), shape,
                      static_cast<float*>(o.data()), nullptr, nullptr);
    else
      quantize_buffer(opt, static_cast<const double*>(x.data()), shape,
                      static_cast<double*>(o.data()), nullptr, nullptr);
  }
  return out;
}

std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

int code_bytes(int bits) { return bits <= 8 ? 1 : bits <= 16 ? 2 : 4; }

// Narrows uint32 codes to `width` bytes in place, front to back (each write lands at or
// before the element it reads, so nothing is overwritten before it is read).
void narrow_in_place(std::uint8_t* base, std::size_t count, int width) {
  auto* src = reinterpret_cast<std::uint32_t*>(base);
  if (width == 1) {
    for (std::size_t i = 0; i < count; ++i) base[i] = static_cast<std::uint8_t>(src[i]);
  } else if (width == 2) {
    auto* dst = reinterpret_cast<std::uint16_t*>(base);
    for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<std::uint16_t>(src[i]);
  }
}

// One allocation holds everything encode returns; the Python Encoded object views it:
// [decoded values | codes (narrowest unsigned type) | scale codes | packed code stream].
// Returns (buffer as uint8, layout dict of byte offsets and item sizes).
nb::tuple encode(Array x, const QuantizeArgs& a) {
  const QuantizeOptions opt = make_options(a);
  check_input(x, opt);
  const std::vector<std::size_t> shape = shape_of(x);
  const MxFormat& f = opt.block.format;
  const std::size_t n = x.size();
  const std::size_t ns = num_scales(opt, shape);
  const bool f32 = is_f32(x);
  const std::size_t value_bytes = f32 ? 4 : 8;
  const int cw = code_bytes(f.elem.bits);
  const int sw = f.scale == ScaleFormat::kF32 ? 4 : 1;
  const std::size_t packed_bytes = (n * static_cast<std::size_t>(f.elem.bits) + 7) / 8;
  const std::size_t off_codes = align8(n * value_bytes);
  const std::size_t off_scales = off_codes + align8(n * 4);
  const std::size_t off_packed = off_scales + align8(ns * 4);
  const std::size_t total = off_packed + align8(packed_bytes);
  Buffer<std::uint8_t> buf(total);
  std::memset(buf.get(), 0, total);  // the padding between the parts is defined
  {
    nb::gil_scoped_release release;
    std::uint8_t* b = buf.get();
    auto* codes = reinterpret_cast<std::uint32_t*>(b + off_codes);
    auto* scales = reinterpret_cast<std::uint32_t*>(b + off_scales);
    if (f32)
      quantize_buffer(opt, static_cast<const float*>(x.data()), shape, reinterpret_cast<float*>(b),
                      codes, ns ? scales : nullptr);
    else
      quantize_buffer(opt, static_cast<const double*>(x.data()), shape,
                      reinterpret_cast<double*>(b), codes, ns ? scales : nullptr);
    const std::vector<std::uint8_t> packed =
        pack_codes(std::span<const std::uint32_t>(codes, n), f.elem.bits);
    std::memcpy(b + off_packed, packed.data(), packed.size());
    narrow_in_place(b + off_codes, n, cw);
    narrow_in_place(b + off_scales, ns, sw);
  }
  nb::dict layout;
  layout["values"] = nb::make_tuple(0, n, value_bytes);
  layout["codes"] = nb::make_tuple(off_codes, n, cw);
  layout["scales"] = nb::make_tuple(off_scales, ns, sw);
  layout["packed"] = nb::make_tuple(off_packed, packed_bytes, 1);
  layout["bits"] = f.elem.bits;
  layout["block_size"] = f.block_size;
  layout["format"] = f.name;
  layout["element"] = std::string(f.elem.name_view());
  layout["scale_format"] = f.block_size > 0 ? std::string(scale_format_name(f.scale)) : "";
  return nb::make_tuple(buf.to_numpy({total}), layout);
}

QuantizeArgs args_of(const std::string& format, std::optional<int> block_size, int axis,
                     const std::string& rounding, const std::string& overflow,
                     const std::string& scale_rule, std::optional<std::string> scale_format,
                     const std::string& compat, std::uint64_t seed, std::optional<int> threads) {
  return QuantizeArgs{format,     block_size,   axis,   rounding, overflow,
                      scale_rule, scale_format, compat, seed,     threads};
}

// Library time only (no argument parsing, no allocation): x quantized into y, both float32
// C-contiguous of one shape. For the benchmark that compares the module with the kernel.
double time_kernel(Array x, nb::ndarray<float, nb::c_contig, nb::device::cpu> y,
                   const std::string& format, int block_size, int threads, int repeats) {
  QuantizeArgs a{format,       block_size, -1, "nearest-even", "saturate", "floor",
                 std::nullopt, "ocp",      0,  threads};
  const QuantizeOptions opt = make_options(a);
  if (!is_f32(x) || shape_of(y) != shape_of(x)) throw ArgError("time_kernel: float32 x and y");
  const std::vector<std::size_t> shape = shape_of(x);
  nb::gil_scoped_release release;
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    quantize_buffer(opt, static_cast<const float*>(x.data()), shape, y.data(), nullptr, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

}  // namespace

void register_quantize(nb::module_& m) {
  using namespace nb::literals;
  m.def(
      "quantize",
      [](Array x, const std::string& format, std::optional<int> block_size, int axis,
         const std::string& rounding, const std::string& overflow, const std::string& scale_rule,
         std::optional<std::string> scale_format, const std::string& compat, std::uint64_t seed,
         std::optional<int> threads, nb::object out) {
        return quantize(x,
                        args_of(format, block_size, axis, rounding, overflow, scale_rule,
                                scale_format, compat, seed, threads),
                        out);
      },
      "x"_a, "format"_a, "block_size"_a.none(), "axis"_a, "rounding"_a, "overflow"_a,
      "scale_rule"_a, "scale_format"_a.none(), "compat"_a, "seed"_a, "threads"_a.none(),
      "out"_a.none());
  m.def(
      "encode",
      [](Array x, const std::string& format, std::optional<int> block_size, int axis,
         const std::string& rounding, const std::string& overflow, const std::string& scale_rule,
         std::optional<std::string> scale_format, const std::string& compat, std::uint64_t seed,
         std::optional<int> threads) {
        return encode(x, args_of(format, block_size, axis, rounding, overflow, scale_rule,
                                 scale_format, compat, seed, threads));
      },
      "x"_a, "format"_a, "block_size"_a.none(), "axis"_a, "rounding"_a, "overflow"_a,
      "scale_rule"_a, "scale_format"_a.none(), "compat"_a, "seed"_a, "threads"_a.none());
  m.def("time_kernel", &time_kernel, "x"_a, "y"_a, "format"_a, "block_size"_a, "threads"_a,
        "repeats"_a);
}

}  // namespace mx::py
