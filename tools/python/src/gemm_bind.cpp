// gemm / golden: the library's quantize_operand + gemm and make_golden, with the operand and
// accumulator arguments checked as `mxlab gemm` / `mxlab golden` check them.
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "emulator/accum_model.hpp"
#include "emulator/gemm.hpp"
#include "emulator/io/golden.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "tools/mxlab/gemm_inputs.hpp"
#include "tools/python/src/bind.hpp"

namespace mx::py {
namespace {

using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

// The operand formats, the accumulator model and the +-Inf pass-through are those of the CLI
// and the C ABI (tools/mxlab/gemm_inputs.cpp, compiled into this module): same checks, same
// messages (std::runtime_error naming the flag, raised as ValueError).
MxFormat operand_format(const std::string& flag, const std::string& name, int block) {
  return cli::parse_operand_format(flag, name, block);
}

AccumModel model_flags(const std::string& accum, std::optional<int> promote_every,
                       const std::string& output_format, const std::string& rounding) {
  return cli::parse_model_flags(accum, promote_every.has_value(), promote_every.value_or(-1),
                                output_format, rounding);
}

// quantize_operand reads a Tensor: the matrix is copied once (the GEMM costs K times more).
Tensor to_tensor(const Array& x, const char* flag) {
  if (x.ndim() != 2)
    throw ArgError(fmt::format("{}: expected a matrix (rank 2), got rank {}", flag, x.ndim()));
  Tensor t;
  t.shape = shape_of(x);
  if (x.dtype() == nb::dtype<float>()) {
    const auto* p = static_cast<const float*>(x.data());
    t.f32.assign(p, p + x.size());
  } else if (x.dtype() == nb::dtype<double>()) {
    t.dtype = DType::kF64;
    const auto* p = static_cast<const double*>(x.data());
    t.f64.assign(p, p + x.size());
  } else {
    throw nb::type_error(fmt::format("{}: expected float32 or float64 values", flag).c_str());
  }
  return t;
}

nb::object gemm_py(Array a, Array b, std::optional<Array> c, const std::string& format,
                   std::optional<std::string> format_b, int block_size, const std::string& accum,
                   std::optional<int> promote_every, const std::string& output_format,
                   const std::string& rounding, std::optional<int> threads_arg) {
  if (block_size < 1) throw ArgError(fmt::format("--block-size must be >= 1 (got {})", block_size));
  const MxFormat fa = operand_format("--format", format, block_size);
  const MxFormat fb = format_b ? operand_format("--format-b", *format_b, block_size) : fa;
  if ((fa.block_size > 0) != (fb.block_size > 0))
    throw ArgError(fmt::format("--format-b {}: both operands must have a shared scale or neither",
                               format_b.value_or("")));
  const AccumModel model = model_flags(accum, promote_every, output_format, rounding);
  const int threads = resolve_threads(threads_arg);
  const Tensor ta = to_tensor(a, "--a");
  const Tensor tb = to_tensor(b, "--b");
  if (ta.shape[1] != tb.shape[0])
    throw ArgError(fmt::format("--b: K mismatch: B has {} rows but A has K = {} columns",
                               tb.shape[0], ta.shape[1]));
  const std::size_t m = ta.shape[0], n = tb.shape[1];
  std::vector<float> c0;
  if (c) {
    const Tensor tc = to_tensor(*c, "--c");
    if (tc.shape[0] != m || tc.shape[1] != n)
      throw ArgError(fmt::format("--c: shape {}x{} does not match the output {}x{}", tc.shape[0],
                                 tc.shape[1], m, n));
    c0.resize(m * n);
    for (std::size_t i = 0; i < m * n; ++i)  // C0 enters as fp32
      c0[i] =
          tc.dtype == DType::kF32
              ? tc.f32[i]
              : static_cast<float>(decode(
                    kFp32, encode(kFp32, tc.f64[i],
                                  RoundSpec{Rounding::kNearestEven, Overflow::kToNanOrInf, 0})));
  }
  Buffer<float> out(m * n);
  {
    nb::gil_scoped_release release;
    BlockSpec sa, sb;
    sa.format = fa;
    sb.format = fb;
    MxMatrix qa = quantize_operand(ta, 1, sa, threads, "--a");
    MxMatrix qb = quantize_operand(tb, 0, sb, threads, "--b");
    cli::keep_infinities(ta, 1, qa);
    cli::keep_infinities(tb, 0, qb);
    GemmOptions opt;
    opt.model = model;
    opt.threads = threads;
    const std::vector<std::uint32_t> codes = gemm(qa, qb, c0, opt);
    for (std::size_t i = 0; i < m * n; ++i)
      out[i] = static_cast<float>(decode(model.out, codes[i]));
  }
  return nb::cast(out.to_numpy({m, n}));
}

nb::dict golden_py(const std::string& format, const std::string& accum, long long cases,
                   std::uint64_t seed, long long k, std::optional<std::string> format_b,
                   int block_size, std::optional<int> promote_every,
                   const std::string& output_format, const std::string& rounding) {
  if (block_size < 1) throw ArgError(fmt::format("--block-size must be >= 1 (got {})", block_size));
  if (cases < 1 || cases > 10000000)
    throw ArgError(fmt::format("--cases must be 1..10000000 (got {})", cases));
  if (k < 1 || k > 1000000) throw ArgError(fmt::format("--k must be 1..1000000 (got {})", k));
  GoldenSpec spec;
  spec.a.format = operand_format("--format", format, block_size);
  spec.b.format = format_b ? operand_format("--format-b", *format_b, block_size) : spec.a.format;
  if ((spec.a.format.block_size > 0) != (spec.b.format.block_size > 0))
    throw ArgError(fmt::format("--format-b {}: both operands must have a shared scale or neither",
                               format_b.value_or("")));
  spec.model = model_flags(accum, promote_every, output_format, rounding);
  spec.cases = static_cast<std::size_t>(cases);
  spec.k = static_cast<std::size_t>(k);
  spec.seed = seed;
  std::vector<GoldenCase> gc;
  {
    nb::gil_scoped_release release;
    gc = make_golden(spec);
  }
  const std::size_t nc = gc.size(), kk = spec.k;
  const std::size_t sa = gc.empty() ? 0 : gc[0].a_scales.size();
  const std::size_t sb = gc.empty() ? 0 : gc[0].b_scales.size();
  std::vector<float> a(nc * kk), b(nc * kk), c(nc);
  std::vector<std::uint32_t> ac(nc * kk), bc(nc * kk), expected(nc);
  std::vector<std::uint8_t> as(nc * sa), bs(nc * sb);
  std::vector<double> value(nc);
  nb::list kinds;
  for (std::size_t i = 0; i < nc; ++i) {
    const GoldenCase& g = gc[i];
    std::copy(g.a.begin(), g.a.end(), a.begin() + i * kk);
    std::copy(g.b.begin(), g.b.end(), b.begin() + i * kk);
    std::copy(g.a_codes.begin(), g.a_codes.end(), ac.begin() + i * kk);
    std::copy(g.b_codes.begin(), g.b_codes.end(), bc.begin() + i * kk);
    std::copy(g.a_scales.begin(), g.a_scales.end(), as.begin() + i * sa);
    std::copy(g.b_scales.begin(), g.b_scales.end(), bs.begin() + i * sb);
    c[i] = g.c;
    expected[i] = g.expected;
    value[i] = decode(spec.model.out, g.expected);
    kinds.append(g.kind);
  }
  nb::dict d;
  d["kind"] = kinds;
  d["a"] = numpy_from_vector(std::move(a), {nc, kk});
  d["b"] = numpy_from_vector(std::move(b), {nc, kk});
  d["c"] = numpy_from_vector(std::move(c), {nc});
  d["a_codes"] = numpy_from_vector(std::move(ac), {nc, kk});
  d["b_codes"] = numpy_from_vector(std::move(bc), {nc, kk});
  d["a_scales"] = numpy_from_vector(std::move(as), {nc, sa});
  d["b_scales"] = numpy_from_vector(std::move(bs), {nc, sb});
  d["expected"] = numpy_from_vector(std::move(expected), {nc});
  d["expected_value"] = numpy_from_vector(std::move(value), {nc});
  d["accum"] = to_string(spec.model);
  return d;
}

}  // namespace

void register_gemm(nb::module_& m) {
  using namespace nb::literals;
  m.def("gemm", &gemm_py, "a"_a, "b"_a, "c"_a.none(), "format"_a, "format_b"_a.none(),
        "block_size"_a, "accum"_a, "promote_every"_a.none(), "output_format"_a, "rounding"_a,
        "threads"_a.none());
  m.def("golden", &golden_py, "format"_a, "accum"_a, "cases"_a, "seed"_a, "k"_a,
        "format_b"_a.none(), "block_size"_a, "promote_every"_a.none(), "output_format"_a,
        "rounding"_a);
}

}  // namespace mx::py
