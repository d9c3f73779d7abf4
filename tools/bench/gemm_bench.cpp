// MX GEMM throughput under the accumulator models against Eigen sgemm on the same shapes in
// the same run (DESIGN.md: ratios to an in-run baseline). Operands: Gaussian data quantized
// to mxfp8_e4m3 (blocks of 32 along K). Quantization is outside the timed loop.
//   ./build/tools/bench/gemm_bench --benchmark_min_time=0.5s
// Args: {n, threads (0 = one, 1 = all cores)}; items = multiply-adds.
#include <random>
#include <thread>

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include "emulator/gemm.hpp"

namespace {

int threads_for(const benchmark::State& st) {
  return st.range(1) == 0 ? 1 : static_cast<int>(std::thread::hardware_concurrency());
}

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
  Eigen::setNbThreads(threads_for(st));
#endif
  const mx::Tensor ta = gaussian(std::size_t(n), std::size_t(n), 1), tb = gaussian(std::size_t(n), std::size_t(n), 2);
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> a(ta.f32.data(), n, n), b(tb.f32.data(), n, n);
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> c(n, n);
  for (auto _ : st) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
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
  opt.threads = threads_for(st);
  st.SetLabel(mx::gemm_kernel_name(a, b, opt));
  for (auto _ : st) {
    auto c = mx::gemm(a, b, {}, opt);
    benchmark::DoNotOptimize(c.data());
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(n * n * n));
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int n : {256, 1024})
    for (int t : {0, 1}) b->Args({n, t});
}
void SmallShapes(benchmark::internal::Benchmark* b) {
  for (int t : {0, 1}) b->Args({256, t});
}

BENCHMARK(BM_EigenSgemm)->Apply(Shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, fp32_seq, "fp32-seq")->Apply(Shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, exact, "exact")->Apply(Shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, h100_mma, "h100-mma")->Apply(SmallShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MxGemm, h100_wgmma, "h100-wgmma")->Apply(SmallShapes)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
