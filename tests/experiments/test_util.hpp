// Helpers shared by the experiments tests: scratch folders and hand-made records.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/record.hpp"
#include "experiments/sweep.hpp"

namespace mx::experiments::testing {

// A fresh folder under $TMPDIR (or /tmp), removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mxlab-" + tag + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A record with the parameters of `p` filled in the way the runner does, and one metric set.
inline PointRecord make_record(const Point& p, double sqnr_db) {
  PointRecord r;
  const MxFormat f = p.mx_format();
  set_fixed(r.row.point_id, p.id());
  set_fixed(r.row.workload, p.workload);
  r.row.seed = p.seed;
  set_fixed(r.row.format, p.format);
  set_fixed(r.row.elem, f.elem.name_view());
  r.row.bits = f.elem.bits;
  r.row.block_size = p.block_size;
  set_fixed(r.row.scale, "e8m0");
  set_fixed(r.row.scale_rule, scale_rule_name(p.scale_rule));
  set_fixed(r.row.rounding, rounding_name(p.rounding));
  r.row.rounding_seed = p.rounding_seed();
  r.row.n = 64;
  r.row.sqnr_db = sqnr_db;
  r.row.mse = 1.0 / (1 + sqnr_db);
  set_fixed(r.row.host, "testhost");
  r.row.pid = 1;
  return r;
}

}  // namespace mx::experiments::testing
