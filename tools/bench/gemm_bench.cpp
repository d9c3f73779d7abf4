// MX GEMM throughput under the accumulator models against Eigen sgemm on the same shapes in
// the same run (DESIGN.md: ratios to an in-run baseline). Operands: Gaussian data quantized
// to mxfp8_e4m3 (blocks of 32 along K). Quantization is outside the timed loop.
//   ./build/tools/bench/gemm_bench --benchmark_min_time=0.5s --benchmark_filter='/(256|1024)/'
//   ./build/tools/bench/gemm_bench --benchmark_min_time=1x --benchmark_filter='/4096/'
// This file is built twice: gemm_bench (Eigen compiled for AVX2/FMA) and gemm_bench_avx512
// (Eigen compiled for AVX-512): Eigen's baseline then uses the same vector width as the MX
// kernels named in the benchmark (isa avx2 / avx512, a run-time choice inside the library).
// Args: {n, threads, isa (0 auto, 1 scalar, 2 avx2, 3 avx512)}; items = multiply-adds.
#include <random>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include "emulator/gemm.hpp"

namespace {

mx::Tensor gaussian(std::size_t r, std::size_t c, unsigned seed) {
  mx::Tensor t;
  t.shape = {r, c};
  t.f32.resize(r * c);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  for (auto& v : t.f32) v = nd(rng);
  return t;
}

void BM_EigenSgemm(benchmark::State& st) {
  const auto n = static_cast<Eigen::Index>(st.range(0));
#ifdef _OPENMP
  Eigen::setNbThreads(static_cast<int>(st.range(1)));
#endif
  const mx::Tensor ta = gaussian(std::size_t(n), std::size_t(n), 1);
  const mx::Tensor tb = gaussian(std::size_t(n), std::size_t(n), 2);
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Mat> a(ta.f32.data(), n, n), b(tb.f32.data(), n, n);
  Mat c(n, n);
  for (auto _ : st) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  st.SetLabel(Eigen::SimdInstructionSetsInUse());
  st.SetItemsProcessed(st.iterations() * n * n * n);
}

void BM_MxGemm(benchmark::State& st, const char* model) {
  const auto n = static_cast<std::size_t>(st.range(0));
  mx::BlockSpec spec;
  spec.format = mx::parse_mx_format("mxfp8_e4m3");
  const mx::MxMatrix a = mx::quantize_operand(gaussian(n, n, 1), 1, spec, 2, "A");
  const mx::MxMatrix b = mx::quantize_operand(gaussian(n, n, 2), 0, spec, 2, "B");
  mx::GemmOptions opt;
  opt.model = mx::parse_accum_model(model);
  opt.threads = static_cast<int>(st.range(1));
  opt.isa = static_cast<mx::GemmIsa>(st.range(2));
  st.SetLabel(mx::gemm_kernel_name(a, b, opt));
  for (auto _ : st) {
    auto c = mx::gemm(a, b, {}, opt);
    benchmark::DoNotOptimize(c.data());
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(n * n * n));
}

constexpr int kAvx2 = static_cast<int>(mx::GemmIsa::kAvx2);
constexpr int kAvx512 = static_cast<int>(mx::GemmIsa::kAvx512);

void EigenShapes(benchmark::internal::Benchmark* b) {
  for (int n : {256, 1024, 4096})
    for (int t : {1, 2}) b->Args({n, t, 0});
}
void Shapes(benchmark::internal::Benchmark* b) {
  for (int n : {256, 1024, 4096})
    for (int t : {1, 2})
      for (int isa : {kAvx2, kAvx512}) b->Args({n, t, isa});
}
void FusedShapes(benchmark::internal::Benchmark* b) {
  for (int n : {256, 1024})
    for (int t : {1, 2})
      for (int isa : {kAvx2, kAvx512}) b->Args({n, t, isa});  // avx2: the scalar fused tile
}

BENCHMARK(BM_EigenSgemm)->Apply(EigenShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, fp32_seq, "fp32-seq")
    ->Apply(Shapes)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, exact, "exact")
    ->Apply(Shapes)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, h100_mma, "h100-mma")
    ->Apply(FusedShapes)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, h100_wgmma, "h100-wgmma")
    ->Apply(FusedShapes)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
