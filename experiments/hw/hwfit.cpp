// hwfit: an accumulator model from probe data, stage by stage (experiments/hw/hwfit.hpp).
#include "experiments/hw/hwfit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "emulator/dot.hpp"
#include "formats/catalog.hpp"

namespace mx {

namespace {

constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

enum class CFilter { kAny, kZero, kNonZero };

// Which tiles and outputs a stage reads.
struct Sel {
  std::vector<std::string> kinds;  // empty: every kind
  std::size_t kmax = kAll;         // groups with k <= kmax ...
  std::size_t kabove = 0;          // ... and k > kabove
  CFilter cf = CFilter::kAny;
};

struct Tile {
  std::size_t g, t;
};

struct Score {
  std::size_t match = 0, total = 0;
  bool full() const { return total > 0 && match == total; }
};

// Runs a model over chosen tiles of a family with dot() directly (no GEMM set-up per call:
// the fit evaluates thousands of candidates).
class Evaluator {
 public:
  Evaluator(std::vector<const ProbeGroup*> groups, int threads)
      : groups_(std::move(groups)), threads_(std::max(1, threads)) {}

  const std::vector<const ProbeGroup*>& groups() const { return groups_; }

  std::vector<Tile> tiles(const Sel& s) const {
    std::vector<Tile> out;
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
      const ProbeGroup& g = *groups_[gi];
      if (g.k > s.kmax || g.k <= s.kabove) continue;
      for (std::size_t t = 0; t < g.t; ++t) {
        const std::string& kind = g.kinds[g.kind[t]];
        if (!s.kinds.empty() && std::find(s.kinds.begin(), s.kinds.end(), kind) == s.kinds.end())
          continue;
        out.push_back({gi, t});
      }
    }
    return out;
  }

  // Memoized: the stages repeat until nothing changes, so the last round re-asks the same.
  Score score(const AccumModel& m, const std::vector<Tile>& tiles, CFilter cf) {
    std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(cf);
    for (const Tile& t : tiles) h = (h ^ (t.g * 1000003u + t.t)) * 1099511628211ull;
    const std::string key = fmt::format("{:x}/{}", h, to_string(m));
    const auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    return memo_[key] = compute(m, tiles, cf);
  }

 private:
  Score compute(const AccumModel& m, const std::vector<Tile>& tiles, CFilter cf) {
    // Operand tables first (single-threaded): one per format and conversion.
    std::vector<std::pair<const OpTable*, const OpTable*>> tab(groups_.size());
    for (std::size_t gi = 0; gi < groups_.size(); ++gi)
      tab[gi] = {&table(groups_[gi]->format_a, m.conv), &table(groups_[gi]->format_b, m.conv)};
    std::atomic<std::size_t> next{0}, match{0}, total{0};
    auto work = [&] {
      DotScratch scratch;
      std::size_t mt = 0, tt = 0;
      for (std::size_t i = next++; i < tiles.size(); i = next++) {
        const ProbeGroup& g = *groups_[tiles[i].g];
        const auto [ta, tb] = tab[tiles[i].g];
        const std::size_t t = tiles[i].t, mn = g.m * g.n;
        for (std::size_t r = 0; r < g.m; ++r)
          for (std::size_t c = 0; c < g.n; ++c) {
            const std::size_t o = t * mn + r * g.n + c;
            const float cv = g.c[o];
            if (cf == CFilter::kZero && cv != 0.0f) continue;
            if (cf == CFilter::kNonZero && cv == 0.0f) continue;
            DotArgs args;
            args.a = g.a.data() + (t * g.m + r) * g.k;
            args.b = g.b.data() + (t * g.n + c) * g.k;
            args.k = g.k;
            args.c = cv;
            ++tt;
            mt += hw_match(g.d[o], dot(m, *ta, *tb, args, scratch)) ? 1 : 0;
          }
      }
      match += mt;
      total += tt;
    };
    const int n = std::min<int>(threads_, static_cast<int>(std::max<std::size_t>(1, tiles.size())));
    std::vector<std::thread> pool;
    for (int i = 1; i < n; ++i) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    return {match.load(), total.load()};
  }

  const OpTable& table(const std::string& fmt_name, const std::optional<ElemFormat>& conv) {
    const std::string key =
        fmt_name + "/" + (conv ? std::string(conv->name_view()) : std::string("none"));
    auto it = tables_.find(key);
    if (it == tables_.end())
      it = tables_.emplace(key, std::make_unique<OpTable>(parse_elem_format(fmt_name), conv)).first;
    return *it->second;
  }

  std::vector<const ProbeGroup*> groups_;
  int threads_;
  std::map<std::string, std::unique_ptr<OpTable>> tables_;
  std::map<std::string, Score> memo_;
};

// The canonical string's key=value pairs.
std::vector<std::pair<std::string, std::string>> params_of(const AccumModel& m) {
  std::string s = to_string(m);
  const auto colon = s.find(':');
  s = colon == std::string::npos ? std::string() : s.substr(colon + 1);
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t p = 0;
  while (p < s.size()) {
    const auto q = s.find(',', p);
    const std::string kv = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  // ovf / zero are printed only when set; make them explicit for comparisons.
  auto has = [&](const char* k) {
    return std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == k; });
  };
  if (!has("ovf")) out.emplace_back("ovf", "ieee");
  if (!has("zero")) out.emplace_back("zero", "sign");
  return out;
}

std::string describe(const AccumModel& m, const std::vector<std::string>& keys) {
  const auto ps = params_of(m);
  std::string out;
  for (const auto& k : keys)
    for (const auto& [pk, pv] : ps)
      if (pk == k) out += (out.empty() ? "" : ",") + pk + "=" + pv;
  return out;
}

// The keys whose values differ between a and b, as b's key=value list.
std::string diff(const AccumModel& a, const AccumModel& b) {
  const auto pa = params_of(a), pb = params_of(b);
  std::string out;
  for (const auto& [k, v] : pb) {
    const auto it =
        std::find_if(pa.begin(), pa.end(), [&](const auto& kv) { return kv.first == k; });
    if (it == pa.end() || it->second != v) out += (out.empty() ? "" : ",") + k + "=" + v;
  }
  return out;
}

bool valid(const AccumModel& m) {
  try {
    validate(m);
    return true;
  } catch (const AccumModelError&) {
    return false;
  }
}

ElemFormat acc_with_mantissa(int man) {
  return man == 23 ? kFp32 : parse_elem_format(fmt::format("e8m{}ieee", man));
}

struct Family {
  std::vector<const ProbeGroup*> groups;
  std::size_t kmin = kAll, kmax = 0;
  std::vector<std::string> operand_formats;
};

// ---- candidate sets of the stages ---------------------------------------------------------

const std::vector<std::string> kKeysPrecision = {"acc", "round", "ovf"};
const std::vector<std::string> kKeysAlign = {"w", "terms"};
const std::vector<std::string> kKeysGroup = {"k", "split", "gran", "promote"};
const std::vector<std::string> kKeysChain = {"promote"};
const std::vector<std::string> kKeysAddend = {"c", "join"};
const std::vector<std::string> kKeysPromote = {"promote-round"};
const std::vector<std::string> kKeysOperand = {"conv", "ovf", "zero"};

constexpr int kMinW = 2, kMaxW = 40, kMinMan = 7, kMaxMan = 23;

// Step rounding with its overflow handling: a toward-zero step that returns Inf on overflow
// (ovf=inf) shows on the same pairs as the rounding direction itself.
std::vector<AccumModel> precision_candidates(const AccumModel& cur, int man_lo, int man_hi) {
  std::vector<AccumModel> out;
  for (const bool ovf : {false, true})
    for (const Rounding step : {Rounding::kTowardZero, Rounding::kNearestEven})
      for (int man = man_hi; man >= man_lo; --man) {
        AccumModel m = cur;
        m.step_round = step;
        m.overflow_inf = ovf;
        m.acc = acc_with_mantissa(man);
        out.push_back(m);
      }
  return out;
}

// w_lo..w_hi, then w = inf.
std::vector<AccumModel> align_candidates(const AccumModel& cur, int w_lo, int w_hi) {
  std::vector<AccumModel> out;
  for (const Rounding terms : {Rounding::kTowardZero, Rounding::kNearestEven})
    for (int w = w_lo; w <= w_hi + 1; ++w) {
      AccumModel m = cur;
      m.term_round = terms;
      m.w = w > w_hi ? 0 : w;
      if (m.w == 0 && terms != Rounding::kTowardZero) continue;  // no cut: terms moot
      out.push_back(m);
    }
  return out;
}

std::vector<AccumModel> chain_candidates(const AccumModel& cur, std::size_t kmax) {
  std::vector<AccumModel> out;
  const std::size_t chunk = static_cast<std::size_t>(cur.k) * static_cast<std::size_t>(cur.split);
  std::vector<std::size_t> promos = {0};
  for (std::size_t p = chunk; p < kmax; p *= 2) promos.push_back(p);
  for (const std::size_t p : promos) {
    AccumModel m = cur;
    m.promote_every = static_cast<int>(p);
    if (valid(m)) out.push_back(m);
  }
  return out;
}

std::vector<AccumModel> group_candidates(const AccumModel& cur, std::size_t kmax) {
  std::vector<AccumModel> out;
  const std::size_t top = std::min<std::size_t>(kmax, 256);
  for (const int split : {1, 2, 4})
    for (std::size_t k = 1; k <= top; k *= 2)
      for (const int gran : {1, 2, 4}) {
        if (split == 1 && gran > 1) continue;
        if (static_cast<std::size_t>(gran) > k || k % static_cast<std::size_t>(gran) != 0) continue;
        const std::size_t chunk = k * static_cast<std::size_t>(split);
        if (chunk > std::max<std::size_t>(kmax, 1)) continue;
        std::vector<std::size_t> promos = {0};
        for (std::size_t p = chunk; p < kmax; p *= 2) promos.push_back(p);
        for (const std::size_t p : promos) {
          AccumModel m = cur;
          m.k = static_cast<int>(k);
          m.split = split;
          m.gran = gran;
          m.promote_every = static_cast<int>(p);
          if (valid(m)) out.push_back(m);
        }
      }
  return out;
}

std::vector<AccumModel> addend_candidates(const AccumModel& cur) {
  std::vector<AccumModel> out;
  for (const CEntry c : {CEntry::kFirst, CEntry::kEnd, CEntry::kPromote})
    for (const bool join : {true, false}) {
      AccumModel m = cur;
      m.c_entry = c;
      m.acc_joins = join;
      if (valid(m)) out.push_back(m);
    }
  return out;
}

std::vector<AccumModel> promote_candidates(const AccumModel& cur) {
  std::vector<AccumModel> out;
  for (const Rounding r : {Rounding::kNearestEven, Rounding::kTowardZero}) {
    AccumModel m = cur;
    m.promote_round = r;
    out.push_back(m);
  }
  return out;
}

std::vector<AccumModel> operand_candidates(const AccumModel& cur, const Family& fam) {
  std::vector<AccumModel> out;
  std::vector<std::optional<ElemFormat>> convs = {std::nullopt};
  for (const char* f : {"fp16", "bf16"}) {
    // A conversion to the operands' own format changes nothing: leave it out.
    const bool same = std::all_of(
        fam.operand_formats.begin(), fam.operand_formats.end(), [&](const std::string& o) {
          return parse_elem_format(o).name_view() == parse_elem_format(f).name_view();
        });
    if (!same) convs.push_back(parse_elem_format(f));
  }
  for (const auto& conv : convs)
    for (const bool ovf : {false, true})
      for (const bool zero : {false, true}) {
        AccumModel m = cur;
        m.conv = conv;
        m.overflow_inf = ovf;
        m.zero_positive = zero;
        out.push_back(m);
      }
  return out;
}

// ---- stages -------------------------------------------------------------------------------

FitStage run_stage(Evaluator& ev, int round, const std::string& name, const std::string& probe,
                   const std::vector<std::string>& keys, const Sel& sel,
                   const std::vector<AccumModel>& cands, AccumModel* cur) {
  FitStage st;
  st.round = round;
  st.name = name;
  st.probe = probe;
  st.pins = fmt::format("{}", fmt::join(keys, ", "));
  const auto tiles = ev.tiles(sel);
  Score base = tiles.empty() ? Score{} : ev.score(*cur, tiles, sel.cf);
  if (base.total == 0) {
    st.chosen = describe(*cur, keys);
    st.note = "no such probe data in these groups: not pinned here (kept)";
    return st;
  }
  std::vector<std::pair<Score, const AccumModel*>> scored;
  for (const AccumModel& m : cands) scored.emplace_back(ev.score(m, tiles, sel.cf), &m);
  std::size_t best = 0;
  for (std::size_t i = 1; i < scored.size(); ++i)
    if (scored[i].first.match > scored[best].first.match) best = i;
  const AccumModel chosen = *scored[best].second;
  st.chosen = describe(chosen, keys);
  st.match = scored[best].first.match;
  st.total = scored[best].first.total;
  // Ties, and the best of the rest (distinct scores, highest first).
  std::vector<std::pair<std::size_t, std::string>> rest;
  for (std::size_t i = 0; i < scored.size(); ++i) {
    if (i == best) continue;
    const std::string d = describe(*scored[i].second, keys);
    if (d == st.chosen) continue;
    if (scored[i].first.match == st.match)
      st.ties.push_back(d);
    else
      rest.emplace_back(scored[i].first.match, d);
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  for (const auto& [mt, d] : rest) {
    if (st.runners_up.size() >= 3) break;
    if (!st.runners_up.empty() && st.runners_up.back().match == mt) continue;
    st.runners_up.push_back({d, mt, st.total});
  }
  *cur = chosen;
  return st;
}

std::string kind_list(const std::vector<std::string>& k) {
  return fmt::format("{}", fmt::join(k, ", "));
}

FitResult fit_family(const Family& fam, int threads) {
  FitResult res;
  Evaluator ev(fam.groups, threads);
  for (const ProbeGroup* g : fam.groups) {
    res.groups.push_back(g->name);
    const std::string f = g->format_a + " x " + g->format_b;
    if (res.formats.find(f) == std::string::npos)
      res.formats += (res.formats.empty() ? "" : ", ") + f;
  }
  res.family = fam.groups.front()->op.empty() ? fam.groups.front()->name : fam.groups.front()->op;

  // Start: one fused step per shortest capture, exact sum, fp32 RNE, C first, IEEE ranges.
  AccumModel cur;
  cur.kind = AccumKind::kFused;
  cur.k = static_cast<int>(std::min<std::size_t>(fam.kmin, 256));
  cur.w = 0;
  cur.c_entry = CEntry::kFirst;

  const Sel s_align{{"pair_gap"}, fam.kmin, 0, CFilter::kZero};
  const std::size_t kgroup = std::max<std::size_t>(fam.kmin * 4, 128);
  const Sel s_group{{"group_pos", "wide", "normal", "cancel"}, kgroup, 0, CFilter::kZero};
  const Sel s_chain{{"group_pos", "wide", "normal", "cancel"}, kAll, 0, CFilter::kZero};
  const Sel s_addend{{"single", "acc_mag", "with_c"}, kAll, 0, CFilter::kNonZero};
  const Sel s_operand{{"single", "subnormal", "wide", "pair_gap"}, kAll, 0, CFilter::kAny};
  const std::string kshort = fmt::format("K = {}", fam.kmin);

  for (int round = 1; round <= 4; ++round) {
    const std::string before = to_string(cur);
    res.stages.push_back(run_stage(ev, round, "precision", "pair_gap (" + kshort + ", C = 0)",
                                   kKeysPrecision, s_align,
                                   precision_candidates(cur, kMinMan, kMaxMan), &cur));
    res.stages.push_back(run_stage(ev, round, "alignment", "pair_gap (" + kshort + ", C = 0)",
                                   kKeysAlign, s_align, align_candidates(cur, kMinW, kMaxW), &cur));
    res.stages.push_back(
        run_stage(ev, round, "grouping",
                  fmt::format("group_pos, wide, normal, cancel (K <= {}, C = 0)", kgroup),
                  kKeysGroup, s_group, group_candidates(cur, std::min(fam.kmax, kgroup)), &cur));
    if (fam.kmax > kgroup)
      res.stages.push_back(run_stage(ev, round, "chain",
                                     "group_pos, wide, normal, cancel (every K, C = 0)", kKeysChain,
                                     s_chain, chain_candidates(cur, fam.kmax), &cur));
    res.stages.push_back(run_stage(ev, round, "addend", "single, acc_mag, with_c (C != 0)",
                                   kKeysAddend, s_addend, addend_candidates(cur), &cur));
    if (res.stages.back().total == 0)
      res.stages.back().note = "no output with C != 0: where C enters is not pinned (kept)";
    if (cur.promote_every > 0) {
      const Sel s_prom{{}, kAll, static_cast<std::size_t>(cur.promote_every), CFilter::kAny};
      res.stages.push_back(
          run_stage(ev, round, "promotion",
                    fmt::format("every kind, K > {} (the promotion interval)", cur.promote_every),
                    kKeysPromote, s_prom, promote_candidates(cur), &cur));
    }
    res.stages.push_back(run_stage(ev, round, "operands", "single, subnormal, wide, pair_gap",
                                   kKeysOperand, s_operand, operand_candidates(cur, fam), &cur));
    if (to_string(cur) == before) break;
  }

  // Everything, then a local search over one-parameter changes while below 100 %.
  const auto all = ev.tiles(Sel{});
  Score sc = ev.score(cur, all, CFilter::kAny);
  auto neighbours = [&](const AccumModel& m) {
    std::vector<AccumModel> n;
    const int w = m.w == 0 ? kMaxW : m.w;
    for (auto& x : precision_candidates(m, std::max(kMinMan, m.acc.man_bits - 2),
                                        std::min(kMaxMan, m.acc.man_bits + 2)))
      n.push_back(x);
    for (auto& x : align_candidates(m, std::max(kMinW, w - 2), std::min(kMaxW, w + 2)))
      n.push_back(x);
    for (auto& x : group_candidates(m, std::min(fam.kmax, kgroup))) n.push_back(x);
    for (auto& x : chain_candidates(m, fam.kmax)) n.push_back(x);
    for (auto& x : addend_candidates(m)) n.push_back(x);
    if (m.promote_every > 0)
      for (auto& x : promote_candidates(m)) n.push_back(x);
    for (auto& x : operand_candidates(m, fam)) n.push_back(x);
    return n;
  };
  for (int it = 0; it < 2 && !sc.full(); ++it) {
    AccumModel best = cur;
    Score best_sc = sc;
    for (const AccumModel& m : neighbours(cur)) {
      const Score s = ev.score(m, all, CFilter::kAny);
      if (s.match > best_sc.match) {
        best = m;
        best_sc = s;
      }
    }
    if (best_sc.match == sc.match) break;
    res.local_search.push_back(fmt::format("{} ({}/{} -> {}/{})", diff(cur, best), sc.match,
                                           sc.total, best_sc.match, best_sc.total));
    cur = best;
    sc = best_sc;
  }
  res.model = cur;
  res.ok = sc.full();
  for (const ProbeGroup* g : fam.groups)
    for (const KindAgreement& r : hwcheck(*g, cur, threads)) res.table.push_back(r);

  if (!res.ok) {
    // The kinds left unexplained, worst first, with what each probe pins.
    std::map<std::string, std::pair<std::size_t, std::size_t>> by_kind;
    for (const auto& r : res.table) {
      by_kind[r.kind].first += r.match;
      by_kind[r.kind].second += r.total;
    }
    std::vector<std::pair<double, std::string>> bad;
    for (const auto& [k, mt] : by_kind)
      if (mt.first < mt.second)
        bad.emplace_back(static_cast<double>(mt.first) / static_cast<double>(mt.second),
                         fmt::format("{} ({}: {}/{})", k, probe_purpose(k), mt.first, mt.second));
    std::sort(bad.begin(), bad.end());
    std::vector<std::string> parts;
    for (const auto& b : bad) parts.push_back(b.second);
    res.failure = fmt::format(
        "no model in the space reproduces {} ({}): unexplained probe kinds {}; best {}/{} with {}",
        res.family, kind_list(res.groups), fmt::join(parts, "; "), sc.match, sc.total,
        to_string(cur));
    return res;
  }

  // Undistinguished: ties of the last round's stages and one-parameter alternatives of the
  // small parameters that also reproduce every output.
  std::vector<AccumModel> alts;
  for (const FitStage& st : res.stages) {
    if (st.round != res.stages.back().round) continue;
    for (const std::string& t : st.ties) {
      try {
        alts.push_back(parse_accum_model(to_string(cur) + "," + t));
      } catch (const AccumModelError&) {
      }
    }
  }
  // One parameter at a time (combinations of undistinguished values are left implicit).
  auto single_key = [&](const std::vector<AccumModel>& v) {
    for (const AccumModel& m : v)
      if (!diff(cur, m).empty() && diff(cur, m).find(',') == std::string::npos) alts.push_back(m);
  };
  single_key(addend_candidates(cur));
  if (cur.promote_every > 0) single_key(promote_candidates(cur));
  single_key(operand_candidates(cur, fam));
  single_key(precision_candidates(cur, std::max(kMinMan, cur.acc.man_bits - 1),
                                  std::min(kMaxMan, cur.acc.man_bits + 1)));
  if (cur.w > 0)
    single_key(align_candidates(cur, std::max(kMinW, cur.w - 1), std::min(kMaxW, cur.w + 1)));
  for (const AccumModel& m : alts) {
    const std::string d = diff(cur, m);
    if (d.empty() || std::find(res.undistinguished.begin(), res.undistinguished.end(), d) !=
                         res.undistinguished.end())
      continue;
    if (ev.score(m, all, CFilter::kAny).full()) res.undistinguished.push_back(d);
  }
  // A combination whose every part is listed alone says nothing new.
  std::erase_if(res.undistinguished, [&](const std::string& d) {
    if (d.find(',') == std::string::npos) return false;
    std::size_t p = 0;
    while (p <= d.size()) {
      const auto q = d.find(',', p);
      const std::string part = d.substr(p, q == std::string::npos ? std::string::npos : q - p);
      if (std::find(res.undistinguished.begin(), res.undistinguished.end(), part) ==
          res.undistinguished.end())
        return false;
      if (q == std::string::npos) break;
      p = q + 1;
    }
    return true;
  });
  return res;
}

}  // namespace

std::string probe_purpose(const std::string& kind) {
  if (kind == "pair_gap") return "alignment width, term cut, step rounding";
  if (kind == "group_pos") return "index grouping, promotion";
  if (kind == "single") return "operand conversion, rounding of C + product";
  if (kind == "acc_mag") return "where C enters, accumulator in the alignment";
  if (kind == "subnormal") return "subnormal operands";
  if (kind == "nan_inf") return "NaN / Inf propagation";
  if (kind == "with_c") return "random data with C";
  return "random data";
}

std::vector<FitResult> hwfit(const ProbeFile& pf, int threads) {
  std::vector<std::string> order;
  std::map<std::string, Family> fams;
  for (const ProbeGroup& g : pf.groups) {
    const std::string key = g.op.empty() ? g.name : g.op;
    if (!fams.count(key)) order.push_back(key);
    Family& f = fams[key];
    f.groups.push_back(&g);
    f.kmin = std::min(f.kmin, g.k);
    f.kmax = std::max(f.kmax, g.k);
    for (const std::string& fm : {g.format_a, g.format_b})
      if (std::find(f.operand_formats.begin(), f.operand_formats.end(), fm) ==
          f.operand_formats.end())
        f.operand_formats.push_back(fm);
  }
  std::vector<FitResult> out;
  for (const auto& key : order) {
    const Family& f = fams[key];
    if (f.kmin == 0) throw HwCheckError(fmt::format("hwfit: {}: a capture with K = 0", key));
    out.push_back(fit_family(f, threads));
  }
  return out;
}

}  // namespace mx
