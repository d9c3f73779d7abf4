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
//
// The string form is table-driven (accum_model.cpp): one table of fields (key, the kinds it
// applies to, parser, printer, default, valid values, doc, hwfit's search domain) and one of
// presets (name, canonical descriptor, evidence). Parsing, validation, printing, the help
// text, the error lists, hwfit's candidates and the file attributes all come from them, so
// parse_accum_model(to_string(m)) == m for every valid m.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/descriptor.hpp"
#include "formats/rounding.hpp"

namespace mx {

// Raised for an unknown preset or a malformed / invalid model string; the message names the
// key and value (callers add the flag or config key that held the string).
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
  // Output. Only the mode is a field of the descriptor; overflow and seed stay at these
  // values (validate checks it).
  ElemFormat out = kFp32;
  RoundSpec out_round{Rounding::kNearestEven, Overflow::kToNanOrInf, 0};
};

// Every member compared (formats by layout, not by name).
bool operator==(const AccumModel& a, const AccumModel& b);

// Parses a model string:  KIND[:key=value,...] | PRESET[:key=value,...]
// KIND is exact, pairwise or fused (their defaults); the presets and keys are listed by
// accum_help(). A key sets one field over the preset's or kind's value; a key that does not
// apply to the kind is an error. Throws AccumModelError naming the culprit; validates.
// `given` (optional) receives the keys the string set explicitly, in order.
AccumModel parse_accum_model(std::string_view s, std::vector<std::string>* given = nullptr);

// Checks the invariants (each field's range, fields of other kinds at their defaults, the
// relations between fields); throws AccumModelError. parse_accum_model calls it.
void validate(const AccumModel& m);

// The canonical string: the kind, then every field that applies to it in table order
// (ovf and zero only when not IEEE's, so that older strings stay canonical), formats under
// their catalogue name. Lossless: parse_accum_model(to_string(m)) == m.
std::string to_string(const AccumModel& m);

// ---- the tables -------------------------------------------------------------------------

struct AccumField {
  std::string_view key;   // as in a model string: "k", "out-round"
  std::string_view attr;  // as a file attribute / identifier: "k", "out_round"
  unsigned kinds = 0;     // bit (1 << AccumKind) of every kind the field applies to
  std::string_view doc;   // one line
  std::string values;     // the valid values, for help and error messages
  bool terse = false;     // printed only when it differs from the default
  std::function<std::string(const AccumModel&)> get;                   // canonical value text
  std::function<void(AccumModel&, std::string_view)> set;              // throws AccumModelError
  std::function<std::optional<std::string>(const AccumModel&)> check;  // range: why not
  std::function<std::string(std::mt19937_64&)> sample;                 // a random valid value
  // hwfit's search values, given the candidate built so far (keys earlier in a search are
  // already set); empty: not searched.
  std::function<std::vector<std::string>(const AccumModel&)> fit_domain;

  bool applies(AccumKind k) const { return (kinds >> static_cast<unsigned>(k)) & 1u; }
};

struct AccumPreset {
  std::string_view name;
  std::vector<std::string_view> aliases;
  std::string_view descriptor;  // canonical (a test checks to_string(parse(d)) == d)
  std::string_view evidence;    // where it was measured: results/HARDWARE.md section, capture
};

std::span<const AccumField> accum_fields();
const AccumField* find_accum_field(std::string_view key);
std::span<const AccumPreset> accum_presets();
std::string_view accum_kind_name(AccumKind k);

// The names of the presets and their aliases, for help texts.
std::vector<std::string_view> accum_preset_names();

// Kinds, fields (key, kinds, values, default, doc) and presets (name, aliases, descriptor,
// evidence): `mxlab accum --list`. `short_form`: one paragraph for a flag's help.
std::string accum_help(bool short_form = false);

// One (attribute name, value) pair per field, every field (those of other kinds at their
// defaults), plus "kind": what golden and result files store next to the descriptor.
std::vector<std::pair<std::string, std::string>> accum_attributes(const AccumModel& m);

}  // namespace mx
