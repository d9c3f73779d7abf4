#include "experiments/runner.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "emulator/quantize.hpp"
#include "emulator/thread_group.hpp"
#include "experiments/h5_results.hpp"
#include "experiments/model_point.hpp"
#include "experiments/mpi_world.hpp"
#include "experiments/output_lock.hpp"
#include "experiments/progress.hpp"
#include "experiments/stats.hpp"
#include "experiments/workloads.hpp"
#include "formats/message.hpp"

namespace mx::experiments {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Loaded {
  SweepConfig config;
  std::string output;
};

Loaded load(const SweepOptions& opt) {
  Loaded l;
  l.config = opt.config_path.empty() ? default_config() : load_config_file(opt.config_path);
  l.output = opt.output.empty() ? "results/" + l.config.name + ".h5" : opt.output;
  return l;
}

// A workload's data is shared by every point on it: synthetic data depends on (workload,
// seed), a file's data on the workload only.
std::string data_key(const WorkloadSpec& w, std::int64_t seed) {
  return w.kind() == WorkloadKind::kFile ? w.name : fmt::format("{}#{}", w.name, seed);
}

// Tensor workloads by data_key; model workloads (the checkpoint and text) by name.
struct DataCache {
  std::map<std::string, std::shared_ptr<const Tensor>> tensors;
  std::map<std::string, std::shared_ptr<const ModelData>> models;
};

void load_data(const SweepConfig& c, const Point& p, int threads, DataCache& cache) {
  const WorkloadSpec& w = c.workload_specs.at(p.workload);
  if (w.is_model()) {
    if (!cache.models.count(w.name)) cache.models[w.name] = load_model_data(w);
    return;
  }
  const std::string key = data_key(w, p.seed);
  if (cache.tensors.count(key)) return;
  cache.tensors[key] =
      std::make_shared<const Tensor>(make_workload(w, data_seed(w.name, p.seed), threads));
}

// Finished records handed from the worker threads to the main thread.
struct Outbox {
  std::mutex m;
  std::condition_variable cv;
  std::vector<PointRecord> ready;
  std::exception_ptr error;
};

// The worker pool; stops and joins on destruction, so an exception in the main thread never
// leaves running threads behind.
class Pool {
 public:
  Pool(const SweepConfig& c, const std::vector<Point>& points, const std::vector<std::size_t>& mine,
       const DataCache& cache, int threads, Outbox& box)
      : mine_(mine) {
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(threads), mine.size());
    try {
      for (std::size_t t = 0; t < n; ++t)
        threads_.spawn([&, this] {
          Tensor q;
          std::vector<std::uint32_t> codes;
          try {
            for (;;) {
              const std::size_t k = next_++;
              if (k >= mine_.size()) break;
              const Point& p = points[mine_[k]];
              const WorkloadSpec& w = c.workload_specs.at(p.workload);
              PointRecord r =
                  w.is_model() ? run_model_point(p, w, *cache.models.at(w.name))
                               : run_point(p, w, *cache.tensors.at(data_key(w, p.seed)), q, codes);
              std::lock_guard lk(box.m);
              box.ready.push_back(r);
              box.cv.notify_one();
            }
          } catch (...) {
            std::lock_guard lk(box.m);
            if (!box.error) box.error = std::current_exception();
            next_ = mine_.size();
            box.cv.notify_one();
          }
        });
    } catch (...) {
      next_ = mine_.size();  // the started workers stop; threads_ joins them
      throw;
    }
  }
  ~Pool() {
    next_ = mine_.size();
    threads_.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

 private:
  const std::vector<std::size_t>& mine_;
  std::atomic<std::size_t> next_{0};
  ThreadGroup threads_;
};

// Waits (briefly) for finished records; rethrows a worker's exception.
std::vector<PointRecord> take(Outbox& box) {
  std::vector<PointRecord> out;
  std::unique_lock lk(box.m);
  box.cv.wait_for(lk, std::chrono::milliseconds(20),
                  [&] { return !box.ready.empty() || box.error; });
  if (box.error) std::rethrow_exception(box.error);
  out.swap(box.ready);
  return out;
}

}  // namespace

PointRecord run_point(const Point& p, const WorkloadSpec& w, const Tensor& x, Tensor& q,
                      std::vector<std::uint32_t>& codes) {
  static const std::string host = host_name();
  const auto t0 = Clock::now();
  const MxFormat f = p.mx_format();
  QuantizeOptions o;
  o.block.format = f;
  o.block.round = RoundSpec{p.rounding, Overflow::kSaturate, p.rounding_seed()};
  o.axis = w.axis;
  o.threads = 1;  // points run in parallel; one point's result never depends on threads
  quantize_tensor(o, x, &q, &codes, nullptr);
  const std::size_t n = x.size();
  const std::size_t row_len = x.shape.empty() ? 1 : x.shape.back();
  const Stats st =
      x.dtype == DType::kF32
          ? compute_stats(x.f32.data(), q.f32.data(), codes.data(), n, row_len, f.elem)
          : compute_stats(x.f64.data(), q.f64.data(), codes.data(), n, row_len, f.elem);
  PointRecord r;
  PointRow& row = r.row;
  set_fixed(row.point_id, p.id());
  set_fixed(row.workload, p.workload);
  row.seed = p.seed;
  set_fixed(row.format, p.format);
  set_fixed(row.elem, f.elem.name_view());
  row.bits = f.elem.bits;
  row.block_size = p.block_size;
  set_fixed(row.scale, scale_format_name(f.scale));
  set_fixed(row.scale_rule, scale_rule_name(p.scale_rule));
  set_fixed(row.rounding, rounding_name(p.rounding));
  row.rounding_seed = p.rounding_seed();
  row.n = n;
  row.mse = st.mse;
  row.sqnr_db = st.sqnr_db;
  row.max_abs_err = st.max_abs_err;
  row.max_rel_err = st.max_rel_err;
  row.cosine = st.cosine;
  row.kl_softmax = st.kl_softmax;
  row.saturation_pct = st.saturation_pct;
  row.underflow_pct = st.underflow_pct;
  row.kernel_pct = st.kernel_pct;
  row.nonfinite_pct = st.nonfinite_pct;
  r.hist = st.hist;
  row.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  set_fixed(row.host, host);
  row.pid = static_cast<std::int64_t>(::getpid());
  return r;
}

SweepSummary run_sweep(const SweepOptions& opt) {
  MpiWorld world;
  const bool root = world.rank() == 0;
  const auto t0 = Clock::now();
  SweepSummary sum;
  sum.is_root = root;
  sum.ranks = world.size();
  const int threads =
      opt.threads > 0
          ? opt.threads
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world.local_size());

  // Phase A (rank 0): config, output file, the points still to run. Errors here are
  // ordinary errors: rank 0 reports them and the other ranks exit quietly.
  Loaded l;
  std::vector<Point> points;
  std::vector<std::uint64_t> remaining;  // indices into points
  DataCache cache;
  bool file_complete = false;
  std::string canonical;
  OutputLock lock;  // held until the run ends: one writer per result file
  if (root) {
    try {
      l = load(opt);
      lock = OutputLock(l.output);
      if (opt.output.empty()) {  // the default output folder is created on demand
        std::error_code ec;
        fs::create_directories("results", ec);
        if (ec)
          throw std::runtime_error(
              fmt::format("cannot create the folder results/ ({})", ec.message()));
      }
      points = expand(l.config);
      std::set<std::string> ids;
      for (const Point& p : points)
        if (!ids.insert(p.id()).second)  // 64-bit hashes: never seen, but never silently
          throw std::runtime_error("two sweep points hash to the same id " + p.id());
      std::set<std::string> done;
      bool fresh = true;
      if (!opt.resume && !opt.overwrite && fs::exists(l.output))
        throw std::runtime_error(fmt::format(
            "--output {} already exists: pass --resume to continue it or --overwrite to "
            "replace it",
            l.output));
      if (opt.resume && fs::exists(l.output)) {
        ResultFile rf;
        try {
          rf = read_results(l.output);
        } catch (const std::exception& e) {
          throw std::runtime_error(fmt::format("--resume: {}", e.what()));
        }
        const auto it = rf.attrs.find("config_canonical");
        if (it == rf.attrs.end() || it->second != canonical_text(l.config))
          throw std::runtime_error(fmt::format(
              "--resume: {} was written by a different sweep config; run without --resume to "
              "replace it, or choose another --output",
              l.output));
        for (const auto& r : rf.records) done.insert(get_fixed(r.row.point_id));  // unique:
        // read_results refuses a file holding a point twice
        const auto rev = rf.attrs.find("git_revision");
        if (rev != rf.attrs.end() && rev->second != opt.git_revision && done.size() < points.size())
          std::fprintf(stderr,
                       "mxlab sweep: warning: %s was started by git revision %s; this is %s "
                       "(the points it adds come from this revision)\n",
                       l.output.c_str(), escape_text(rev->second, 80).c_str(),
                       opt.git_revision.c_str());
        file_complete = rf.complete != 0;
        fresh = false;
      }
      // File and model workloads are read now, so a bad file fails before anything is written.
      for (const Point& p : points) {
        const WorkloadKind k = l.config.workload_specs.at(p.workload).kind();
        if (k == WorkloadKind::kFile || k == WorkloadKind::kModel)
          load_data(l.config, p, threads, cache);
      }
      if (fresh)
        create_result_file(l.output, l.config,
                           RunInfo{opt.mxlab_version, opt.git_revision, host_name(), now_utc()},
                           points.size());
      remove_stale_temps(l.output);
      for (std::size_t i = 0; i < points.size(); ++i)
        if (!done.count(points[i].id())) remaining.push_back(i);
      canonical = canonical_text(l.config);
    } catch (...) {
      std::int64_t status = 1;
      world.bcast(status);
      throw;
    }
  }
  std::int64_t status = 0;
  world.bcast(status);
  if (status != 0) throw PeerFailed("rank 0 failed before the sweep started");
  world.bcast(canonical);
  world.bcast(l.output);
  world.bcast(remaining);
  if (!root) {
    try {
      Loaded mine = load(opt);
      if (canonical_text(mine.config) != canonical)
        throw std::runtime_error("the config differs from rank 0's");
      l.config = std::move(mine.config);
      points = expand(l.config);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mxlab: error: rank %d: %s\n", world.rank(),
                   sanitize_message(e.what()).c_str());
      world.abort(1);
    }
  }
  sum.config = l.config;
  sum.output = l.output;
  sum.total = points.size();
  sum.already = points.size() - remaining.size();

  // Phase B/C: this rank's share (round-robin over the remaining points), its data, the pool.
  // From here on an error on any rank aborts all of them; the file stays valid.
  try {
    std::vector<std::size_t> mine;
    for (std::size_t k = static_cast<std::size_t>(world.rank()); k < remaining.size();
         k += static_cast<std::size_t>(world.size()))
      mine.push_back(static_cast<std::size_t>(remaining[k]));
    for (std::size_t i : mine) load_data(l.config, points[i], threads, cache);

    Outbox box;
    Pool pool(l.config, points, mine, cache, threads, box);
    if (root) {
      Progress progress(points.size(), sum.already, opt.progress || Progress::stderr_is_terminal());
      std::vector<PointRecord> pending;
      std::size_t received = 0;
      std::set<std::string> expected;  // every remaining point arrives exactly once
      for (const auto i : remaining) expected.insert(points[i].id());
      auto last_commit = Clock::now();
      while (received < remaining.size()) {
        std::vector<PointRecord> batch = take(box);
        world.poll_records(&batch);
        for (const PointRecord& r : batch) {
          if (expected.erase(get_fixed(r.row.point_id)) != 1)
            throw std::logic_error("unexpected or repeated point " + get_fixed(r.row.point_id));
          sum.compute_seconds += r.row.elapsed_s;
        }
        received += batch.size();
        pending.insert(pending.end(), batch.begin(), batch.end());
        const bool last = received == remaining.size();
        const auto now = Clock::now();
        if (!pending.empty() && (last || std::chrono::duration<double>(now - last_commit).count() >=
                                             opt.commit_interval_s)) {
          const auto w0 = Clock::now();
          append_points(l.output, pending, last);
          sum.write_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
          pending.clear();
          last_commit = now;
        }
        progress.update(sum.already + received);
      }
      if (remaining.empty() && !file_complete) append_points(l.output, {}, true);
      progress.finish(sum.already + received);
      sum.computed = received;
    } else {
      std::size_t sent = 0;
      while (sent < mine.size()) {
        for (const PointRecord& r : take(box)) {
          world.send_record(r);
          ++sent;
        }
      }
      sum.computed = sent;
    }
  } catch (const std::exception& e) {
    if (world.size() > 1) {
      std::fprintf(stderr, "mxlab: error: rank %d: %s\n", world.rank(),
                   sanitize_message(e.what()).c_str());
      world.abort(1);
    }
    throw;
  }
  sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return sum;
}

}  // namespace mx::experiments
