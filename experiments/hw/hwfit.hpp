// Identifies an accumulator model (emulator/accum_model.hpp) from hardware probe data alone
// (tools/hw/probe.py; results/HARDWARE.md, section "hwfit").
//
// The captures of one instruction / library call (groups sharing the `op` attribute) form a
// family. Each family is fitted stage by stage, every stage reading the targeted probe kinds
// that pin its parameters, with the other parameters at their current values:
//   precision  pair_gap at the shortest K, C = 0 (two products at chosen exponent gaps)
//              -> accumulator precision, step rounding, step overflow (ovf)
//   alignment  the same pairs -> W, term cut (truncation / nearest)
//   grouping   group_pos (one large product, tiny ones at random indices), wide, normal,
//              cancel; K <= max(4 * shortest, 128), C = 0 -> k, split, gran, promotion
//   chain      the same kinds at every K (when longer captures exist) -> promotion interval
//   addend     single, acc_mag, with_c, outputs with C != 0 -> where C enters (c), whether
//              the accumulator joins the alignment (join)
//   promotion  every kind of the captures longer than the interval -> promotion rounding
//   operands   single, subnormal, wide, pair_gap -> operand conversion, ovf, zero sign
// The stages repeat until no parameter changes, at most 4 rounds (a parameter fitted early
// on data that a later one also shapes is refitted). Then the model is checked on every kind
// of every group (hwcheck); below 100 % a local search tries one-parameter changes; when
// that fails too, the family is reported as outside the model space, naming the probe kinds
// left unexplained. Alternatives that also reproduce every output are reported as
// undistinguished (one parameter at a time, plus ties of the stages).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/accum_model.hpp"
#include "experiments/hw/hwcheck.hpp"

namespace mx {

struct FitCandidate {
  std::string params;  // key=value,... as in a model string
  std::size_t match = 0, total = 0;
};

struct FitStage {
  int round = 0;
  std::string name;                      // precision, alignment, grouping, chain, addend, ...
  std::string probe;                     // what it reads, e.g. "pair_gap (K = 32, C = 0)"
  std::string pins;                      // the parameters it fits
  std::string chosen;                    // key=value,... of the winner
  std::size_t match = 0, total = 0;      // the winner's agreement on the probe
  std::vector<FitCandidate> runners_up;  // the next best distinct scores (up to 3)
  std::vector<std::string> ties;         // other candidates with the winner's score
  std::string note;                      // e.g. "no output with C != 0: not pinned"
};

struct FitResult {
  std::string family;   // the groups' `op` attribute
  std::string formats;  // e.g. "e4m3 x e4m3, e4m3 x e5m2"
  std::vector<std::string> groups;
  bool ok = false;
  AccumModel model;
  std::vector<FitStage> stages;
  std::vector<std::string> local_search;  // one-parameter changes taken after the stages
  // Modifiers (key=value,...) that, applied to `model`, also reproduce every output.
  std::vector<std::string> undistinguished;
  std::vector<KindAgreement> table;  // per group and kind, as hwcheck prints it
  std::string failure;               // when !ok: the probe kinds no model explains
};

// Fits every family of `pf` (groups grouped by their `op` attribute, in file order).
std::vector<FitResult> hwfit(const ProbeFile& pf, int threads);

// What a probe kind pins (for messages): "alignment width, term cut, step rounding", ...
std::string probe_purpose(const std::string& kind);

}  // namespace mx
