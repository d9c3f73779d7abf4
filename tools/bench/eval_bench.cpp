// Model evaluation speed (issue 8) against its own GEMMs done by Eigen alone, in the same run
// (DESIGN.md: ratios to an in-run baseline):
//   EigenGemms      every matmul of the evaluation (q k v o gate up down lm_head, and per
//                   head Q K^T and the causal P V), same shapes and the same window-parallel
//                   scheme, on preallocated random operands: the floor for an fp32 forward pass
//   EvalFp32        mxlab eval's evaluate() in fp32
//   EvalMx/<fmt>    weights and activations in an MX format, plain fp32 accumulation
// Args: {threads}. Windows: MXLAB_BENCH_WINDOWS (default 128); model: MXLAB_BENCH_MODEL
// (default ../shared/models/bytellama-7m). The ratios are printed at the end.
//   ./build/tools/bench/eval_bench
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <Eigen/Core>

#include "experiments/model/eval.hpp"

namespace {

using mx::model::RowMatrixXf;

std::string model_dir() {
  const char* e = std::getenv("MXLAB_BENCH_MODEL");
  return e ? e : MX_SHARED_DIR "/models/bytellama-7m";
}
std::size_t windows() {
  const char* e = std::getenv("MXLAB_BENCH_WINDOWS");
  return e ? std::stoul(e) : 128;
}

struct Loaded {
  std::unique_ptr<mx::model::LlamaModel> model;
  std::vector<unsigned char> text;
};
Loaded& loaded() {
  static Loaded l = [] {
    Loaded x;
    x.model = std::make_unique<mx::model::LlamaModel>(mx::model::LlamaModel::load(model_dir()));
    x.text = mx::model::read_text(model_dir() + "/data/wiki_test.txt");
    return x;
  }();
  return l;
}

std::map<std::string, double> g_seconds;  // benchmark name -> seconds per run

void record(benchmark::State& st, const std::string& name, double s) {
  g_seconds[name + "/" + std::to_string(st.range(0))] = s;
  st.counters["windows"] = static_cast<double>(windows());
  st.counters["ms_per_window"] = 1e3 * s / static_cast<double>(windows());
}

void BM_EigenGemms(benchmark::State& st) {
  const auto& c = loaded().model->config();
  const int threads = static_cast<int>(st.range(0));
  const Eigen::Index t = 512, h = c.hidden_size, m = c.intermediate_size, hd = c.head_dim;
  const Eigen::Index q = Eigen::Index{c.num_attention_heads} * hd,
                     kv = Eigen::Index{c.num_key_value_heads} * hd;
  const RowMatrixXf wq = RowMatrixXf::Random(q, h), wk = RowMatrixXf::Random(kv, h),
                    wv = RowMatrixXf::Random(kv, h), wo = RowMatrixXf::Random(h, q),
                    wg = RowMatrixXf::Random(m, h), wu = RowMatrixXf::Random(m, h),
                    wd = RowMatrixXf::Random(h, m), wl = RowMatrixXf::Random(c.vocab_size, h);
  const std::size_t n = windows();
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      const RowMatrixXf x = RowMatrixXf::Random(t, h), a = RowMatrixXf::Random(t, m),
                        aq = RowMatrixXf::Random(t, q);
      RowMatrixXf yq(t, q), yk(t, kv), yv(t, kv), yo(t, h), yg(t, m), yu(t, m), yd(t, h),
          yl(t, c.vocab_size), s(t, t), att(t, q);
      while (next.fetch_add(1) < n) {
        for (int l = 0; l < c.num_hidden_layers; ++l) {
          yq.noalias() = x * wq.transpose();
          yk.noalias() = x * wk.transpose();
          yv.noalias() = x * wv.transpose();
          for (int hh = 0; hh < c.num_attention_heads; ++hh) {
            const Eigen::Index g = hh / (c.num_attention_heads / c.num_key_value_heads);
            s.noalias() = yq.middleCols(hh * hd, hd) * yk.middleCols(g * hd, hd).transpose();
            att.middleCols(hh * hd, hd).noalias() =
                s.triangularView<Eigen::Lower>() * yv.middleCols(g * hd, hd);
          }
          yo.noalias() = aq * wo.transpose();
          yg.noalias() = x * wg.transpose();
          yu.noalias() = x * wu.transpose();
          yd.noalias() = a * wd.transpose();
        }
        yl.noalias() = x * wl.transpose();
        benchmark::DoNotOptimize(yl.data());
        benchmark::DoNotOptimize(att.data());
      }
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    record(st, "EigenGemms",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

void run_eval(benchmark::State& st, const std::string& name, const std::string& fmt) {
  auto& l = loaded();
  l.model->set_format_all(mx::model::parse_linear_format(fmt, fmt, 32, "fp32"));
  mx::model::EvalOptions o;
  o.windows = windows();
  o.threads = static_cast<int>(st.range(0));
  o.collect_stats = false;  // the evaluation itself (statistics cost one extra window)
  for (auto _ : st) {
    const auto r = mx::model::evaluate(*l.model, l.text, o);
    st.counters["bpb"] = r.bits_per_byte;
    record(st, name, r.seconds);
  }
}

void BM_EvalFp32(benchmark::State& st) { run_eval(st, "EvalFp32", "none"); }
void BM_EvalMxint8(benchmark::State& st) { run_eval(st, "EvalMxint8", "mxint8"); }
void BM_EvalMxfp8E4m3(benchmark::State& st) { run_eval(st, "EvalMxfp8E4m3", "mxfp8_e4m3"); }

#define MX_EVAL_BENCH(fn) \
  BENCHMARK(fn)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond)
MX_EVAL_BENCH(BM_EigenGemms);
MX_EVAL_BENCH(BM_EvalFp32);
MX_EVAL_BENCH(BM_EvalMxint8);
MX_EVAL_BENCH(BM_EvalMxfp8E4m3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const char* th : {"1", "2"}) {
    const auto get = [&](const char* n) {
      const auto it = g_seconds.find(std::string(n) + "/" + th);
      return it == g_seconds.end() ? 0.0 : it->second;
    };
    const double eig = get("EigenGemms"), fp = get("EvalFp32");
    if (eig > 0 && fp > 0)
      std::printf("threads %s: EvalFp32 / EigenGemms = %.2f (goal <= 2)\n", th, fp / eig);
    for (const char* mxn : {"EvalMxint8", "EvalMxfp8E4m3"})
      if (fp > 0 && get(mxn) > 0)
        std::printf("threads %s: %s / EvalFp32 = %.2f (goal <= 2)\n", th, mxn, get(mxn) / fp);
  }
  return 0;
}
