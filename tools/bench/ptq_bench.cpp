// GPTQ speed against its floor, measured in the same run: the Hessian GEMM (X^T X), the
// Cholesky factorisation, the triangular inverse, and the lazy-batch trailing GEMMs
// (W[:, i2:] -= Err1 U[i1:i2, i2:]) of the same shapes. Layer R x K = N x N, T = N / 2
// calibration rows (the 4096 x 4096 with 2048 rows is N = 4096), MXINT4 blocks of 32.
//   ./build/tools/bench/ptq_bench --benchmark_filter='/1024'
// Also writes the synthetic LLM-like layer used by results/ptq_synthetic.md:
//   ./build/tools/bench/ptq_bench --write-synthetic DIR N T   (DIR/w.npy, DIR/x.npy; float32)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "algorithms/gptq.hpp"
#include "algorithms/matrix.hpp"
#include "emulator/io/tensor_io.hpp"

namespace {

using mx::algo::Index;
using mx::algo::Mat;

using mx::algo::gaussian;

// LLM-like activations: correlated channels, heavy-tailed token norms (Student-t like,
// nu = 3), and 0.5 % of the channels (every 200th, starting at 7) scaled by 50.
Mat synthetic_activations(Index t, Index k, std::uint64_t seed) {
  const Mat z = gaussian(t, k, seed, 1.0);
  const Mat mix = Mat::Identity(k, k) + gaussian(k, k, seed + 1, 0.6 / std::sqrt(double(k)));
  Mat x = z * mix;
  std::mt19937_64 rng(seed + 2);
  std::chi_squared_distribution<double> chi(3.0);
  for (Index i = 0; i < t; ++i) x.row(i) *= std::sqrt(3.0 / std::max(chi(rng), 0.05)) * 0.5 + 0.5;
  for (Index j = 7; j < k; j += 200) x.col(j) *= 50.0;
  return x;
}

Mat synthetic_weights(Index r, Index k, std::uint64_t seed) { return gaussian(r, k, seed, 0.02); }

struct Problem {
  Mat w, x, h;
};

const Problem& problem(Index n) {
  static std::map<Index, Problem> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    Problem p;
    p.x = synthetic_activations(n / 2, n, 1);
    p.w = synthetic_weights(n, n, 2);
    p.h = mx::algo::hessian(p.x);
    it = cache.emplace(n, std::move(p)).first;
  }
  return it->second;
}

const mx::algo::Quantizer& mxint4() {
  static const mx::algo::Quantizer q(
      mx::algo::parse_quant_spec("mxint4", 32, 0, mx::RoundSpec{}, mx::ScaleRule::kFloor));
  return q;
}

void BM_GptqTotal(benchmark::State& st) {  // Hessian + GPTQ (damping, factor, loop)
  const Problem& p = problem(st.range(0));
  mx::algo::GptqOptions o;
  for (auto _ : st) {
    const Mat h = mx::algo::hessian(p.x);
    benchmark::DoNotOptimize(mx::algo::gptq_quantize(p.w, h, mxint4(), o).q.data());
  }
}

void BM_FloorHessian(benchmark::State& st) {
  const Problem& p = problem(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(mx::algo::hessian(p.x).data());
}

void BM_FloorCholesky(benchmark::State& st) {
  const Problem& p = problem(st.range(0));
  Mat h = p.h;
  h.diagonal().array() += 0.01 * h.diagonal().mean();
  for (auto _ : st) {
    Eigen::LLT<Mat> llt(h);
    benchmark::DoNotOptimize(llt.matrixLLT().data());
  }
}

void BM_FloorTriInverse(benchmark::State& st) {
  const Problem& p = problem(st.range(0));
  Mat h = p.h;
  h.diagonal().array() += 0.01 * h.diagonal().mean();
  const Mat l = h.llt().matrixL();
  for (auto _ : st) benchmark::DoNotOptimize(mx::algo::invert_lower(l).data());
}

void BM_FloorLazyGemms(benchmark::State& st) {  // the trailing updates, B = 128
  const Problem& p = problem(st.range(0));
  const Index k = p.w.cols(), r = p.w.rows(), b = 128;
  const Mat u = gaussian(k, k, 3, 1e-3).triangularView<Eigen::Upper>();
  const Mat err = gaussian(r, b, 4, 1.0);
  for (auto _ : st) {
    Mat w = p.w;
    for (Index i1 = 0; i1 + b < k; i1 += b) {
      const Index i2 = i1 + b;
      w.rightCols(k - i2).noalias() -= err * u.block(i1, i2, b, k - i2);
    }
    benchmark::DoNotOptimize(w.data());
  }
}

#define PTQ_BENCH(fn) \
  BENCHMARK(fn)->Arg(1024)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond)->Iterations(1)
PTQ_BENCH(BM_FloorHessian);
PTQ_BENCH(BM_FloorCholesky);
PTQ_BENCH(BM_FloorTriInverse);
PTQ_BENCH(BM_FloorLazyGemms);
PTQ_BENCH(BM_GptqTotal);

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--write-synthetic") {
    if (argc != 5) {
      std::fprintf(stderr, "usage: ptq_bench --write-synthetic DIR N T\n");
      return 2;
    }
    const Index n = std::atol(argv[3]), t = std::atol(argv[4]);
    if (n < 1 || t < 1) {
      std::fprintf(stderr, "ptq_bench: N and T must be >= 1\n");
      return 2;
    }
    const std::string dir = argv[2];
    mx::write_npy(dir + "/w.npy", mx::algo::to_tensor(synthetic_weights(n, n, 2), mx::DType::kF32));
    mx::write_npy(dir + "/x.npy",
                  mx::algo::to_tensor(synthetic_activations(t, n, 1), mx::DType::kF32));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
