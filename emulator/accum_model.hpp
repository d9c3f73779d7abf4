// AccumModel: how a dot product of MX (or plain element-format) operands is accumulated.
// One descriptor; the hardware presets are values of it (DESIGN.md "AccumModel",
// ../shared/reference/h100-accumulation.md), never special code paths.
//
// The definition every implementation (emulator/dot.cpp and the oracle in
// tests/oracle/oracle_dot.cpp) follows literally:
//
// Products. p_i = a_i * b_i * 2^(sa_i + sb_i) is exact (sa, sb: the E8M0 scale exponents of
// the blocks holding a_i and b_i; 0 without a shared scale). A NaN element or a NaN scale
// makes p_i NaN; Inf * 0 is NaN; Inf * finite is Inf. An operand's alignment exponent is
// floor(log2 |x|) of its element value x (no scale), but at least the minimum normal
// exponent of the format it is multiplied in (`conv` when set, else its own format; integer
// elements have none). When `conv` is set the element is first converted to it
// (nearest-even, saturating); the converted value is the one multiplied. A product's
// alignment exponent is the sum of its operands' (+ sa + sb when scales apply per product).
//
// kExact: D = round_out(sum_i p_i + C), one rounding of the exact value; an exactly-zero
// sum is +0.
//
// kPairwise: leaves are the exact p_i; a node is round_acc(left + right) with the step
// rounding; the left child takes the first ceil(n/2) indices. D = round_out(tree + C).
//
// kFused: the K indices are cut into chunks of k*split consecutive indices; inside a chunk,
// granules of `gran` consecutive indices are dealt round-robin to `split` groups (split=1:
// one contiguous group of k; split=2, gran=2: indices with k mod 4 in {0,1}, then {2,3}).
// Each non-empty group is one fused step on the running accumulator A:
//   1. participants: the group's non-zero products, and A when acc_joins and A != 0
//      (A's alignment exponent is max(floor(log2 |A|), emin(acc))). Zeros take no part.
//   2. E = the largest alignment exponent among participants; with w > 0 every participant
//      is cut to a multiple of 2^(E - w) (toward zero, or to nearest-even with
//      term_round = nearest-even); w = 0 keeps it exact.
//   3. S = exact sum of the cut participants (+ A exactly when it does not join).
//   4. A = round_acc(S) with step_round; S == 0 gives +0. (An underflow to zero keeps S's
//      sign, as in IEEE 754, unless zero_positive: then every zero step result is +0.)
//      NaN among A and the products gives NaN; Inf of one sign gives that Inf, of both
//      signs NaN. (Finite products are exact whatever their size: a step whose products
//      lie beyond acc's range but whose sum does not returns the rounded sum.)
// A starts as C when c_entry = first, else +0.
// Promotion (promote_every = N > 0, a multiple of k*split): after every N indices, and
// after the last, P = round_promote(P + A) and A restarts at +0; P starts as C when
// c_entry = promote, else +0. With scale_order = block, scales are left out of the products
// and each block is promoted as P = round_promote(P + A * 2^(sa + sb)) (a NaN scale makes
// it NaN); chunking restarts at each block.
// D = round_out(F + C) when c_entry = end, else round_out(F), where F is P when promoting,
// else A.
// round_acc / round_promote: the format's rounding with an unbounded exponent, then IEEE
// overflow (Inf where the format has it and the mode does not clamp, else NaN, else the
// largest finite value). With overflow_inf, round_acc (the fused steps only) never clamps:
// an overflow gives Inf (else NaN, else the largest finite value) in every rounding mode.
// round_out: encode() with the output RoundSpec.
// (overflow_inf and zero_positive model bf16 mma.sync on sm_90, results/HARDWARE.md.)
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "formats/descriptor.hpp"
#include "formats/rounding.hpp"

namespace mx {

// Raised for an unknown preset or a malformed / invalid model string; the message names it.
class AccumModelError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class AccumKind : std::uint8_t { kExact, kPairwise, kFused };
enum class CEntry : std::uint8_t { kEnd, kFirst, kPromote };
enum class ScaleOrder : std::uint8_t { kProduct, kBlock };

struct AccumModel {
  AccumKind kind = AccumKind::kExact;
  // kFused grouping.
  int k = 1;      // products per fused step
  int split = 1;  // groups per chunk of k*split indices
  int gran = 1;   // granule dealt round-robin to the groups (split > 1)
  // kFused alignment.
  int w = 0;                                    // 0: exact step sum
  Rounding term_round = Rounding::kTowardZero;  // toward-zero or nearest-even
  bool acc_joins = true;
  std::optional<ElemFormat> conv;  // operand conversion format
  // kFused / kPairwise step rounding.
  ElemFormat acc = kFp32;
  Rounding step_round = Rounding::kNearestEven;
  // kFused range handling of the steps (defaults: IEEE 754).
  bool overflow_inf = false;   // ovf=inf: a step's overflow is Inf in every rounding mode
  bool zero_positive = false;  // zero=pos: a zero step result is +0 (no -0 on underflow)
  // Where C enters, promotion, scales.
  CEntry c_entry = CEntry::kEnd;
  int promote_every = 0;
  ElemFormat promote = kFp32;
  Rounding promote_round = Rounding::kNearestEven;
  ScaleOrder scale_order = ScaleOrder::kProduct;
  // Output.
  ElemFormat out = kFp32;
  RoundSpec out_round{Rounding::kNearestEven, Overflow::kToNanOrInf, 0};
};

// Parses a model string:
//   exact | fp32-seq | fp32-pairwise | h100-mma | h100-wgmma | h100-wgmma-fast
//   | fused[:key=value,...] | pairwise[:key=value,...] | PRESET:key=value,...
// Keys: k, split, gran, w (integer or inf), terms (toward-zero|nearest-even),
// acc (element format), round (step rounding), conv (element format or none),
// join (0|1), ovf (ieee|inf), zero (sign|pos), c (end|first|promote), promote (N), promote-acc
// (format), promote-round (rounding), scales (product|block), out (format), out-round (rounding).
// Throws AccumModelError naming the culprit; validates (k >= 1, w >= 1 or inf, ...).
AccumModel parse_accum_model(std::string_view s);

// Checks the invariants; throws AccumModelError. parse_accum_model calls it.
void validate(const AccumModel& m);

// The canonical string (parses back to the same model).
std::string to_string(const AccumModel& m);

// The names of the presets, for help texts.
std::vector<std::string_view> accum_preset_names();

}  // namespace mx
