// MX quantization throughput on a 4096 x 4096 fp32 tensor, with memcpy of the same tensor
// as the in-run baseline. Fake-quant (dequantized fp32 out) and packed (codes packed at
// their width + one scale byte per block), single-threaded and with all cores.
//   ./build/tools/bench/quantize_bench --benchmark_min_time=0.5
#include <cstring>
#include <random>
#include <thread>

#include <benchmark/benchmark.h>

#include "emulator/pack.hpp"
#include "emulator/quantize.hpp"

namespace {

constexpr std::size_t kRows = 4096, kCols = 4096;

const mx::Tensor& input() {
  static const mx::Tensor t = [] {
    mx::Tensor x;
    x.shape = {kRows, kCols};
    x.f32.resize(kRows * kCols);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    for (auto& v : x.f32) v = nd(rng);
    return x;
  }();
  return t;
}

const char* kFormats[] = {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
                          "mxfp6_e2m3", "mxfp4_e2m1", "mxint8"};

int threads_for(const benchmark::State& st) {
  return st.range(1) == 0 ? 1 : static_cast<int>(std::thread::hardware_concurrency());
}

void BM_Memcpy(benchmark::State& st) {
  const mx::Tensor& x = input();
  std::vector<float> y(x.f32.size());
  for (auto _ : st) {
    std::memcpy(y.data(), x.f32.data(), x.f32.size() * 4);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * x.f32.size() * 4));
}
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FakeQuant(benchmark::State& st) {
  const mx::Tensor& x = input();
  mx::QuantizeOptions opt;
  opt.block.format = mx::parse_mx_format(kFormats[st.range(0)]);
  opt.threads = threads_for(st);
  mx::Tensor y;
  mx::quantize_tensor(opt, x, &y, nullptr, nullptr);  // allocate once
  for (auto _ : st) {
    mx::quantize_tensor(opt, x, &y, nullptr, nullptr);
    benchmark::DoNotOptimize(y.f32.data());
  }
  st.SetLabel(std::string(kFormats[st.range(0)]) + (opt.threads > 1 ? " threads" : " 1 thread"));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * x.f32.size() * 4));
}
BENCHMARK(BM_FakeQuant)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Packed(benchmark::State& st) {
  const mx::Tensor& x = input();
  mx::QuantizeOptions opt;
  opt.block.format = mx::parse_mx_format(kFormats[st.range(0)]);
  opt.threads = threads_for(st);
  std::vector<std::uint32_t> codes, scales;
  for (auto _ : st) {
    mx::quantize_tensor(opt, x, nullptr, &codes, &scales);
    auto packed = mx::pack_codes(codes, opt.block.format.elem.bits);
    auto sc = mx::pack_scales(scales, 1);
    benchmark::DoNotOptimize(packed.data());
    benchmark::DoNotOptimize(sc.data());
  }
  st.SetLabel(std::string(kFormats[st.range(0)]) + (opt.threads > 1 ? " threads" : " 1 thread"));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * x.f32.size() * 4));
}
BENCHMARK(BM_Packed)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
