#include "experiments/record.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"

namespace mx::experiments {

static_assert(std::is_trivially_copyable_v<PointRecord>);
static_assert(std::is_standard_layout_v<PointRow>);

std::array<double, kHistBins + 1> error_histogram_edges() {
  std::array<double, kHistBins + 1> e{};
  e[0] = 0.0;
  for (int j = 1; j <= kHistBins - 1; ++j) e[static_cast<std::size_t>(j)] = std::ldexp(1.0, j - 33);
  e[kHistBins] = std::numeric_limits<double>::infinity();
  return e;
}

namespace {

// clang-format off
#define MX_FIELD(name, role, type, doc) \
  FieldDef{#name, FieldRole::role, FieldType::type, offsetof(PointRow, name), sizeof(PointRow::name), doc}
// clang-format on

const std::array kFields = {
    MX_FIELD(point_id, kParam, kStr, "16 hex digits: hash of the point's canonical key"),
    MX_FIELD(workload, kParam, kStr, "workload name ([workloads.NAME] in the config)"),
    MX_FIELD(seed, kParam, kI64,
             "value of the seeds axis (data seed is derived from workload+seed)"),
    MX_FIELD(format, kParam, kStr, "MX format name as in the config (mxfp8_e4m3, ...)"),
    MX_FIELD(elem, kParam, kStr, "element format (e4m3, int8, ...)"),
    MX_FIELD(bits, kParam, kI32, "bits per element"),
    MX_FIELD(block_size, kParam, kI32, "elements per shared scale"),
    MX_FIELD(scale, kParam, kStr, "scale format (e8m0)"),
    MX_FIELD(scale_rule, kParam, kStr, "floor|ceil|even|rceil"),
    MX_FIELD(rounding, kParam, kStr, "element rounding mode"),
    MX_FIELD(rounding_seed, kParam, kU64, "stochastic-rounding seed derived from the point key"),
    MX_FIELD(n, kParam, kU64, "number of elements (model: predicted bytes)"),
    MX_FIELD(act_format, kParam, kStr,
             "model: activation format of every linear's input (none = fp32); else empty"),
    MX_FIELD(algorithm, kParam, kStr, "model: PTQ algorithm (none = direct cast); else empty"),
    MX_FIELD(accum, kParam, kStr, "model: accumulator model of every linear (fp32 = Eigen sgemm)"),
    MX_FIELD(accum_descriptor, kParam, kStr,
             "model: canonical descriptor of accum (fp32 as is; one attribute per field in "
             "/accum_models/<accum>); else empty (and in files written before it existed)"),
    MX_FIELD(windows, kParam, kI32, "model: evaluation windows (first N of the text); else 0"),
    MX_FIELD(calib_windows, kParam, kI32, "model: calibration windows used by PTQ; else 0"),
    MX_FIELD(bits_budget, kParam, kF64,
             "model: mixed-precision budget, average element bits per linear weight; 0 = none"),
    MX_FIELD(mse, kMetric, kF64, "mean squared error (1/m) sum e^2"),
    MX_FIELD(sqnr_db, kMetric, kF64, "10 log10(sum x^2 / sum e^2), whole tensor; +inf if e == 0"),
    MX_FIELD(max_abs_err, kMetric, kF64, "max |e|"),
    MX_FIELD(max_rel_err, kMetric, kF64, "max |e|/|x| over x != 0"),
    MX_FIELD(cosine, kMetric, kF64, "<x,q>/(|x||q|)"),
    MX_FIELD(kl_softmax, kMetric, kF64,
             "mean over rows (last axis) of KL(softmax x || softmax q), nats"),
    MX_FIELD(saturation_pct, kMetric, kF64, "% of elements clamped to the block's extreme value"),
    MX_FIELD(underflow_pct, kMetric, kF64, "% of nonzero inputs that became 0"),
    MX_FIELD(kernel_pct, kMetric, kF64, "% of all elements quantized to 0"),
    MX_FIELD(nonfinite_pct, kMetric, kF64, "% of elements whose quantized value is NaN/Inf"),
    MX_FIELD(bits_per_byte, kMetric, kF64,
             "model: mean next-byte cross-entropy in bits over the evaluation windows; else NaN"),
    MX_FIELD(perplexity, kMetric, kF64, "model: byte perplexity 2^bits_per_byte; else NaN"),
    MX_FIELD(weight_bits, kMetric, kF64,
             "model: element bits per linear weight, averaged by parameter count; else NaN"),
    MX_FIELD(elapsed_s, kInfo, kF64, "seconds spent on the point (may differ between runs)"),
    MX_FIELD(host, kInfo, kStr, "host that computed the point (may differ)"),
    MX_FIELD(pid, kInfo, kI64, "process id that computed the point (may differ)"),
};
#undef MX_FIELD

constexpr std::array<std::string_view, 9> kAxes = {"workload",   "seed",       "format",
                                                   "act_format", "algorithm",  "accum",
                                                   "block_size", "scale_rule", "rounding"};

template <typename T>
T load(const PointRow& r, const FieldDef& f) {
  T v;
  std::memcpy(&v, reinterpret_cast<const char*>(&r) + f.offset, sizeof(T));
  return v;
}

}  // namespace

std::span<const FieldDef> point_fields() { return kFields; }

const FieldDef* find_field(std::string_view name) {
  for (const FieldDef& f : kFields)
    if (f.name == name) return &f;
  return nullptr;
}

std::span<const std::string_view> axis_names() { return kAxes; }

std::string field_string(const PointRow& r, const FieldDef& f) {
  switch (f.type) {
    case FieldType::kStr:
      return get_fixed(reinterpret_cast<const char*>(&r) + f.offset, f.size);
    case FieldType::kI32:
      return fmt::format("{}", load<std::int32_t>(r, f));
    case FieldType::kI64:
      return fmt::format("{}", load<std::int64_t>(r, f));
    case FieldType::kU64:
      return fmt::format("{}", load<std::uint64_t>(r, f));
    case FieldType::kF64:
      return fmt::format("{}", load<double>(r, f));
  }
  return {};
}

double field_number(const PointRow& r, const FieldDef& f) {
  switch (f.type) {
    case FieldType::kStr:
      return std::numeric_limits<double>::quiet_NaN();
    case FieldType::kI32:
      return load<std::int32_t>(r, f);
    case FieldType::kI64:
      return static_cast<double>(load<std::int64_t>(r, f));
    case FieldType::kU64:
      return static_cast<double>(load<std::uint64_t>(r, f));
    case FieldType::kF64:
      return load<double>(r, f);
  }
  return 0;
}

std::string accum_descriptor(const std::string& accum) {
  if (accum == "fp32") return accum;
  const std::string d = to_string(parse_accum_model(accum));
  if (d.size() > sizeof(PointRow::accum_descriptor))
    throw AccumModelError(fmt::format("{}: descriptor longer than {} characters", accum,
                                      sizeof(PointRow::accum_descriptor)));
  return d;
}

void set_fixed(char* dst, std::size_t size, std::string_view s) {
  std::memset(dst, 0, size);
  std::memcpy(dst, s.data(), s.size() < size ? s.size() : size);
}

std::string get_fixed(const char* src, std::size_t size) {
  std::size_t len = 0;
  while (len < size && src[len] != '\0') ++len;
  return std::string(src, len);
}

}  // namespace mx::experiments
