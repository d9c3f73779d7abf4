#include "emulator/accum_model.hpp"

#include <charconv>

#include <fmt/format.h>

#include "formats/catalog.hpp"

namespace mx {

namespace {

constexpr int kMaxW = 100;  // the step sum is held in 128 bits (dot.cpp)
constexpr int kMaxK = 1 << 20;

AccumModel fused_base() {
  AccumModel m;
  m.kind = AccumKind::kFused;
  return m;
}

// Presets: values of the descriptor (h100-accumulation.md).
std::optional<AccumModel> preset(std::string_view name) {
  // The hardware presets under the names of issue 5 / results/HARDWARE.md.
  if (name == "h100-mma-fp8") return preset("h100-mma");
  if (name == "h100-cublas-fp8") return preset("h100-wgmma");
  if (name == "h100-cublas-fp8-fast") return preset("h100-wgmma-fast");
  if (name == "h100-mma-fp16") {
    // mma.sync m16n8k16 fp16 -> fp32 on sm_90 (results/HARDWARE.md): one step of 16 products,
    // W = 25, toward zero, C joins the first step's alignment; chained instructions carry the
    // accumulator without an extra rounding.
    AccumModel m = fused_base();
    m.k = 16;
    m.w = 25;
    m.term_round = Rounding::kTowardZero;
    m.step_round = Rounding::kTowardZero;
    m.acc_joins = true;
    m.c_entry = CEntry::kFirst;
    return m;
  }
  if (name == "h100-mma-bf16") {
    // mma.sync m16n8k16 bf16 -> fp32 on sm_90 (results/HARDWARE.md): the fp16 structure, but
    // a step whose sum overflows fp32 is Inf although the step rounds toward zero, and a step
    // result of zero is +0 even when a negative sum underflowed.
    AccumModel m = *preset("h100-mma-fp16");
    m.overflow_inf = true;
    m.zero_positive = true;
    return m;
  }
  if (name == "exact") return AccumModel{};
  if (name == "fp32-seq" || name == "fused") {
    AccumModel m = fused_base();  // k = 1, exact step sum, fp32 RNE: a + p rounded once
    return m;
  }
  if (name == "fp32-pairwise" || name == "pairwise") {
    AccumModel m;
    m.kind = AccumKind::kPairwise;
    return m;
  }
  if (name == "h100-mma") {
    // mma.sync m16n8k32 e4m3/e5m2 on sm_90: operands to fp16, two HMMA steps of 16 products
    // split by pairs (k mod 4 in {0,1} then {2,3}), W = 25, toward zero to fp32, the first
    // step from 0; D = RNE(step 2 + C). Chained instructions add each 32-chunk into the
    // running fp32 D: promotion every 32 with C as its start.
    AccumModel m = fused_base();
    m.k = 16;
    m.split = 2;
    m.gran = 2;
    m.w = 25;
    m.term_round = Rounding::kTowardZero;
    m.step_round = Rounding::kTowardZero;
    m.conv = kFp16;
    m.acc_joins = true;
    m.promote_every = 32;
    m.c_entry = CEntry::kPromote;
    return m;
  }
  if (name == "h100-wgmma" || name == "h100-wgmma-fast") {
    // cuBLAS FP8 GEMM on H100: steps of 32 consecutive products, W = 13, toward zero to 13
    // mantissa bits with fp32's exponent range; default: promoted into fp32 (RNE) every 128.
    AccumModel m = fused_base();
    m.k = 32;
    m.w = 13;
    m.term_round = Rounding::kTowardZero;
    m.step_round = Rounding::kTowardZero;
    m.acc = parse_elem_format("e8m13ieee");
    m.acc_joins = true;
    m.promote_every = name == "h100-wgmma" ? 128 : 0;
    m.c_entry = CEntry::kEnd;
    return m;
  }
  return std::nullopt;
}

int parse_int(std::string_view key, std::string_view v) {
  int x = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size())
    throw AccumModelError(fmt::format("--accum: {}={} is not an integer", key, v));
  return x;
}

Rounding parse_round(std::string_view key, std::string_view v) {
  const auto r = parse_rounding(v);
  if (!r) throw AccumModelError(fmt::format("--accum: {}={}: unknown rounding mode", key, v));
  if (*r == Rounding::kStochastic)
    throw AccumModelError(
        fmt::format("--accum: {}={}: stochastic rounding is not modelled", key, v));
  return *r;
}

ElemFormat parse_fmt(std::string_view key, std::string_view v) {
  try {
    return parse_elem_format(v);
  } catch (const FormatError& e) {
    throw AccumModelError(fmt::format("--accum: {}={}: {}", key, v, e.what()));
  }
}

bool parse_bool(std::string_view key, std::string_view v) {
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  throw AccumModelError(fmt::format("--accum: {}={}: expected 0 or 1", key, v));
}

}  // namespace

std::vector<std::string_view> accum_preset_names() {
  return {"exact",         "fp32-seq",        "fp32-pairwise",
          "h100-mma",      "h100-wgmma",      "h100-wgmma-fast",
          "h100-mma-fp8",  "h100-cublas-fp8", "h100-cublas-fp8-fast",
          "h100-mma-fp16", "h100-mma-bf16"};
}

void validate(const AccumModel& m) {
  auto fail = [](const std::string& s) { throw AccumModelError("--accum: " + s); };
  if (m.k < 1 || m.k > kMaxK) fail(fmt::format("k={} must be in 1..{}", m.k, kMaxK));
  if (m.split < 1 || m.split > 64) fail(fmt::format("split={} must be in 1..64", m.split));
  if (m.gran < 1) fail(fmt::format("gran={} must be >= 1", m.gran));
  if (m.split > 1 && m.k % m.gran != 0) fail(fmt::format("gran={} must divide k={}", m.gran, m.k));
  if (m.w < 0 || m.w > kMaxW) fail(fmt::format("w={} must be in 1..{} or inf", m.w, kMaxW));
  if (m.term_round != Rounding::kTowardZero && m.term_round != Rounding::kNearestEven)
    fail("terms must be toward-zero or nearest-even");
  if (!m.acc.is_float())
    fail(fmt::format("acc={} must be a floating-point format", m.acc.name_view()));
  if (!m.promote.is_float())
    fail(fmt::format("promote-acc={} must be a floating-point format", m.promote.name_view()));
  if (m.conv && !m.conv->is_float())
    fail(fmt::format("conv={} must be a floating-point format", m.conv->name_view()));
  if (m.step_round == Rounding::kStochastic || m.promote_round == Rounding::kStochastic ||
      m.out_round.mode == Rounding::kStochastic)
    fail("stochastic rounding is not modelled");
  if (m.promote_every < 0) fail(fmt::format("promote={} must be >= 0", m.promote_every));
  if (m.kind == AccumKind::kFused && m.promote_every > 0 && m.promote_every % (m.k * m.split) != 0)
    fail(
        fmt::format("promote={} must be a multiple of k*split={}", m.promote_every, m.k * m.split));
  if (m.c_entry == CEntry::kPromote && m.promote_every == 0 && m.scale_order != ScaleOrder::kBlock)
    fail("c=promote needs promotion (promote=N or scales=block)");
  if (m.kind != AccumKind::kFused && (m.overflow_inf || m.zero_positive))
    fail("ovf and zero apply to fused models only");
  if (m.kind != AccumKind::kFused &&
      (m.c_entry != CEntry::kEnd || m.promote_every != 0 || m.scale_order != ScaleOrder::kProduct))
    fail("c, promote and scales apply to fused models only");
}

AccumModel parse_accum_model(std::string_view s) {
  if (s.empty()) throw AccumModelError("--accum: empty model");
  const auto colon = s.find(':');
  const std::string_view head = s.substr(0, colon);
  auto base = preset(head);
  if (!base)
    throw AccumModelError(fmt::format(
        "--accum: unknown model '{}' (exact, fp32-seq, fp32-pairwise, fused:..., pairwise:..., "
        "h100-mma(-fp8), h100-wgmma (h100-cublas-fp8), h100-wgmma-fast (h100-cublas-fp8-fast), "
        "h100-mma-fp16, h100-mma-bf16)",
        head));
  AccumModel m = *base;
  if (colon != std::string_view::npos) {
    std::string_view rest = s.substr(colon + 1);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view kv = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos)
        throw AccumModelError(fmt::format("--accum: '{}' is not key=value", kv));
      const std::string_view key = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (key == "k")
        m.k = parse_int(key, v);
      else if (key == "split")
        m.split = parse_int(key, v);
      else if (key == "gran")
        m.gran = parse_int(key, v);
      else if (key == "w") {
        if (v == "inf")
          m.w = 0;
        else {
          m.w = parse_int(key, v);
          if (m.w < 1) throw AccumModelError(fmt::format("--accum: w={} must be >= 1 (or inf)", v));
        }
      } else if (key == "terms")
        m.term_round = parse_round(key, v);
      else if (key == "acc")
        m.acc = parse_fmt(key, v);
      else if (key == "round")
        m.step_round = parse_round(key, v);
      else if (key == "conv") {
        if (v == "none")
          m.conv.reset();
        else
          m.conv = parse_fmt(key, v);
      } else if (key == "join")
        m.acc_joins = parse_bool(key, v);
      else if (key == "ovf") {
        if (v == "ieee")
          m.overflow_inf = false;
        else if (v == "inf")
          m.overflow_inf = true;
        else
          throw AccumModelError(fmt::format("--accum: ovf={}: expected ieee or inf", v));
      } else if (key == "zero") {
        if (v == "sign")
          m.zero_positive = false;
        else if (v == "pos")
          m.zero_positive = true;
        else
          throw AccumModelError(fmt::format("--accum: zero={}: expected sign or pos", v));
      } else if (key == "c") {
        if (v == "end")
          m.c_entry = CEntry::kEnd;
        else if (v == "first")
          m.c_entry = CEntry::kFirst;
        else if (v == "promote")
          m.c_entry = CEntry::kPromote;
        else
          throw AccumModelError(fmt::format("--accum: c={}: expected end, first or promote", v));
      } else if (key == "promote")
        m.promote_every = parse_int(key, v);
      else if (key == "promote-acc")
        m.promote = parse_fmt(key, v);
      else if (key == "promote-round")
        m.promote_round = parse_round(key, v);
      else if (key == "scales") {
        if (v == "product")
          m.scale_order = ScaleOrder::kProduct;
        else if (v == "block")
          m.scale_order = ScaleOrder::kBlock;
        else
          throw AccumModelError(fmt::format("--accum: scales={}: expected product or block", v));
      } else if (key == "out")
        m.out = parse_fmt(key, v);
      else if (key == "out-round")
        m.out_round.mode = parse_round(key, v);
      else
        throw AccumModelError(fmt::format("--accum: unknown parameter '{}'", key));
      const bool out_key = key == "out" || key == "out-round";
      if (m.kind == AccumKind::kExact && !out_key)
        throw AccumModelError(fmt::format("--accum: '{}' does not apply to the exact model", key));
      if (m.kind == AccumKind::kPairwise && key != "acc" && key != "round" && !out_key)
        throw AccumModelError(fmt::format("--accum: '{}' does not apply to pairwise models", key));
    }
  }
  validate(m);
  return m;
}

std::string to_string(const AccumModel& m) {
  const std::string out =
      fmt::format("out={},out-round={}", m.out.name_view(), rounding_name(m.out_round.mode));
  switch (m.kind) {
    case AccumKind::kExact:
      return "exact";
    case AccumKind::kPairwise:
      return fmt::format("pairwise:acc={},round={},{}", m.acc.name_view(),
                         rounding_name(m.step_round), out);
    case AccumKind::kFused:
      break;
  }
  // ovf / zero appear only when not IEEE's, so that the strings of older files stay as they were.
  const std::string range =
      std::string(m.overflow_inf ? "ovf=inf," : "") + (m.zero_positive ? "zero=pos," : "");
  return fmt::format(
      "fused:k={},split={},gran={},w={},terms={},acc={},round={},conv={},join={},{}c={},"
      "promote={},promote-acc={},promote-round={},scales={},{}",
      m.k, m.split, m.gran, m.w == 0 ? std::string("inf") : std::to_string(m.w),
      rounding_name(m.term_round), m.acc.name_view(), rounding_name(m.step_round),
      m.conv ? m.conv->name_view() : std::string_view("none"), m.acc_joins ? 1 : 0, range,
      m.c_entry == CEntry::kEnd ? "end" : (m.c_entry == CEntry::kFirst ? "first" : "promote"),
      m.promote_every, m.promote.name_view(), rounding_name(m.promote_round),
      m.scale_order == ScaleOrder::kProduct ? "product" : "block", out);
}

}  // namespace mx
