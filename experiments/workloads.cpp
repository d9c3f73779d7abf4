#include "experiments/workloads.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "emulator/io/tensor_io.hpp"
#include "emulator/quantize.hpp"
#include "formats/rounding.hpp"

namespace mx::experiments {

double uniform01(std::uint64_t key, std::uint64_t i) {
  const std::uint64_t u = mix64(key ^ mix64(i + 0x9E3779B97F4A7C15ull));
  return (static_cast<double>(u >> 11) + 0.5) * 0x1p-53;
}

double normal_draw(std::uint64_t key, std::uint64_t i) {
  const double u1 = uniform01(key, 2 * i);
  const double u2 = uniform01(key, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double student_t_draw(std::uint64_t key, std::uint64_t i, double dof) {
  // Bailey (1994): (U, V) uniform in the unit disc, W = U^2 + V^2; then
  // U * sqrt(dof (W^(-2/dof) - 1) / W) is t-distributed with dof degrees of freedom.
  // Acceptance is pi/4 per try; 32 tries fail with probability ~1e-21.
  for (std::uint64_t k = 0; k < 32; ++k) {
    const double u = 2.0 * uniform01(key, 64 * i + 2 * k) - 1.0;
    const double v = 2.0 * uniform01(key, 64 * i + 2 * k + 1) - 1.0;
    const double w = u * u + v * v;
    if (w < 1.0 && w > 0.0) return u * std::sqrt(dof * (std::pow(w, -2.0 / dof) - 1.0) / w);
  }
  return 0.0;
}

double laplace_draw(std::uint64_t key, std::uint64_t i) {
  const double u = uniform01(key, i) - 0.5;  // in (-1/2, 1/2)
  return u < 0 ? std::log1p(2.0 * u) : -std::log1p(-2.0 * u);
}

namespace {

std::uint64_t stream(std::uint64_t seed, std::uint64_t tag) { return mix64(seed ^ mix64(tag)); }

enum : std::uint64_t { kValues = 1, kChannels, kChannelScale, kTokens, kRows };

template <typename Fn>
Tensor fill(const std::vector<std::size_t>& shape, int threads, Fn fn) {
  Tensor t;
  t.shape = shape;
  t.dtype = DType::kF32;
  t.f32.resize(t.size());
  float* out = t.f32.data();
  parallel_for(t.size(), threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out[i] = static_cast<float>(fn(i));
  });
  return t;
}

Tensor llm_activations(const LlmActivationsWorkload& w, std::uint64_t seed, int threads) {
  const std::size_t tokens = w.shape[0], channels = w.shape[1];
  const std::uint64_t kv = stream(seed, kValues);
  // Exactly round(fraction * channels) outlier channels, chosen by hash order.
  std::vector<std::size_t> order(channels);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::uint64_t kc = stream(seed, kChannels);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return mix64(kc ^ a) < mix64(kc ^ b) || (mix64(kc ^ a) == mix64(kc ^ b) && a < b);
  });
  const auto n_out = static_cast<std::size_t>(
      std::llround(w.outlier_channel_fraction * static_cast<double>(channels)));
  std::vector<double> ch_scale(channels, 1.0);
  const std::uint64_t ks = stream(seed, kChannelScale);
  for (std::size_t k = 0; k < n_out && k < channels; ++k)
    ch_scale[order[k]] =
        w.outlier_scale_min + (w.outlier_scale_max - w.outlier_scale_min) * uniform01(ks, order[k]);
  std::vector<char> heavy(tokens);
  const std::uint64_t kt = stream(seed, kTokens);
  for (std::size_t t = 0; t < tokens; ++t) heavy[t] = uniform01(kt, t) < w.heavy_token_fraction;
  return fill(w.shape, threads, [&](std::size_t i) {
    const std::size_t t = i / channels, c = i % channels;
    const double v = heavy[t] ? student_t_draw(kv, i, w.dof) : normal_draw(kv, i);
    return v * ch_scale[c];
  });
}

Tensor weights(const WeightsWorkload& w, std::uint64_t seed, int threads) {
  const std::size_t rows = w.shape[0], cols = w.shape[1];
  const std::uint64_t kv = stream(seed, kValues), kr = stream(seed, kRows);
  std::vector<double> row_scale(rows);
  for (std::size_t r = 0; r < rows; ++r)
    row_scale[r] = w.stddev * std::exp(w.row_scale_sigma * normal_draw(kr, r));
  return fill(w.shape, threads,
              [&](std::size_t i) { return row_scale[i / cols] * normal_draw(kv, i); });
}

Tensor file_workload(const WorkloadSpec& w, const FileWorkload& f) {
  Tensor t;
  try {
    t = read_tensor(f.path);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("workloads.{}.path: {}", w.name, e.what()));
  }
  const int rank = static_cast<int>(t.shape.size());
  if (rank == 0 || w.axis < -rank || w.axis >= rank)
    throw std::runtime_error(
        fmt::format("workloads.{}.axis: axis {} is out of range for {} (rank {})", w.name, w.axis,
                    f.path, rank));
  if (t.size() == 0)
    throw std::runtime_error(fmt::format("workloads.{}.path: {} is empty", w.name, f.path));
  return t;
}

}  // namespace

Tensor make_workload(const WorkloadSpec& w, std::uint64_t seed, int threads) {
  const std::uint64_t kv = stream(seed, kValues);
  return std::visit(
      Overloaded{
          [&](const NormalWorkload& n) {
            return fill(n.shape, threads,
                        [&](std::size_t i) { return n.mean + n.stddev * normal_draw(kv, i); });
          },
          [&](const LaplaceWorkload& l) {
            return fill(l.shape, threads,
                        [&](std::size_t i) { return l.loc + l.scale * laplace_draw(kv, i); });
          },
          [&](const StudentTWorkload& t) {
            return fill(t.shape, threads,
                        [&](std::size_t i) { return t.scale * student_t_draw(kv, i, t.dof); });
          },
          [&](const LlmActivationsWorkload& l) { return llm_activations(l, seed, threads); },
          [&](const WeightsWorkload& ww) { return weights(ww, seed, threads); },
          [&](const FileWorkload& f) { return file_workload(w, f); },
          [](const ModelWorkload&) -> Tensor {
            throw std::logic_error("a model workload has no tensor (run_model_point evaluates it)");
          },
      },
      w.params);
}

}  // namespace mx::experiments
