// One sweep point's result as it is stored: a fixed-size row of the /points table (parameters,
// statistics, provenance) plus its error histogram. The field registry below is the single
// description of the /points columns; the HDF5 writer, the reader, `mxlab table` and the
// config validation (report.metric, report.where) all use it. results/README.md documents it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mx::experiments {

// Error histogram: counts of |e|/|x| over the elements with x != 0 (both finite), in bins
// [edge[j], edge[j+1]): edge[0] = 0, edge[j] = 2^(j-33) for j = 1..33, edge[34] = +inf.
inline constexpr int kHistBins = 34;
std::array<double, kHistBins + 1> error_histogram_edges();

// Trivially copyable, so MPI ranks send it as bytes. Strings are NUL-padded, not
// necessarily NUL-terminated (a name may fill its field).
struct PointRow {
  char point_id[16];  // 16 hex digits of the hash of the point's canonical key
  char workload[48];
  std::int64_t seed;
  char format[24];
  char elem[24];
  std::int32_t bits;
  std::int32_t block_size;
  char scale[8];
  char scale_rule[8];
  char rounding[24];
  std::uint64_t rounding_seed;
  std::uint64_t n;
  // Model workloads (empty / 0 for tensor workloads and in files written before they existed).
  char act_format[24];
  char algorithm[24];
  char accum[24];
  char accum_descriptor[288];  // canonical (emulator/accum_model.hpp); its fields: /accum_models
  std::int32_t windows;
  std::int32_t calib_windows;
  double bits_budget;
  double mse;
  double sqnr_db;
  double max_abs_err;
  double max_rel_err;
  double cosine;
  double kl_softmax;
  double saturation_pct;
  double underflow_pct;
  double kernel_pct;
  double nonfinite_pct;
  double bits_per_byte;
  double perplexity;
  double weight_bits;
  double elapsed_s;
  char host[64];
  std::int64_t pid;
};

struct PointRecord {
  PointRow row{};
  std::array<std::uint64_t, kHistBins> hist{};
};

enum class FieldRole : std::uint8_t {
  kParam,   // identifies the point (what was run)
  kMetric,  // a statistic of the result
  kInfo,    // provenance that may differ between runs (elapsed time, host, pid)
};
enum class FieldType : std::uint8_t { kStr, kI32, kI64, kU64, kF64 };

struct FieldDef {
  std::string_view name;
  FieldRole role;
  FieldType type;
  std::size_t offset;
  std::size_t size;  // bytes (string fields: the fixed length)
  std::string_view doc;
};

// The /points columns, in storage order.
std::span<const FieldDef> point_fields();
const FieldDef* find_field(std::string_view name);

// The sweep axes, outermost first (the nesting order of the run list).
std::span<const std::string_view> axis_names();

// A field's value as text (numbers in shortest round-trip form) or as a number
// (string fields give NaN).
std::string field_string(const PointRow& r, const FieldDef& f);
double field_number(const PointRow& r, const FieldDef& f);

// The canonical descriptor of a model workload's accumulator axis value: to_string of the
// parsed model, or "fp32" (Eigen sgemm, not emulated) as it is. Throws AccumModelError.
std::string accum_descriptor(const std::string& accum);

// Fixed-length string helpers. set_fixed truncates silently; names are length-checked when
// the config is validated.
void set_fixed(char* dst, std::size_t size, std::string_view s);
std::string get_fixed(const char* src, std::size_t size);
template <std::size_t N>
void set_fixed(char (&dst)[N], std::string_view s) {
  set_fixed(dst, N, s);
}
template <std::size_t N>
std::string get_fixed(const char (&src)[N]) {
  return get_fixed(src, N);
}

}  // namespace mx::experiments
