#include "experiments/config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "algorithms/ptq.hpp"
#include "emulator/accum_model.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/record.hpp"
#include "formats/catalog.hpp"

namespace mx::experiments {

std::string_view workload_kind_name(WorkloadKind k) {
  switch (k) {
    case WorkloadKind::kNormal:
      return "normal";
    case WorkloadKind::kLaplace:
      return "laplace";
    case WorkloadKind::kStudentT:
      return "student_t";
    case WorkloadKind::kLlmActivations:
      return "llm_activations";
    case WorkloadKind::kWeights:
      return "weights";
    case WorkloadKind::kFile:
      return "file";
    case WorkloadKind::kModel:
      return "model";
  }
  return "?";
}

namespace {

constexpr std::size_t kMaxElements = std::size_t{1} << 28;  // 1 GiB of fp32 per workload
constexpr int kMaxBlockSize = 1 << 20;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// TOML key path as it would be written: bare keys plain, others quoted.
std::string key_path(const std::string& parent, std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), is_name_char);
  std::string k = bare ? std::string(key) : fmt::format("\"{}\"", key);
  return parent.empty() ? k : parent + "." + k;
}
std::string index_path(const std::string& parent, std::size_t i) {
  return fmt::format("{}[{}]", parent, i);
}

std::string describe(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return fmt::format("\"{}\"", n.value<std::string>().value_or(""));
    case toml::node_type::integer:
      return fmt::format("{}", n.value<std::int64_t>().value_or(0));
    case toml::node_type::floating_point:
      return fmt::format("{}", n.value<double>().value_or(0));
    case toml::node_type::boolean:
      return n.value<bool>().value_or(false) ? "true" : "false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class Parser {
 public:
  Parser(std::string origin, std::string base_dir)
      : origin_(std::move(origin)), base_dir_(std::move(base_dir)) {}

  SweepConfig parse(const toml::table& root, const std::string& default_name);

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const {
    throw ConfigError(fmt::format("{}: {}: {}", origin_, path, msg));
  }

  // Every key of `t` must be in `allowed`; reserved (future) keys get their own message.
  void check_keys(const toml::table& t, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : t) {
      (void)v;
      const std::string_view key = k.str();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      if (path.empty() && key == "algorithms")
        fail(key_path(path, key),
             "per-algorithm option tables are reserved for a later mxlab version; list the "
             "algorithms in sweep.algorithms (remove the table)");
      if (path.empty() && key == "accum_models")
        fail(key_path(path, key),
             "custom accumulation-model tables are reserved for a later mxlab version; list "
             "presets or model strings in sweep.accum_models (remove the table)");
      std::vector<std::string> names;
      for (auto a : allowed) names.emplace_back(a);
      fail(key_path(path, key), fmt::format("unknown key (expected one of: {})", join(names)));
    }
  }

  const toml::table& as_table(const toml::node& n, const std::string& path) const {
    if (!n.is_table()) fail(path, fmt::format("expected a table (got {})", describe(n)));
    return *n.as_table();
  }
  const toml::array& as_array(const toml::node& n, const std::string& path, bool nonempty) const {
    if (!n.is_array()) fail(path, fmt::format("expected an array (got {})", describe(n)));
    const toml::array& a = *n.as_array();
    if (nonempty && a.empty()) fail(path, "must not be empty");
    return a;
  }
  std::string as_string(const toml::node& n, const std::string& path) const {
    if (!n.is_string()) fail(path, fmt::format("expected a string (got {})", describe(n)));
    return *n.value<std::string>();
  }
  std::int64_t as_int(const toml::node& n, const std::string& path) const {
    if (!n.is_integer()) fail(path, fmt::format("expected an integer (got {})", describe(n)));
    return *n.value<std::int64_t>();
  }
  double as_number(const toml::node& n, const std::string& path) const {
    if (n.is_integer()) return static_cast<double>(*n.value<std::int64_t>());
    if (!n.is_floating_point()) fail(path, fmt::format("expected a number (got {})", describe(n)));
    const double v = *n.value<double>();
    if (!std::isfinite(v)) fail(path, fmt::format("must be finite (got {})", v));
    return v;
  }
  std::string as_name(const toml::node& n, const std::string& path, std::size_t max_len) const {
    const std::string s = as_string(n, path);
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](char c) { return is_name_char(c) || c == '.'; }))
      fail(path, fmt::format("'{}' is not a valid name (letters, digits, '_', '-', '.')", s));
    if (s.size() > max_len)
      fail(path, fmt::format("'{}' is longer than {} characters", s, max_len));
    return s;
  }

  // A list-valued axis: each element parsed by `item`, duplicates rejected.
  template <typename T, typename Item>
  std::vector<T> axis(const toml::table& t, const std::string& parent, std::string_view key,
                      std::vector<T> dflt, Item item) const {
    const toml::node* n = t.get(key);
    if (!n) return dflt;
    const std::string path = key_path(parent, key);
    const toml::array& a = as_array(*n, path, true);
    std::vector<T> out;
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ip = index_path(path, i);
      const auto [value, ident] = item(a[i], ip);
      const auto it = std::find(seen.begin(), seen.end(), ident);
      if (it != seen.end())
        fail(ip, fmt::format("duplicate of {}[{}] ({})", path, it - seen.begin(), describe(a[i])));
      seen.push_back(ident);
      out.push_back(value);
    }
    return out;
  }

  double number_in(const toml::table& t, const std::string& parent, std::string_view key,
                   double dflt, double lo, double hi, bool lo_open) const {
    const toml::node* n = t.get(key);
    if (!n) return dflt;
    const std::string path = key_path(parent, key);
    const double v = as_number(*n, path);
    if (lo_open ? !(v > lo) : !(v >= lo))
      fail(path, fmt::format("must be {} {} (got {})", lo_open ? ">" : ">=", lo, v));
    if (v > hi) fail(path, fmt::format("must be <= {} (got {})", hi, v));
    return v;
  }

  WorkloadSpec workload(const toml::table& t, const std::string& path,
                        const std::string& name) const;
  ModelWorkload model_workload(const toml::table& t, const std::string& path) const;
  std::string existing_path(const toml::table& t, const std::string& path, std::string_view key,
                            bool directory) const;
  ReportSpec report(const toml::table& t, const std::string& path) const;
  void model_axes(const toml::table& s, SweepConfig& c) const;

  std::string origin_, base_dir_;
};

WorkloadSpec Parser::workload(const toml::table& t, const std::string& path,
                              const std::string& name) const {
  WorkloadSpec w;
  w.name = name;
  const toml::node* kind = t.get("kind");
  if (!kind)
    fail(key_path(path, "kind"),
         "missing (normal, laplace, student_t, llm_activations, weights, file, model)");
  const std::string k = as_string(*kind, key_path(path, "kind"));
  constexpr double kInf = 1e300;
  // The synthetic kinds' shape: rank 1..8, at most kMaxElements; rank 2 where `rank2` names
  // the axes.
  auto shape = [&](const char* rank2) {
    std::vector<std::size_t> out;
    const std::string sp = key_path(path, "shape");
    const toml::node* sn = t.get("shape");
    if (!sn) fail(sp, "missing (e.g. shape = [256, 4096])");
    const toml::array& a = as_array(*sn, sp, true);
    if (a.size() > 8) fail(sp, fmt::format("rank must be <= 8 (got {})", a.size()));
    std::size_t total = 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::int64_t d = as_int(a[i], index_path(sp, i));
      if (d < 1) fail(index_path(sp, i), fmt::format("dimension must be >= 1 (got {})", d));
      if (static_cast<std::uint64_t>(d) > kMaxElements ||
          total * static_cast<std::size_t>(d) > kMaxElements)
        fail(sp, fmt::format("more than {} elements", kMaxElements));
      total *= static_cast<std::size_t>(d);
      out.push_back(static_cast<std::size_t>(d));
    }
    if (rank2 && a.size() != 2)
      fail(sp, fmt::format("{} needs a rank-2 shape ({}) (got rank {})", k, rank2, a.size()));
    return out;
  };
  int rank = -1;
  if (k == "normal") {
    check_keys(t, path, {"kind", "shape", "axis", "mean", "std"});
    NormalWorkload n;
    n.mean = number_in(t, path, "mean", 0.0, -kInf, kInf, false);
    n.stddev = number_in(t, path, "std", 1.0, 0.0, kInf, true);
    n.shape = shape(nullptr);
    rank = static_cast<int>(n.shape.size());
    w.params = std::move(n);
  } else if (k == "laplace") {
    check_keys(t, path, {"kind", "shape", "axis", "loc", "scale"});
    LaplaceWorkload l;
    l.loc = number_in(t, path, "loc", 0.0, -kInf, kInf, false);
    l.scale = number_in(t, path, "scale", 1.0, 0.0, kInf, true);
    l.shape = shape(nullptr);
    rank = static_cast<int>(l.shape.size());
    w.params = std::move(l);
  } else if (k == "student_t") {
    check_keys(t, path, {"kind", "shape", "axis", "dof", "scale"});
    StudentTWorkload st;
    st.scale = number_in(t, path, "scale", 1.0, 0.0, kInf, true);
    st.dof = number_in(t, path, "dof", 3.0, 0.0, kInf, true);
    st.shape = shape(nullptr);
    rank = static_cast<int>(st.shape.size());
    w.params = std::move(st);
  } else if (k == "llm_activations") {
    check_keys(t, path,
               {"kind", "shape", "axis", "outlier_channel_fraction", "outlier_scale",
                "heavy_token_fraction", "dof"});
    LlmActivationsWorkload l;
    l.dof = number_in(t, path, "dof", 3.0, 0.0, kInf, true);
    l.outlier_channel_fraction =
        number_in(t, path, "outlier_channel_fraction", 0.005, 0.0, 1.0, false);
    l.heavy_token_fraction = number_in(t, path, "heavy_token_fraction", 0.05, 0.0, 1.0, false);
    if (const toml::node* n = t.get("outlier_scale")) {
      const std::string p = key_path(path, "outlier_scale");
      const toml::array& a = as_array(*n, p, true);
      if (a.size() != 2) fail(p, fmt::format("expected [min, max] (got {} values)", a.size()));
      l.outlier_scale_min = as_number(a[0], index_path(p, 0));
      l.outlier_scale_max = as_number(a[1], index_path(p, 1));
      if (!(l.outlier_scale_min > 0))
        fail(index_path(p, 0), fmt::format("must be > 0 (got {})", l.outlier_scale_min));
      if (l.outlier_scale_max < l.outlier_scale_min)
        fail(index_path(p, 1), fmt::format("must be >= the minimum {} (got {})",
                                           l.outlier_scale_min, l.outlier_scale_max));
    }
    l.shape = shape("[tokens, channels]");
    rank = 2;
    w.params = std::move(l);
  } else if (k == "weights") {
    check_keys(t, path, {"kind", "shape", "axis", "std", "row_scale_sigma"});
    WeightsWorkload ww;
    ww.stddev = number_in(t, path, "std", 0.02, 0.0, kInf, true);
    ww.row_scale_sigma = number_in(t, path, "row_scale_sigma", 0.25, 0.0, 10.0, false);
    ww.shape = shape("[out, in]");
    rank = 2;
    w.params = std::move(ww);
  } else if (k == "file") {
    check_keys(t, path, {"kind", "path", "axis"});
    const toml::node* p = t.get("path");
    const std::string pp = key_path(path, "path");
    if (!p) fail(pp, "missing (a .npy file or file.h5:/dataset)");
    const std::string spec = as_string(*p, pp);
    if (spec.empty()) fail(pp, "must not be empty");
    std::string file = spec, dset;
    const bool h5 = is_hdf5_spec(spec, &file, &dset);
    std::filesystem::path fp(file);
    if (fp.is_relative() && !base_dir_.empty()) fp = std::filesystem::path(base_dir_) / fp;
    const std::string resolved = std::filesystem::absolute(fp).lexically_normal().string();
    if (!std::filesystem::is_regular_file(resolved))
      fail(pp, fmt::format("no such file '{}'", resolved));
    w.params = FileWorkload{h5 ? resolved + ":" + dset : resolved};
  } else if (k == "model") {
    check_keys(t, path,
               {"kind", "path", "text", "windows", "window_size", "calib", "calib_windows",
                "bits_budget", "mixed_levels"});
    w.params = model_workload(t, path);
    return w;
  } else {
    fail(key_path(path, "kind"),
         fmt::format("unknown workload kind '{}' (normal, laplace, student_t, llm_activations, "
                     "weights, file, model)",
                     k));
  }
  if (const toml::node* ax = t.get("axis")) {
    const std::string ap = key_path(path, "axis");
    const std::int64_t v = as_int(*ax, ap);
    if (rank >= 0 && (v < -rank || v >= rank))
      fail(ap, fmt::format("axis {} is out of range for shape of rank {}", v, rank));
    if (v < -8 || v > 7) fail(ap, fmt::format("axis {} is out of range", v));
    w.axis = static_cast<int>(v);
  }
  return w;
}

std::string Parser::existing_path(const toml::table& t, const std::string& path,
                                  std::string_view key, bool directory) const {
  const std::string pp = key_path(path, key);
  const toml::node* p = t.get(key);
  if (!p) return "";
  const std::string spec = as_string(*p, pp);
  if (spec.empty()) fail(pp, "must not be empty");
  std::filesystem::path fp(spec);
  if (fp.is_relative() && !base_dir_.empty()) fp = std::filesystem::path(base_dir_) / fp;
  const std::string resolved = std::filesystem::absolute(fp).lexically_normal().string();
  if (directory ? !std::filesystem::is_directory(resolved)
                : !std::filesystem::is_regular_file(resolved))
    fail(pp, fmt::format("no such {} '{}'", directory ? "folder" : "file", resolved));
  return resolved;
}

ModelWorkload Parser::model_workload(const toml::table& t, const std::string& path) const {
  ModelWorkload w;
  w.path = existing_path(t, path, "path", true);
  if (w.path.empty()) fail(key_path(path, "path"), "missing (the checkpoint folder)");
  if (!std::filesystem::is_regular_file(std::filesystem::path(w.path) / "config.json"))
    fail(key_path(path, "path"), fmt::format("'{}' has no config.json", w.path));
  w.text = existing_path(t, path, "text", false);
  if (w.text.empty()) fail(key_path(path, "text"), "missing (the evaluation text file)");
  w.calib = existing_path(t, path, "calib", false);
  auto int_in = [&](std::string_view key, int dflt, int lo, int hi) {
    const toml::node* n = t.get(key);
    if (!n) return dflt;
    const std::string p = key_path(path, key);
    const std::int64_t v = as_int(*n, p);
    if (v < lo || v > hi) fail(p, fmt::format("must be in [{}, {}] (got {})", lo, hi, v));
    return static_cast<int>(v);
  };
  w.windows = int_in("windows", 8, 1, 1 << 20);
  w.window_size = int_in("window_size", 512, 2, 1 << 20);
  w.calib_windows = int_in("calib_windows", 32, 1, 1 << 20);
  auto check_length = [&](const std::string& file, std::string_view key, int n) {
    const auto need =
        static_cast<std::uintmax_t>(n) * static_cast<std::uintmax_t>(w.window_size) + 1;
    const auto have = std::filesystem::file_size(file);
    if (have < need)
      fail(key_path(path, key), fmt::format("'{}' has {} bytes; {} windows of {} need {}", file,
                                            have, n, w.window_size, need));
  };
  check_length(w.text, "windows", w.windows);
  if (!w.calib.empty()) check_length(w.calib, "calib_windows", w.calib_windows);
  w.bits_budget = number_in(t, path, "bits_budget", 0.0, 0.0, 64.0, false);
  w.mixed_levels = {"mxint2", "mxint3", "mxint4", "mxint8"};
  if (const toml::node* n = t.get("mixed_levels")) {
    const std::string p = key_path(path, "mixed_levels");
    const toml::array& a = as_array(*n, p, true);
    w.mixed_levels.clear();
    int prev = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ip = index_path(p, i);
      const std::string name = as_string(a[i], ip);
      MxFormat f;
      try {
        f = parse_mx_format(name);
      } catch (const FormatError& e) {
        fail(ip, e.what());
      }
      if (f.block_size == 0) fail(ip, fmt::format("'{}' is not an MX format", name));
      if (f.elem.bits <= prev)
        fail(ip, fmt::format("levels must have ascending element bits ('{}' has {})", name,
                             f.elem.bits));
      prev = f.elem.bits;
      w.mixed_levels.push_back(name);
    }
  }
  return w;
}

ReportSpec Parser::report(const toml::table& t, const std::string& path) const {
  check_keys(t, path, {"rows", "cols", "metric", "where"});
  ReportSpec r;
  auto param = [&](std::string_view key, std::string& out) {
    const toml::node* n = t.get(key);
    if (!n) return;
    const std::string p = key_path(path, key);
    out = as_string(*n, p);
    const FieldDef* f = find_field(out);
    if (!f || f->role != FieldRole::kParam || out == "point_id" || out == "rounding_seed")
      fail(p, fmt::format("'{}' is not a sweep parameter (workload, seed, format, elem, bits, "
                          "block_size, scale, scale_rule, rounding, n, act_format, algorithm, "
                          "accum, windows, calib_windows, bits_budget)",
                          out));
  };
  param("rows", r.rows);
  param("cols", r.cols);
  if (const toml::node* n = t.get("metric")) {
    const std::string p = key_path(path, "metric");
    r.metric = as_string(*n, p);
    const FieldDef* f = find_field(r.metric);
    if (!f || f->type != FieldType::kF64 || f->role == FieldRole::kParam) {
      std::vector<std::string> names;
      for (const FieldDef& d : point_fields())
        if (d.type == FieldType::kF64 && d.role != FieldRole::kParam) names.emplace_back(d.name);
      fail(p, fmt::format("unknown metric '{}' ({})", r.metric, join(names)));
    }
  }
  if (const toml::node* n = t.get("where")) {
    const std::string wp = key_path(path, "where");
    for (auto&& [k, v] : as_table(*n, wp)) {
      const std::string p = key_path(wp, k.str());
      const FieldDef* f = find_field(k.str());
      if (!f || f->role != FieldRole::kParam)
        fail(p, fmt::format("'{}' is not a sweep parameter", k.str()));
      std::string value;
      if (v.is_string())
        value = *v.value<std::string>();
      else if (v.is_integer())
        value = fmt::format("{}", *v.value<std::int64_t>());
      else
        fail(p, fmt::format("expected a string or an integer (got {})", describe(v)));
      r.where.emplace_back(std::string(k.str()), value);
    }
  }
  return r;
}

// The axes of model workloads, and the checks that need both the axes and the workloads.
void Parser::model_axes(const toml::table& s, SweepConfig& c) const {
  auto names = [&](std::string_view key, std::string dflt, auto check) {
    return axis<std::string>(
        s, "sweep", key, {dflt}, [&](const toml::node& n, const std::string& p) {
          const std::string v = as_string(n, p);
          check(v, p);
          if (v.size() > sizeof(PointRow::algorithm))
            fail(p,
                 fmt::format("'{}' is longer than {} characters", v, sizeof(PointRow::algorithm)));
          return std::pair{v, v};
        });
  };
  c.act_formats = names("act_formats", "none", [&](const std::string& v, const std::string& p) {
    if (v == "none" || v.starts_with("int")) {
      try {
        algo::parse_quant_spec(v, 32, 0, RoundSpec{}, ScaleRule::kFloor);
      } catch (const std::invalid_argument& e) {
        fail(p, e.what());
      }
      return;
    }
    try {
      parse_mx_format(v);
    } catch (const FormatError& e) {
      fail(p, e.what());
    }
  });
  c.algorithms = names("algorithms", "none", [&](const std::string& v, const std::string& p) {
    std::string err;
    if (v != "none" && !algo::Recipe::try_parse(v, &err))
      fail(p, fmt::format("unknown algorithm '{}' (none, or a PTQ recipe): {}", v, err));
  });
  c.accum_models = names("accum_models", "fp32", [&](const std::string& v, const std::string& p) {
    if (v == "fp32") return;
    try {
      parse_accum_model(v);
    } catch (const std::exception& e) {
      fail(p, e.what());
    }
  });
  bool any_model = false, all_model = true;
  for (const auto& name : c.workloads) {
    const bool m = c.workload_specs.at(name).is_model();
    any_model |= m;
    all_model &= m;
  }
  const std::pair<const char*, const std::vector<std::string>*> model_only[] = {
      {"act_formats", &c.act_formats},
      {"algorithms", &c.algorithms},
      {"accum_models", &c.accum_models}};
  for (const auto& [key, v] : model_only)
    if (!any_model && s.get(key))
      fail(key_path("sweep", key),
           "applies to model workloads only (no workload in "
           "sweep.workloads has kind = \"model\")");
  for (std::size_t i = 0; i < c.formats.size(); ++i) {
    const std::string& f = c.formats[i];
    if ((f == "none" || f == "mixed") && !all_model)
      fail(index_path("sweep.formats", i),
           fmt::format("'{}' applies to model workloads only; a tensor workload needs an MX "
                       "format",
                       f));
    if (f == "mixed")
      for (const auto& name : c.workloads)
        if (!(c.workload_specs.at(name).model().bits_budget > 0))
          fail(key_path(key_path("workloads", name), "bits_budget"),
               "missing: format \"mixed\" allocates weight formats under this budget");
    for (const auto& a : c.algorithms)
      if (f == "none" && a != "none")
        fail(index_path("sweep.formats", i),
             fmt::format("'none' (fp32 weights) cannot run algorithm '{}'; put the fp32 "
                         "baseline in a sweep of its own",
                         a));
  }
  for (std::size_t i = 0; i < c.algorithms.size(); ++i) {
    const std::string& a = c.algorithms[i];
    if (a == "none") continue;
    for (const auto& name : c.workloads)
      if (c.workload_specs.at(name).model().calib.empty())
        fail(key_path(key_path("workloads", name), "calib"),
             fmt::format("missing: algorithm '{}' needs a calibration text", a));
    if (const algo::PtqStep* as = algo::Recipe::parse(a).activation_step())
      for (const auto& act : c.act_formats)
        if (act != "none" && !act.starts_with("int"))
          fail(index_path("sweep.algorithms", i),
               fmt::format("{} quantizes activations itself and needs act formats "
                           "int<N> or none (sweep.act_formats has '{}')",
                           as->name, act));
  }
  bool mixed = false;
  for (const auto& f : c.formats) mixed |= f == "mixed";
  if (mixed)
    for (const auto& name : c.workloads)
      if (c.workload_specs.at(name).model().calib.empty())
        fail(key_path(key_path("workloads", name), "calib"),
             "missing: format \"mixed\" measures layer sensitivities on a calibration text");
  if (any_model)
    for (std::size_t i = 0; i < c.roundings.size(); ++i)
      if (c.roundings[i] == Rounding::kStochastic)
        fail(index_path("sweep.roundings", i),
             "model workloads need a deterministic rounding mode (not stochastic)");
}

SweepConfig Parser::parse(const toml::table& root, const std::string& default_name) {
  SweepConfig c;
  check_keys(root, "", {"sweep", "workloads", "report"});
  const toml::node* sn = root.get("sweep");
  if (!sn) fail("sweep", "missing (the [sweep] table lists the axes)");
  const toml::table& s = as_table(*sn, "sweep");
  check_keys(s, "sweep",
             {"name", "formats", "block_sizes", "scale_rules", "roundings", "seeds", "workloads",
              "act_formats", "algorithms", "accum_models"});

  c.name = default_name;
  if (const toml::node* n = s.get("name")) c.name = as_name(*n, "sweep.name", 64);

  if (!s.get("formats"))
    fail("sweep.formats", "missing (e.g. formats = [\"mxfp8_e4m3\", \"mxint8\"])");
  c.formats =
      axis<std::string>(s, "sweep", "formats", {}, [&](const toml::node& n, const std::string& p) {
        const std::string name = as_string(n, p);
        if (name == "none" || name == "mixed") return std::pair{name, name};  // model only
        MxFormat f;
        try {
          f = parse_mx_format(name);
        } catch (const FormatError& e) {
          fail(p, e.what());
        }
        if (f.block_size == 0)
          fail(p, fmt::format("'{}' is an element format without a shared scale; sweeps take MX "
                              "formats (mxfp8_e4m3, mxint8, mx<elem>)",
                              name));
        if (f.scale != ScaleFormat::kE8m0)
          fail(p, fmt::format("'{}' has a {} scale; sweeps support E8M0-scaled MX formats only for "
                              "now",
                              name, scale_format_name(f.scale)));
        if (name.size() > sizeof(PointRow::format))
          fail(p, fmt::format("'{}' is longer than {} characters", name, sizeof(PointRow::format)));
        return std::pair{name, std::string(f.elem.name_view())};
      });

  c.block_sizes =
      axis<int>(s, "sweep", "block_sizes", {32}, [&](const toml::node& n, const std::string& p) {
        const std::int64_t b = as_int(n, p);
        if (b < 1) fail(p, fmt::format("block size must be >= 1 (got {})", b));
        if (b > kMaxBlockSize)
          fail(p, fmt::format("block size must be <= {} (got {})", kMaxBlockSize, b));
        return std::pair{static_cast<int>(b), fmt::format("{}", b)};
      });
  c.scale_rules = axis<ScaleRule>(
      s, "sweep", "scale_rules", {ScaleRule::kFloor},
      [&](const toml::node& n, const std::string& p) {
        const std::string v = as_string(n, p);
        const auto r = parse_scale_rule(v);
        if (!r) fail(p, fmt::format("unknown scale rule '{}' (floor, ceil, even, rceil)", v));
        return std::pair{*r, v};
      });
  c.roundings = axis<Rounding>(
      s, "sweep", "roundings", {Rounding::kNearestEven},
      [&](const toml::node& n, const std::string& p) {
        const std::string v = as_string(n, p);
        const auto r = parse_rounding(v);
        if (!r)
          fail(p,
               fmt::format("unknown rounding mode '{}' (nearest-even, nearest-away, toward-zero, "
                           "toward-positive, toward-negative, odd, stochastic)",
                           v));
        return std::pair{*r, std::string(rounding_name(*r))};
      });
  c.seeds =
      axis<std::int64_t>(s, "sweep", "seeds", {0}, [&](const toml::node& n, const std::string& p) {
        const std::int64_t v = as_int(n, p);
        if (v < 0) fail(p, fmt::format("seed must be >= 0 (got {})", v));
        return std::pair{v, fmt::format("{}", v)};
      });

  const toml::node* wn = root.get("workloads");
  if (!wn) fail("workloads", "missing (define at least one [workloads.NAME] table)");
  const toml::table& wt = as_table(*wn, "workloads");
  if (wt.empty()) fail("workloads", "must define at least one workload ([workloads.NAME])");
  for (auto&& [k, v] : wt) {
    const std::string name(k.str());
    const std::string p = key_path("workloads", name);
    if (name.empty() || !std::all_of(name.begin(), name.end(),
                                     [](char ch) { return is_name_char(ch) || ch == '.'; }))
      fail(p,
           fmt::format("'{}' is not a valid workload name (letters, digits, '_', '-', '.')", name));
    if (name.size() > sizeof(PointRow::workload))
      fail(p,
           fmt::format("workload name is longer than {} characters", sizeof(PointRow::workload)));
    c.workload_specs[name] = workload(as_table(v, p), p, name);
  }
  std::vector<std::string> all_names;
  for (const auto& [name, w] : c.workload_specs) all_names.push_back(name);
  c.workloads = axis<std::string>(
      s, "sweep", "workloads", all_names, [&](const toml::node& n, const std::string& p) {
        const std::string name = as_string(n, p);
        if (!c.workload_specs.count(name))
          fail(p, fmt::format("no workload '{}' ([workloads.{}] is not defined; defined: {})", name,
                              name, join(all_names)));
        return std::pair{name, name};
      });

  model_axes(s, c);

  if (const toml::node* rn = root.get("report")) {
    c.report = report(as_table(*rn, "report"), "report");
    // A where condition on an axis must name one of its values.
    for (const auto& [key, value] : c.report.where) {
      std::vector<std::string> vals;
      if (key == "workload")
        vals = c.workloads;
      else if (key == "format")
        vals = c.formats;
      for (int b : c.block_sizes)
        if (key == "block_size") vals.push_back(fmt::format("{}", b));
      for (auto x : c.seeds)
        if (key == "seed") vals.push_back(fmt::format("{}", x));
      for (auto r : c.scale_rules)
        if (key == "scale_rule") vals.emplace_back(scale_rule_name(r));
      for (auto m : c.roundings)
        if (key == "rounding") vals.emplace_back(rounding_name(m));
      if (key == "act_format") vals = c.act_formats;
      if (key == "algorithm") vals = c.algorithms;
      if (key == "accum") vals = c.accum_models;
      if (!vals.empty() && std::find(vals.begin(), vals.end(), value) == vals.end())
        fail(key_path("report.where", key),
             fmt::format("'{}' is not a value of the {} axis ({})", value, key, join(vals)));
    }
  }
  return c;
}

}  // namespace

SweepConfig parse_config(std::string_view text, const std::string& origin,
                         const std::string& base_dir, const std::string& default_name) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(
        fmt::format("{}:{}:{}: TOML syntax error: {}", origin, b.line, b.column, e.description()));
  }
  Parser p(origin, base_dir);
  SweepConfig c = p.parse(root, default_name);
  c.text = std::string(text);
  c.origin = origin;
  return c;
}

SweepConfig load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    throw ConfigError(fmt::format("--config {}: cannot read the file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::filesystem::path p(path);
  std::string stem = p.stem().string();
  if (stem.empty() ||
      !std::all_of(stem.begin(), stem.end(), [](char ch) { return is_name_char(ch) || ch == '.'; }))
    stem = "sweep";
  return parse_config(ss.str(), path, p.parent_path().string(), stem);
}

SweepConfig default_config() {
  return parse_config(default_config_text(), "<default config>", "", "default");
}

std::string canonical_text(const SweepConfig& c) {
  std::string s;
  auto list = [&](std::string_view key, const auto& v, auto fmt_one) {
    s += fmt::format("{} =", key);
    for (const auto& x : v) {
      s += ' ';
      s += fmt_one(x);
    }
    s += "\n";
  };
  list("formats", c.formats, [](const std::string& x) { return x; });
  list("block_sizes", c.block_sizes, [](int x) { return fmt::format("{}", x); });
  list("scale_rules", c.scale_rules, [](ScaleRule x) { return std::string(scale_rule_name(x)); });
  list("roundings", c.roundings, [](Rounding x) { return std::string(rounding_name(x)); });
  list("seeds", c.seeds, [](std::int64_t x) { return fmt::format("{}", x); });
  list("workloads", c.workloads, [](const std::string& x) { return x; });
  bool any_model = false;
  for (const std::string& name : c.workloads) any_model |= c.workload_specs.at(name).is_model();
  if (any_model) {  // only then: configs without model workloads keep their canonical text
    const auto same = [](const std::string& x) { return x; };
    list("act_formats", c.act_formats, same);
    list("algorithms", c.algorithms, same);
    list("accum_models", c.accum_models, same);
  }
  auto shape = [](const std::vector<std::size_t>& v) {
    std::string t = " shape=";
    for (std::size_t i = 0; i < v.size(); ++i) t += fmt::format("{}{}", i ? "x" : "", v[i]);
    return t;
  };
  for (const std::string& name : c.workloads) {
    const WorkloadSpec& w = c.workload_specs.at(name);
    if (const ModelWorkload* m = std::get_if<ModelWorkload>(&w.params)) {
      s += fmt::format(
          "workload {}: kind=model path={} text={} windows={} window_size={} calib={} "
          "calib_windows={} bits_budget={} mixed_levels=",
          name, m->path, m->text, m->windows, m->window_size, m->calib, m->calib_windows,
          m->bits_budget);
      for (std::size_t i = 0; i < m->mixed_levels.size(); ++i)
        s += (i ? "," : "") + m->mixed_levels[i];
      s += "\n";
      continue;
    }
    s += fmt::format("workload {}: kind={} axis={}", name, workload_kind_name(w.kind()), w.axis);
    s += std::visit(Overloaded{
                        [&](const NormalWorkload& n) {
                          return shape(n.shape) + fmt::format(" mean={} std={}", n.mean, n.stddev);
                        },
                        [&](const LaplaceWorkload& l) {
                          return shape(l.shape) + fmt::format(" loc={} scale={}", l.loc, l.scale);
                        },
                        [&](const StudentTWorkload& t) {
                          return shape(t.shape) + fmt::format(" dof={} scale={}", t.dof, t.scale);
                        },
                        [&](const LlmActivationsWorkload& l) {
                          return shape(l.shape) +
                                 fmt::format(
                                     " outlier_channel_fraction={} outlier_scale={},{} "
                                     "heavy_token_fraction={} dof={}",
                                     l.outlier_channel_fraction, l.outlier_scale_min,
                                     l.outlier_scale_max, l.heavy_token_fraction, l.dof);
                        },
                        [&](const WeightsWorkload& ww) {
                          return shape(ww.shape) + fmt::format(" std={} row_scale_sigma={}",
                                                               ww.stddev, ww.row_scale_sigma);
                        },
                        [](const FileWorkload& f) { return fmt::format(" path={}", f.path); },
                        [](const ModelWorkload&) { return std::string(); },
                    },
                    w.params);
    s += "\n";
  }
  return s;
}

}  // namespace mx::experiments
