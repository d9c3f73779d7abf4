// AccumModel's two tables (fields, presets) and everything generated from them.
#include "emulator/accum_model.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include "formats/catalog.hpp"

namespace mx {

namespace {

constexpr int kMaxW = 100;  // the step sum is held in 128 bits (dot.cpp)
constexpr int kMaxK = 1 << 20;
constexpr int kMaxPromote = 1 << 30;

constexpr unsigned kE = 1u << static_cast<unsigned>(AccumKind::kExact);
constexpr unsigned kP = 1u << static_cast<unsigned>(AccumKind::kPairwise);
constexpr unsigned kF = 1u << static_cast<unsigned>(AccumKind::kFused);

constexpr std::array<std::pair<AccumKind, std::string_view>, 3> kKindNames = {{
    {AccumKind::kExact, "exact"},
    {AccumKind::kPairwise, "pairwise"},
    {AccumKind::kFused, "fused"},
}};

// s += sep + item, with sep only between items.
void append(std::string& s, std::string_view sep, std::string_view item) {
  if (!s.empty()) s += sep;
  s += item;
}

[[noreturn]] void bad_value(std::string_view key, std::string_view v, const std::string& why) {
  throw AccumModelError(fmt::format("{}={}: {}", key, v, why));
}

// ---- value codecs -------------------------------------------------------------------------
// Each builds the type-erased parts of a field from an accessor of its member (`ref`, a
// plain function: the table holds no state).

template <typename T>
using Ref = T& (*)(AccumModel&);

template <typename T>
const T& cref(Ref<T> ref, const AccumModel& m) {
  return ref(const_cast<AccumModel&>(m));  // ref only selects a member; nothing is written
}

// The catalogue name of a format equal to f (fp32, bf16, e4m3, ...), else its generic name,
// so that equal formats print the same.
std::string format_name(const ElemFormat& f) {
  for (const ElemFormat& c : catalog_formats())
    if (c == f) return std::string(c.name_view());
  if (f.is_float()) {
    const char* suffix = f.nonfinite == Nonfinite::kIeee      ? "ieee"
                         : f.nonfinite == Nonfinite::kNanOnly ? "fn"
                                                              : "";
    return fmt::format("e{}m{}{}", f.exp_bits, f.man_bits, suffix);
  }
  return std::string(f.name_view());
}

// A random float format eXmY[fn|ieee] that parses.
std::string sample_float(std::mt19937_64& rng) {
  const int e = static_cast<int>(2 + rng() % 7), m = static_cast<int>(1 + rng() % 23);
  const char* suffix[] = {"", "fn", "ieee"};
  return fmt::format("e{}m{}{}", e, m, suffix[rng() % 3]);
}

AccumField int_field(std::string_view key, std::string_view attr, unsigned kinds, Ref<int> ref,
                     int lo, int hi, bool inf_zero, std::string_view doc,
                     std::function<std::vector<std::string>(const AccumModel&)> fit = {}) {
  AccumField f;
  f.key = key;
  f.attr = attr;
  f.kinds = kinds;
  f.doc = doc;
  f.values = inf_zero ? fmt::format("{}..{} or inf", lo, hi) : fmt::format("{}..{}", lo, hi);
  f.get = [ref, inf_zero](const AccumModel& m) {
    const int v = cref(ref, m);
    return inf_zero && v == 0 ? std::string("inf") : std::to_string(v);
  };
  f.set = [ref, key, lo, hi, inf_zero](AccumModel& m, std::string_view v) {
    if (inf_zero && v == "inf") {
      ref(m) = 0;
      return;
    }
    int x = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || v.empty())
      bad_value(key, v, "not an integer");
    if (x < lo || x > hi)
      bad_value(key, v, fmt::format("must be in {}..{}{}", lo, hi, inf_zero ? " or inf" : ""));
    ref(m) = x;
  };
  f.check = [ref, key, lo, hi, inf_zero](const AccumModel& m) -> std::optional<std::string> {
    const int v = cref(ref, m);
    if ((inf_zero && v == 0) || (v >= lo && v <= hi)) return std::nullopt;
    return fmt::format("{}={} must be in {}..{}{}", key, v, lo, hi, inf_zero ? " or inf" : "");
  };
  f.sample = [lo, hi, inf_zero](std::mt19937_64& rng) {
    if (inf_zero && rng() % 4 == 0) return std::string("inf");
    // Small values mostly: the relations between fields (divisibility) hold more often.
    const int top = rng() % 4 == 0 ? hi : std::min(hi, 64);
    return std::to_string(lo + static_cast<int>(rng() % static_cast<unsigned>(top - lo + 1)));
  };
  f.fit_domain = std::move(fit);
  return f;
}

// Named values of an enum-like member (bools included).
template <typename T>
AccumField choice_field(std::string_view key, std::string_view attr, unsigned kinds, Ref<T> ref,
                        std::vector<std::pair<std::string_view, T>> names, std::string_view doc,
                        std::vector<std::string> fit = {}, bool terse = false) {
  AccumField f;
  f.key = key;
  f.attr = attr;
  f.kinds = kinds;
  f.doc = doc;
  f.terse = terse;
  for (const auto& [n, v] : names) append(f.values, " | ", n);
  f.get = [ref, names](const AccumModel& m) {
    for (const auto& [n, v] : names)
      if (v == cref(ref, m)) return std::string(n);
    return std::string("?");
  };
  const std::string values = f.values;
  f.set = [ref, key, names, values](AccumModel& m, std::string_view v) {
    for (const auto& [n, x] : names)
      if (n == v) {
        ref(m) = x;
        return;
      }
    bad_value(key, v, "expected " + values);
  };
  f.check = [ref, key, names, values](const AccumModel& m) -> std::optional<std::string> {
    for (const auto& [n, v] : names)
      if (v == cref(ref, m)) return std::nullopt;
    return fmt::format("{} must be {}", key, values);
  };
  f.sample = [names](std::mt19937_64& rng) {
    return std::string(names[rng() % names.size()].first);
  };
  if (!fit.empty()) f.fit_domain = [fit](const AccumModel&) { return fit; };
  return f;
}

std::vector<std::pair<std::string_view, Rounding>> roundings(bool only_cut) {
  if (only_cut)
    return {{"toward-zero", Rounding::kTowardZero}, {"nearest-even", Rounding::kNearestEven}};
  std::vector<std::pair<std::string_view, Rounding>> out;
  for (const Rounding r : {Rounding::kNearestEven, Rounding::kNearestAway, Rounding::kTowardZero,
                           Rounding::kTowardPositive, Rounding::kTowardNegative, Rounding::kOdd})
    out.emplace_back(rounding_name(r), r);
  return out;  // stochastic rounding is not modelled
}

AccumField rounding_field(std::string_view key, std::string_view attr, unsigned kinds,
                          Ref<Rounding> ref, bool only_cut, std::string_view doc,
                          std::vector<std::string> fit = {}) {
  return choice_field<Rounding>(key, attr, kinds, ref, roundings(only_cut), doc, std::move(fit));
}

// A floating-point format (or, with `optional`, none). `any_format`: every element format
// of up to 32 bits but the scale formats (the output).
AccumField format_field(std::string_view key, std::string_view attr, unsigned kinds,
                        Ref<ElemFormat> ref, bool any_format, std::string_view doc,
                        std::vector<std::string> fit = {}) {
  AccumField f;
  f.key = key;
  f.attr = attr;
  f.kinds = kinds;
  f.doc = doc;
  f.values = any_format ? "an element format of up to 32 bits (fp32, bf16, e4m3, int8, eXmY...)"
                        : "a floating-point format (fp32, bf16, fp16, eXmY[ieee|fn])";
  f.get = [ref](const AccumModel& m) { return format_name(cref(ref, m)); };
  auto why_not = [any_format](const ElemFormat& x) -> std::optional<std::string> {
    if (any_format && (x.bits > 32 || x.is_scale())) return "not an output format";
    if (!any_format && !x.is_float()) return "must be a floating-point format";
    return std::nullopt;
  };
  f.set = [ref, key, why_not](AccumModel& m, std::string_view v) {
    ElemFormat x;
    try {
      x = parse_elem_format(v);
    } catch (const FormatError& e) {
      bad_value(key, v, e.what());
    }
    if (const auto w = why_not(x)) bad_value(key, v, *w);
    ref(m) = x;
  };
  f.check = [ref, key, why_not](const AccumModel& m) -> std::optional<std::string> {
    const auto w = why_not(cref(ref, m));
    if (!w) return std::nullopt;
    return fmt::format("{}={} {}", key, format_name(cref(ref, m)), *w);
  };
  f.sample = [](std::mt19937_64& rng) {
    const char* common[] = {"fp32", "bf16", "fp16", "e8m13ieee"};
    return rng() % 2 ? std::string(common[rng() % 4]) : sample_float(rng);
  };
  if (!fit.empty()) f.fit_domain = [fit](const AccumModel&) { return fit; };
  return f;
}

// conv: an optional floating-point format ("none").
AccumField conv_field(std::string_view doc, std::vector<std::string> fit) {
  AccumField f;
  f.key = "conv";
  f.attr = "conv";
  f.kinds = kF;
  f.doc = doc;
  f.values = "none or a floating-point format";
  f.get = [](const AccumModel& m) { return m.conv ? format_name(*m.conv) : std::string("none"); };
  f.set = [](AccumModel& m, std::string_view v) {
    if (v == "none") {
      m.conv.reset();
      return;
    }
    ElemFormat x;
    try {
      x = parse_elem_format(v);
    } catch (const FormatError& e) {
      bad_value("conv", v, e.what());
    }
    if (!x.is_float()) bad_value("conv", v, "must be a floating-point format");
    m.conv = x;
  };
  f.check = [](const AccumModel& m) -> std::optional<std::string> {
    if (!m.conv || m.conv->is_float()) return std::nullopt;
    return fmt::format("conv={} must be a floating-point format", format_name(*m.conv));
  };
  f.sample = [](std::mt19937_64& rng) {
    return rng() % 2 ? std::string("none") : sample_float(rng);
  };
  f.fit_domain = [fit](const AccumModel&) { return fit; };
  return f;
}

// hwfit's accumulator precisions: fp32 down to 7 mantissa bits, fp32's exponent range.
std::vector<std::string> acc_precisions() {
  std::vector<std::string> out = {"fp32"};
  for (int man = 22; man >= 7; --man) out.push_back(fmt::format("e8m{}ieee", man));
  return out;
}

std::vector<std::string> powers_of_two(long long from, long long below) {
  std::vector<std::string> out;
  for (long long p = from; p < below; p *= 2) out.push_back(std::to_string(p));
  return out;
}

// ---- the field table ----------------------------------------------------------------------
// Order: the canonical string's. A new field: one entry here, its semantics in dot.cpp and
// the oracle (tests/oracle/oracle_dot.cpp, which reads plain values).

std::vector<AccumField> make_fields() {
  std::vector<AccumField> t;
  t.push_back(int_field(
      "k", "k", kF, [](AccumModel& m) -> int& { return m.k; }, 1, kMaxK, false,
      "products per fused step", [](const AccumModel&) { return powers_of_two(1, 512); }));
  t.push_back(int_field(
      "split", "split", kF, [](AccumModel& m) -> int& { return m.split; }, 1, 64, false,
      "groups per chunk of k*split indices (mma.sync fp8: 2)",
      [](const AccumModel&) {
        return std::vector<std::string>{"1", "2", "4"};
      }));
  t.push_back(int_field(
      "gran", "gran", kF, [](AccumModel& m) -> int& { return m.gran; }, 1, kMaxK, false,
      "granule of consecutive indices dealt round-robin to the groups (must divide k)",
      [](const AccumModel& m) {
        return m.split == 1 ? std::vector<std::string>{"1"}  // moot without a split
                            : std::vector<std::string>{"1", "2", "4"};
      }));
  t.push_back(int_field(
      "w", "w", kF, [](AccumModel& m) -> int& { return m.w; }, 1, kMaxW, true,
      "alignment width W: terms cut to multiples of 2^(E_max - W); inf = exact step sum",
      [](const AccumModel&) {
        std::vector<std::string> out;
        for (int w = 2; w <= 40; ++w) out.push_back(std::to_string(w));
        out.push_back("inf");
        return out;
      }));
  t.push_back(rounding_field(
      "terms", "terms", kF, [](AccumModel& m) -> Rounding& { return m.term_round; }, true,
      "how terms are cut to the alignment width", {"toward-zero", "nearest-even"}));
  t.push_back(format_field(
      "acc", "acc", kP | kF, [](AccumModel& m) -> ElemFormat& { return m.acc; }, false,
      "step accumulator format", acc_precisions()));
  t.push_back(rounding_field("round", "round", kP | kF,
                             [](AccumModel& m) -> Rounding& { return m.step_round; }, false,
                             "step rounding", {"toward-zero", "nearest-even"}));
  t.push_back(conv_field("operand conversion format (subnormals there count with its emin)",
                         {"none", "fp16", "bf16"}));
  t.push_back(choice_field<bool>(
      "join", "join", kF, [](AccumModel& m) -> bool& { return m.acc_joins; },
      {{"1", true}, {"0", false}},
      "the accumulator joins the alignment (1) or is added exactly (0)", {"1", "0"}));
  t.push_back(choice_field<bool>(
      "ovf", "ovf", kF, [](AccumModel& m) -> bool& { return m.overflow_inf; },
      {{"ieee", false}, {"inf", true}},
      "a step's overflow: IEEE 754 (ieee) or Inf in every rounding mode (inf)", {"ieee", "inf"},
      true));
  t.push_back(choice_field<bool>(
      "zero", "zero", kF, [](AccumModel& m) -> bool& { return m.zero_positive; },
      {{"sign", false}, {"pos", true}},
      "a zero step result keeps the sum's sign (sign) or is +0 (pos)", {"sign", "pos"}, true));
  t.push_back(choice_field<CEntry>(
      "c", "c", kF, [](AccumModel& m) -> CEntry& { return m.c_entry; },
      {{"end", CEntry::kEnd}, {"first", CEntry::kFirst}, {"promote", CEntry::kPromote}},
      "C enters at the end, as the first accumulator or as the promotion start",
      {"first", "end", "promote"}));
  t.push_back(int_field(
      "promote", "promote", kF, [](AccumModel& m) -> int& { return m.promote_every; }, 0,
      kMaxPromote, false, "promotion interval N (a multiple of k*split; 0: none)",
      [](const AccumModel& m) {
        std::vector<std::string> out = {"0"};
        for (const auto& p : powers_of_two(static_cast<long long>(m.k) * m.split, kMaxK))
          out.push_back(p);
        return out;
      }));
  t.push_back(format_field(
      "promote-acc", "promote_acc", kF, [](AccumModel& m) -> ElemFormat& { return m.promote; },
      false, "promotion accumulator format"));
  t.push_back(rounding_field("promote-round", "promote_round", kF,
                             [](AccumModel& m) -> Rounding& { return m.promote_round; }, false,
                             "promotion rounding", {"nearest-even", "toward-zero"}));
  t.push_back(choice_field<ScaleOrder>(
      "scales", "scales", kF, [](AccumModel& m) -> ScaleOrder& { return m.scale_order; },
      {{"product", ScaleOrder::kProduct}, {"block", ScaleOrder::kBlock}},
      "scales in every product, or each block summed unscaled, then scaled and promoted"));
  t.push_back(format_field(
      "out", "out", kE | kP | kF, [](AccumModel& m) -> ElemFormat& { return m.out; }, true,
      "output format (CLI: --output-format)"));
  t.push_back(rounding_field(
      "out-round", "out_round", kE | kP | kF,
      [](AccumModel& m) -> Rounding& { return m.out_round.mode; }, false,
      "output rounding (CLI: --rounding)"));
  return t;
}

const std::vector<AccumField>& fields() {
  static const std::vector<AccumField> t = make_fields();
  return t;
}

// ---- the preset table ---------------------------------------------------------------------
// Values of the descriptor, in canonical form (a test checks it). A new preset: one entry.

const std::vector<AccumPreset>& presets() {
  static const std::vector<AccumPreset> t = {
      {"exact",
       {},
       "exact:out=fp32,out-round=nearest-even",
       "definition: one rounding of the exact sum (the reference of every other model)"},
      {"fp32-seq",
       {},
       "fused:k=1,split=1,gran=1,w=inf,terms=toward-zero,acc=fp32,round=nearest-even,conv=none,"
       "join=1,c=end,promote=0,promote-acc=fp32,promote-round=nearest-even,scales=product,"
       "out=fp32,out-round=nearest-even",
       "definition: a sequential fp32 loop, acc = RNE(acc + p)"},
      {"fp32-pairwise",
       {},
       "pairwise:acc=fp32,round=nearest-even,out=fp32,out-round=nearest-even",
       "definition: a pairwise fp32 tree (numpy-style summation)"},
      {"h100-mma",
       {"h100-mma-fp8"},
       "fused:k=16,split=2,gran=2,w=25,terms=toward-zero,acc=fp32,round=toward-zero,conv=fp16,"
       "join=1,c=promote,promote=32,promote-acc=fp32,promote-round=nearest-even,scales=product,"
       "out=fp32,out-round=nearest-even",
       "mma.sync m16n8k32 e4m3/e5m2 on sm_90: results/HARDWARE.md section "
       "\"`h100-mma`: mma.sync m16n8k32 e4m3 / e5m2\"; capture tests/data/hw/h100_probe.h5, "
       "op mma.sync.m16n8k32.{e4m3,e5m2}.f32"},
      {"h100-wgmma",
       {"h100-cublas-fp8"},
       "fused:k=32,split=1,gran=1,w=13,terms=toward-zero,acc=e8m13ieee,round=toward-zero,"
       "conv=none,join=1,c=end,promote=128,promote-acc=fp32,promote-round=nearest-even,"
       "scales=product,out=fp32,out-round=nearest-even",
       "cuBLAS FP8 GEMM on H100: results/HARDWARE.md section \"`h100-wgmma`: "
       "`torch._scaled_mm` default\"; capture tests/data/hw/h100_probe.h5, "
       "op torch._scaled_mm use_fast_accum=False"},
      {"h100-wgmma-fast",
       {"h100-cublas-fp8-fast"},
       "fused:k=32,split=1,gran=1,w=13,terms=toward-zero,acc=e8m13ieee,round=toward-zero,"
       "conv=none,join=1,c=end,promote=0,promote-acc=fp32,promote-round=nearest-even,"
       "scales=product,out=fp32,out-round=nearest-even",
       "cuBLAS FP8 GEMM on H100: results/HARDWARE.md section \"`h100-wgmma-fast`: "
       "`torch._scaled_mm(use_fast_accum=True)`\"; capture tests/data/hw/h100_probe.h5, "
       "op torch._scaled_mm use_fast_accum=True"},
      {"h100-mma-fp16",
       {},
       "fused:k=16,split=1,gran=1,w=25,terms=toward-zero,acc=fp32,round=toward-zero,conv=none,"
       "join=1,c=first,promote=0,promote-acc=fp32,promote-round=nearest-even,scales=product,"
       "out=fp32,out-round=nearest-even",
       "mma.sync m16n8k16 fp16 -> fp32 on sm_90: results/HARDWARE.md section "
       "\"`h100-mma-fp16`\"; capture tests/data/hw/h100_probe.h5, op mma.sync.m16n8k16.f16.f32"},
      {"h100-mma-bf16",
       {},
       "fused:k=16,split=1,gran=1,w=25,terms=toward-zero,acc=fp32,round=toward-zero,conv=none,"
       "join=1,ovf=inf,zero=pos,c=first,promote=0,promote-acc=fp32,promote-round=nearest-even,"
       "scales=product,out=fp32,out-round=nearest-even",
       "mma.sync m16n8k16 bf16 -> fp32 on sm_90 (overflow Inf although toward zero, +0 on "
       "underflow): results/HARDWARE.md section \"`h100-mma-bf16`\"; capture "
       "tests/data/hw/h100_probe.h5, op mma.sync.m16n8k16.bf16.f32"},
  };
  return t;
}

std::string kind_list(unsigned kinds) {
  std::string s;
  for (const auto& [k, n] : kKindNames)
    if ((kinds >> static_cast<unsigned>(k)) & 1u) append(s, "/", n);
  return s;
}

std::string keys_of(AccumKind kind) {
  std::string s;
  for (const AccumField& f : fields())
    if (f.applies(kind)) append(s, ", ", f.key);
  return s;
}

std::string head_list() {
  std::string s;
  for (const auto& [k, n] : kKindNames) append(s, ", ", n);
  for (const AccumPreset& p : presets()) {
    if (p.name == "exact") continue;  // also a kind
    append(s, ", ", p.name);
    for (const auto a : p.aliases) append(s, ", ", a);
  }
  return s;
}

// A kind's defaults: AccumModel{} with the kind set.
AccumModel kind_base(AccumKind k) {
  AccumModel m;
  m.kind = k;
  return m;
}

}  // namespace

bool operator==(const AccumModel& a, const AccumModel& b) {
  return a.kind == b.kind && a.k == b.k && a.split == b.split && a.gran == b.gran && a.w == b.w &&
         a.term_round == b.term_round && a.acc_joins == b.acc_joins && a.conv == b.conv &&
         a.acc == b.acc && a.step_round == b.step_round && a.overflow_inf == b.overflow_inf &&
         a.zero_positive == b.zero_positive && a.c_entry == b.c_entry &&
         a.promote_every == b.promote_every && a.promote == b.promote &&
         a.promote_round == b.promote_round && a.scale_order == b.scale_order && a.out == b.out &&
         a.out_round.mode == b.out_round.mode && a.out_round.overflow == b.out_round.overflow &&
         a.out_round.seed == b.out_round.seed;
}

std::span<const AccumField> accum_fields() { return fields(); }

const AccumField* find_accum_field(std::string_view key) {
  for (const AccumField& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

std::span<const AccumPreset> accum_presets() { return presets(); }

std::string_view accum_kind_name(AccumKind k) {
  for (const auto& [kk, n] : kKindNames)
    if (kk == k) return n;
  return "?";
}

std::vector<std::string_view> accum_preset_names() {
  std::vector<std::string_view> out;
  for (const AccumPreset& p : presets()) {
    out.push_back(p.name);
    for (const auto a : p.aliases) out.push_back(a);
  }
  return out;
}

void validate(const AccumModel& m) {
  auto fail = [](const std::string& s) { throw AccumModelError(s); };
  const AccumModel base = kind_base(m.kind);
  for (const AccumField& f : fields()) {
    if (const auto why = f.check(m)) fail(*why);
    // Fields of other kinds keep their defaults: the canonical string does not show them.
    if (!f.applies(m.kind) && f.get(m) != f.get(base))
      fail(fmt::format("{}={} does not apply to {} models (their keys: {})", f.key, f.get(m),
                       accum_kind_name(m.kind), keys_of(m.kind)));
  }
  if (m.out_round.overflow != Overflow::kToNanOrInf || m.out_round.seed != 0)
    fail("the output's overflow rule and seed are not part of the descriptor");
  if (m.split > 1 && m.k % m.gran != 0) fail(fmt::format("gran={} must divide k={}", m.gran, m.k));
  if (m.kind == AccumKind::kFused && m.promote_every > 0 && m.promote_every % (m.k * m.split) != 0)
    fail(
        fmt::format("promote={} must be a multiple of k*split={}", m.promote_every, m.k * m.split));
  if (m.c_entry == CEntry::kPromote && m.promote_every == 0 && m.scale_order != ScaleOrder::kBlock)
    fail("c=promote needs promotion (promote=N or scales=block)");
}

AccumModel parse_accum_model(std::string_view s, std::vector<std::string>* given) {
  if (s.empty()) throw AccumModelError("empty accumulator model");
  const auto colon = s.find(':');
  const std::string_view head = s.substr(0, colon);
  std::optional<AccumModel> base;
  for (const auto& [k, n] : kKindNames)
    if (n == head) base = kind_base(k);
  for (const AccumPreset& p : presets())
    if (!base &&
        (p.name == head || std::find(p.aliases.begin(), p.aliases.end(), head) != p.aliases.end()))
      base = parse_accum_model(p.descriptor);
  if (!base)
    throw AccumModelError(
        fmt::format("unknown accumulator model '{}' (expected one of {}, then :key=value,...)",
                    head, head_list()));
  AccumModel m = *base;
  if (given) given->clear();
  if (colon != std::string_view::npos) {
    std::string_view rest = s.substr(colon + 1);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view kv = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos)
        throw AccumModelError(fmt::format("'{}' is not key=value", kv));
      const std::string_view key = kv.substr(0, eq), v = kv.substr(eq + 1);
      const AccumField* f = find_accum_field(key);
      if (!f)
        throw AccumModelError(fmt::format("unknown key '{}' (keys of {} models: {})", key,
                                          accum_kind_name(m.kind), keys_of(m.kind)));
      if (!f->applies(m.kind))
        throw AccumModelError(fmt::format("'{}' does not apply to {} models (their keys: {})", key,
                                          accum_kind_name(m.kind), keys_of(m.kind)));
      f->set(m, v);
      if (given) given->emplace_back(key);
    }
  }
  validate(m);
  return m;
}

std::string to_string(const AccumModel& m) {
  const AccumModel base = kind_base(m.kind);
  std::string s(accum_kind_name(m.kind));
  char sep = ':';
  for (const AccumField& f : fields()) {
    if (!f.applies(m.kind)) continue;
    const std::string v = f.get(m);
    if (f.terse && v == f.get(base)) continue;
    s += sep;
    s += f.key;
    s += '=';
    s += v;
    sep = ',';
  }
  return s;
}

std::string accum_help(bool short_form) {
  if (short_form)
    return fmt::format(
        "accumulator model: KIND[:key=value,...] or PRESET[:key=value,...]; kinds and presets: "
        "{}; keys: {} (mxlab accum --list: values, defaults, presets' descriptors)",
        head_list(), keys_of(AccumKind::kFused));
  const AccumModel e = kind_base(AccumKind::kFused);
  std::string s =
      "Accumulator models (emulator/accum_model.hpp holds the definition):\n"
      "  KIND[:key=value,...] | PRESET[:key=value,...]\n\nKinds: exact, pairwise, fused.\n\n"
      "Keys (kinds, values, default: doc):\n";
  for (const AccumField& f : fields())
    s += fmt::format("  {:<14} {:<21} {}; default {}: {}\n", f.key, kind_list(f.kinds), f.values,
                     f.get(e), f.doc);
  s += "\nPresets (name [aliases]: canonical descriptor; evidence):\n";
  for (const AccumPreset& p : presets()) {
    std::string aliases;
    for (const auto a : p.aliases) append(aliases, ", ", a);
    if (!aliases.empty()) aliases = " [" + aliases;
    if (!aliases.empty()) aliases += "]";
    s += fmt::format("  {}{}:\n    {}\n    {}\n", p.name, aliases, p.descriptor, p.evidence);
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> accum_attributes(const AccumModel& m) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("kind", std::string(accum_kind_name(m.kind)));
  for (const AccumField& f : fields()) out.emplace_back(std::string(f.attr), f.get(m));
  return out;
}

}  // namespace mx
