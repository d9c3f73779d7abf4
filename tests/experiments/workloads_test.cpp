// Workload generation: deterministic in (spec, seed) whatever the thread count, and with the
// intended distributions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "emulator/io/tensor_io.hpp"
#include "experiments/workloads.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

WorkloadSpec spec(WorkloadParams params) {
  WorkloadSpec w;
  w.name = std::string("w");
  w.params = std::move(params);
  return w;
}

// Each synthetic kind with its default parameters.
WorkloadSpec spec(WorkloadKind k, std::vector<std::size_t> shape) {
  switch (k) {
    case WorkloadKind::kNormal:
      return spec(NormalWorkload{.shape = std::move(shape)});
    case WorkloadKind::kLaplace:
      return spec(LaplaceWorkload{.shape = std::move(shape)});
    case WorkloadKind::kStudentT:
      return spec(StudentTWorkload{.shape = std::move(shape)});
    case WorkloadKind::kLlmActivations:
      return spec(LlmActivationsWorkload{.shape = std::move(shape)});
    default:
      return spec(WeightsWorkload{.shape = std::move(shape)});
  }
}

std::vector<std::size_t> shape_of(const WorkloadSpec& w) {
  return std::visit(Overloaded{[](const FileWorkload&) { return std::vector<std::size_t>(); },
                               [](const ModelWorkload&) { return std::vector<std::size_t>(); },
                               [](const auto& s) { return s.shape; }},
                    w.params);
}

struct Moments {
  double mean = 0, var = 0, mean_abs = 0;
};
Moments moments(const Tensor& t) {
  Moments m;
  const double n = static_cast<double>(t.size());
  for (float v : t.f32) m.mean += v, m.mean_abs += std::fabs(v);
  m.mean /= n;
  m.mean_abs /= n;
  for (float v : t.f32) m.var += (v - m.mean) * (v - m.mean);
  m.var /= n;
  return m;
}

TEST(SweepWorkloads, DeterministicAndThreadIndependent) {
  for (auto k : {WorkloadKind::kNormal, WorkloadKind::kLaplace, WorkloadKind::kStudentT,
                 WorkloadKind::kLlmActivations, WorkloadKind::kWeights}) {
    const WorkloadSpec w = spec(k, {64, 256});
    const Tensor a = make_workload(w, 7, 1), b = make_workload(w, 7, 3), c = make_workload(w, 8, 2);
    ASSERT_EQ(a.shape, shape_of(w));
    ASSERT_EQ(a.dtype, DType::kF32);
    EXPECT_EQ(std::memcmp(a.f32.data(), b.f32.data(), a.f32.size() * 4), 0)
        << workload_kind_name(k);
    EXPECT_NE(std::memcmp(a.f32.data(), c.f32.data(), a.f32.size() * 4), 0)
        << workload_kind_name(k);
  }
}

TEST(SweepWorkloads, Distributions) {
  const std::size_t n = 1 << 20;
  const WorkloadSpec nw = spec(NormalWorkload{.shape = {n}, .mean = 1.0, .stddev = 2.0});
  Moments m = moments(make_workload(nw, 1, 2));
  EXPECT_NEAR(m.mean, 1.0, 0.01);
  EXPECT_NEAR(m.var, 4.0, 0.03);
  const WorkloadSpec lw = spec(LaplaceWorkload{.shape = {n}, .scale = 0.5});
  m = moments(make_workload(lw, 1, 2));
  EXPECT_NEAR(m.mean, 0.0, 0.005);
  EXPECT_NEAR(m.mean_abs, 0.5, 0.005);  // E|X| = b
  EXPECT_NEAR(m.var, 0.5, 0.01);        // 2 b^2
  const WorkloadSpec tw = spec(StudentTWorkload{.shape = {n}, .dof = 6});
  m = moments(make_workload(tw, 1, 2));
  EXPECT_NEAR(m.mean, 0.0, 0.01);
  EXPECT_NEAR(m.var, 1.5, 0.05);  // dof / (dof - 2)
}

TEST(SweepWorkloads, LlmActivationsHaveOutlierChannels) {
  const WorkloadSpec w = spec(LlmActivationsWorkload{.shape = {512, 1000},
                                                     .outlier_channel_fraction = 0.01,  // 10
                                                     .outlier_scale_min = 50,
                                                     .outlier_scale_max = 60,
                                                     .heavy_token_fraction = 0});
  const Tensor t = make_workload(w, 3, 2);
  int outliers = 0;
  for (std::size_t c = 0; c < 1000; ++c) {
    double s2 = 0;
    for (std::size_t r = 0; r < 512; ++r)
      s2 += static_cast<double>(t.f32[r * 1000 + c]) * t.f32[r * 1000 + c];
    const double rms = std::sqrt(s2 / 512);
    if (rms > 20) {
      ++outliers;
      EXPECT_GT(rms, 40);
      EXPECT_LT(rms, 75);
    } else {
      EXPECT_LT(rms, 1.5);
    }
  }
  EXPECT_EQ(outliers, 10);
}

TEST(SweepWorkloads, FileWorkloadsAreReadAndChecked) {
  testing::TempDir dir("wl");
  Tensor t;
  t.shape = {2, 3};
  t.dtype = DType::kF64;
  t.f64 = {1, 2, 3, 4, 5, 6};
  write_npy(dir / "x.npy", t);
  WorkloadSpec w;
  w.name = std::string("f");
  w.params = FileWorkload{dir / "x.npy"};
  const Tensor r = make_workload(w, 0, 1);
  EXPECT_EQ(r.dtype, DType::kF64);
  EXPECT_EQ(r.f64, t.f64);
  w.axis = 2;
  EXPECT_THAT([&] { make_workload(w, 0, 1); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::StartsWith("workloads.f.axis: axis 2 is out of range")));
  w.axis = -1;
  w.params = FileWorkload{dir / "missing.npy"};
  EXPECT_THAT([&] { make_workload(w, 0, 1); }, ::testing::ThrowsMessage<std::runtime_error>(
                                                   ::testing::StartsWith("workloads.f.path: ")));
}

TEST(SweepWorkloads, UniformNeverHitsTheEnds) {
  for (std::uint64_t i = 0; i < 100000; ++i) {
    const double u = uniform01(12345, i);
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace mx::experiments
