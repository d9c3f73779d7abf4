// The pattern a kernel engineer copies: a GEMM kernel under test (here a hand-written, naive
// CPU loop standing in for a CUDA kernel) checked bit for bit against mxlab's reference,
// mx::gemm under the cuBLAS FP8 accumulator model of H100 (h100-cublas-fp8). It links
// mxlab::mxlab through find_package and nothing else of the mxlab tree.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <mxlab/mxlab.h>
#include <mxlab/emulator/accum_model.hpp>
#include <mxlab/emulator/gemm.hpp>
#include <mxlab/emulator/tensor.hpp>
#include <mxlab/formats/catalog.hpp>
#include <mxlab/formats/codec.hpp>
#include <mxlab/formats/mx_format.hpp>

namespace {

// The kernel under test: C = A * B of MXFP8 e4m3 operands (codes and E8M0 scales, blocks of
// 32 along K) the way H100's FP8 GEMM accumulates (results/GOLDEN_VECTORS.md, h100-wgmma):
// steps of 32 products; each step aligns its non-zero products and the running accumulator
// to the largest alignment exponent E, cuts them toward zero to multiples of 2^(E-13), sums
// exactly and truncates to 14 significant bits (fp32 exponent range); every 128 products the
// accumulator is added into an fp32 sum (round to nearest even). Finite, modest inputs only.
std::vector<float> naive_mx_gemm(const mx::MxMatrix& a, const mx::MxMatrix& b) {
  const std::size_t m = a.rows, n = b.rows, k = a.k;
  auto value = [](const mx::MxMatrix& x, std::size_t r, std::size_t i) {
    return mx::decode(x.elem, x.codes[r * x.k + i]);
  };
  auto scale = [](const mx::MxMatrix& x, std::size_t r, std::size_t i) {
    return int{x.scales[r * x.blocks_per_row() + i / 32]} - 127;
  };
  auto floor_log2 = [](double v) {
    int e = 0;
    std::frexp(v, &e);
    return e - 1;
  };
  std::vector<float> c(m * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      float sum = 0.0f;  // fp32, promoted into every 128 products
      double acc = 0.0;  // the 14-bit accumulator of the steps
      for (std::size_t k0 = 0; k0 < k; k0 += 32) {
        std::vector<double> terms;
        std::vector<int> aligns;
        if (acc != 0.0) {
          terms.push_back(acc);
          aligns.push_back(std::max(floor_log2(std::fabs(acc)), -126));
        }
        for (std::size_t t = k0; t < k0 + 32 && t < k; ++t) {
          const double x = value(a, i, t), y = value(b, j, t);
          const int s = scale(a, i, t) + scale(b, j, t);
          if (x == 0.0 || y == 0.0) continue;  // zeros take no part in the alignment
          terms.push_back(std::ldexp(x * y, s));
          aligns.push_back(std::max(floor_log2(std::fabs(x)), -6) +
                           std::max(floor_log2(std::fabs(y)), -6) + s);
        }
        double step = 0.0;
        if (!terms.empty()) {
          const int e = *std::max_element(aligns.begin(), aligns.end());
          for (double v : terms) step += std::ldexp(std::trunc(std::ldexp(v, 13 - e)), e - 13);
        }
        if (step != 0.0) {  // truncate to 14 significant bits
          const int q = std::max(floor_log2(std::fabs(step)), -126) - 13;
          step = std::ldexp(std::trunc(std::ldexp(step, -q)), q);
        }
        acc = step;
        if ((k0 + 32) % 128 == 0 || k0 + 32 >= k) {
          sum = sum + static_cast<float>(acc);
          acc = 0.0;
        }
      }
      c[i * n + j] = sum + 0.0f;  // no addend: D = round(P + 0)
    }
  return c;
}

mx::Tensor random_matrix(std::size_t rows, std::size_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> val(0.0f, 1.0f);
  std::uniform_int_distribution<int> binade(-6, 6);
  mx::Tensor t;
  t.shape = {rows, cols};
  for (std::size_t i = 0; i < rows * cols; ++i) t.f32.push_back(std::ldexp(val(rng), binade(rng)));
  return t;
}

TEST(NaiveMxGemm, EqualsMxlabUnderH100CublasFp8BitForBit) {
  const std::size_t m = 8, n = 6, k = 384;  // three promotion intervals of 128
  mx::BlockSpec spec;
  spec.format = mx::parse_mx_format("mxfp8_e4m3");
  const mx::MxMatrix a = mx::quantize_operand(random_matrix(m, k, 1), 1, spec, 1, "A");
  const mx::MxMatrix b = mx::quantize_operand(random_matrix(k, n, 2), 0, spec, 1, "B");
  mx::GemmOptions opt;
  opt.model = mx::parse_accum_model("h100-cublas-fp8");
  const std::vector<std::uint32_t> want = mx::gemm(a, b, {}, opt);
  const std::vector<float> got = naive_mx_gemm(a, b);
  std::size_t exact = 0;
  for (std::size_t i = 0; i < m * n; ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i]), want[i])
        << "C[" << i / n << "][" << i % n << "]: kernel " << got[i] << ", mxlab "
        << mx::decode(opt.model.out, want[i]);
    exact += std::bit_cast<std::uint32_t>(got[i]) == want[i];
  }
  // The same kernel against another model fails: the check is sharp.
  opt.model = mx::parse_accum_model("exact");
  const std::vector<std::uint32_t> exact_sum = mx::gemm(a, b, {}, opt);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < m * n; ++i)
    differ += std::bit_cast<std::uint32_t>(got[i]) != exact_sum[i];
  EXPECT_GT(differ, 0u);
  std::printf(
      "naive kernel: %zu of %zu outputs equal mxlab h100-cublas-fp8; %zu differ from "
      "the exact sum (mxlab %s)\n",
      exact, m * n, differ, mxlab_version());
}

}  // namespace
