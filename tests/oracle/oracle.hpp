// mx_oracle: independent, deliberately simple reference model of the OCP
// Microscaling (MX) v1.0 element and scale formats, used to check the fast
// codecs in formats/.  It shares no code with formats/.
//
// References ("spec" below):
//   OCP Microscaling Formats (MX) Specification v1.0, Sept. 2023.
//     §5.3 Element data types: §5.3.1 FP8 (E4M3, E5M2), §5.3.2 FP6 (E3M2,
//          E2M3), §5.3.3 FP4 (E2M1), §5.3.4 INT8 (two's complement, scale 2^-6)
//     §5.4 Scale data type: §5.4.1 E8M0 (2^(c-127), 0xFF = NaN)
//     §6.3 Conversion of a vector of scalars to an MX block (the "floor"
//          scale rule: X = 2^(floor(log2(amax)) - emax_elem); Inf/NaN input
//          gives a NaN scale).
//   The rounding and overflow rules of the element conversion (all six modes,
//   both overflow policies, e8m0 rounding, the ceil/even/rceil scale rules)
//   are the project's decisions, modelled on IEEE 754-2019 §4.3
//   (rounding-direction attributes) and §7.4 (overflow); see round_rational.
//   OCP 8-bit Floating Point Specification (OFP8) rev 1.0, §3 (E4M3 has no
//   Inf and only S.1111.111 NaNs; E5M2 follows IEEE 754 conventions).
//   IEEE 754-2019 §3.4 (binary interchange encoding) for fp16/bf16/fp32.
//
// All values are carried as exact rationals (boost::multiprecision
// cpp_rational); nothing here uses floating-point arithmetic for a rounding
// decision except fill_expected_codes, whose use of double is justified at
// its definition.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>

namespace mx_oracle {

using Integer = boost::multiprecision::cpp_int;
using Rational = boost::multiprecision::cpp_rational;

// Rounding modes.  "Even"/"odd" always refer to the least significant bit of
// the format's code (see round_rational).
enum class Mode {
  kNearestEven,     // round to nearest, ties to even code LSB
  kNearestAway,     // round to nearest, ties away from zero
  kTowardZero,      // truncate magnitude
  kTowardPositive,  // ceiling
  kTowardNegative,  // floor
  kOdd,             // round to odd: if inexact, the neighbour whose code LSB is 1
  kStochastic,      // with 64 random bits r: the upper neighbour iff r < floor(2^64 * frac),
                    // frac = (|x| - lo) / (hi - lo) (round_rational_flags only)
};

// kInfAlways: the accumulators' ovf=inf, an overflow is Inf (NaN, MAX without them) in every
// mode; kToNanOrInf clamps in the modes that round toward MAX (IEEE 754 §7.4).
enum class Overflow { kSaturate, kToNanOrInf, kInfAlways };

// Format descriptor (oracle-private; unrelated to any descriptor in formats/).
struct Format {
  enum class Kind {
    kFloat,  // sign | E exponent bits | M mantissa bits, IEEE-style finite values
    kInt,    // intN: two's complement k, value k * 2^-(N-2)
    kE8M0,   // MX scale: unsigned 8-bit exponent, value 2^(c-127), 0xFF = NaN
  };
  // Encoding of the all-ones exponent field of a kFloat format.
  enum class Special {
    kFiniteOnly,  // all codes are finite (FP6/FP4, spec §5.3.2 / §5.3.3)
    kNanOnly,     // "fn": only S.111..1.11..1 is NaN, no Inf (E4M3, OFP8 §3)
    kIeee,        // exponent all ones: mantissa 0 = Inf, else NaN (IEEE 754 §3.4)
  };

  std::string name;
  Kind kind = Kind::kFloat;
  int bits = 0;                            // total code width
  int exp_bits = 0;                        // E (kFloat), 8 (kE8M0), 0 (kInt)
  int man_bits = 0;                        // M (kFloat), 0 (kE8M0), N-2 fraction bits (kInt)
  int bias = 0;                            // 2^(E-1)-1 (kFloat), 127 (kE8M0), 0 (kInt)
  Special special = Special::kFiniteOnly;  // meaningful for kFloat only

  bool has_inf() const { return kind == Kind::kFloat && special == Special::kIeee; }
  bool has_nan() const {
    return kind == Kind::kE8M0 || (kind == Kind::kFloat && special != Special::kFiniteOnly);
  }
  bool has_sign() const { return kind != Kind::kE8M0; }
};

// Names: e4m3 (= e4m3fn), e5m2 (= e5m2ieee), e3m2, e2m3, e2m1, fp16 (= e5m10ieee),
// bf16 (= e8m7ieee), fp32 (= e8m23ieee), e8m0 (the MX scale), intN (N in 2..16),
// and generic eXmY / eXmYfn / eXmYieee (X in 1..8, Y in 0..23), finite-only by
// default.  Throws std::invalid_argument on unknown or degenerate names
// (e1m0fn and e1m0ieee have no positive finite value; eXm0ieee cannot encode
// NaN).
Format format_by_name(std::string_view name);

struct Decoded {
  enum Class { kFinite, kInf, kNaN } cls;
  bool negative;   // sign bit (for intN: k < 0); -0 has negative = true, value 0
  Rational value;  // exact signed value for kFinite, 0 otherwise
};

// Throws std::out_of_range if code has bits set above the format width.
Decoded decode(const Format& f, uint32_t code);

// 2^bits.  Throws std::out_of_range if that does not fit in an int (bits >= 31).
int num_codes(const Format& f);

// ---- Format facts (all exact) ----------------------------------------------
// Largest finite magnitude on the given side (intN: 2^(N-1) * 2^-(N-2) on the
// negative side, (2^(N-1)-1) * 2^-(N-2) on the positive side).
Rational max_value(const Format& f, bool negative = false);
// Code of +MAX / -MAX (intN: the code of -2^(N-1) on the negative side).
uint32_t max_code(const Format& f, bool negative = false);
// Canonical NaN with the given sign bit (e8m0: 0xFF).  Throws if !has_nan().
uint32_t nan_code(const Format& f, bool negative);
// Signed infinity.  Throws if !has_inf().
uint32_t inf_code(const Format& f, bool negative);
// Exponent of the largest finite value, floor(log2(MAX)) (e4m3 8, e5m2 15,
// e3m2 4, e2m3 2, e2m1 2, intN 0).
int emax(const Format& f);

// ---- Exact helpers ----------------------------------------------------------
Rational pow2(int k);                            // 2^k exactly
int floor_log2(const Rational& r);               // r > 0
Rational rational_from_double(double x);         // x finite; exact
double double_from_rational(const Rational& r);  // throws unless exactly representable

// ---- Rounding ---------------------------------------------------------------
// Correctly rounds the real number (negative ? -magnitude : magnitude) to a
// code.  magnitude must be >= 0; negative with magnitude 0 means -0.
uint32_t round_rational(const Format& f, bool negative, const Rational& magnitude, Mode mode,
                        Overflow overflow);
// Same for a double (NaN, +-Inf and -0 allowed).  Any float converts exactly.
uint32_t round_to_code(const Format& f, double x, Mode mode, Overflow overflow);

// Status flags of a conversion (the bit values are mxlab's, but defined here on their own):
//   inexact    the result differs from the exact value (also on every overflow);
//   underflow  inexact and tiny BEFORE rounding: a float format's |x| < 2^emin; for e8m0
//              every |x| < 2^-127 (zero included); intN never;
//   overflow   the rounding with an unbounded exponent is beyond MAX on x's side;
//   saturated  the result is MAX (on x's side) because of an overflow or an infinity;
//   invalid    NaN into a format without NaN, x < 0 into e8m0, an infinity into a format
//              (or policy) that gives NaN or MAX for it.
// NaN into a format with NaN, zeros and Inf -> Inf raise nothing.
enum Flag : unsigned {
  kFlagInexact = 1,
  kFlagUnderflow = 2,
  kFlagOverflow = 4,
  kFlagSaturated = 8,
  kFlagInvalid = 16,
};
struct Rounded {
  uint32_t code = 0;
  unsigned flags = 0;
};
// round_rational / round_to_code with the flags; `rnd` is used by Mode::kStochastic only.
Rounded round_rational_flags(const Format& f, bool negative, const Rational& magnitude, Mode mode,
                             Overflow overflow, uint64_t rnd = 0);
Rounded round_to_code_flags(const Format& f, double x, Mode mode, Overflow overflow,
                            uint64_t rnd = 0);

// ---- Exhaustive helper ------------------------------------------------------
// Sorted table of a format's finite magnitudes (one per sign side) used to
// produce expected codes for runs of consecutive fp32 inputs quickly.
// Throws std::invalid_argument for formats wider than 24 bits (e.g. fp32).
class Table {
 public:
  explicit Table(const Format& f);

  struct Side {
    // value[0] = 0 < value[1] < ... < value[virt - 1] = MAX < value[virt] =
    // the virtual value above MAX < value[virt + 1] = +infinity (sentinel).
    std::vector<double> value;
    // mid[j] = (value[j] + value[j+1]) / 2 for j < virt.
    std::vector<double> mid;
    // code[j] = signed code of +-value[j] for j < virt.
    std::vector<uint32_t> code;
    // odd[j] = LSB of code[j]; for virt, the opposite of MAX's LSB.
    std::vector<uint8_t> odd;
    size_t virt = 0;
    // e8m0 only: every input in [value[0], value[1]) = [0, 2^-127) gives code 0.
    bool first_interval_is_min = false;
  };

  const Format& format() const { return fmt_; }
  // Negative side is unused (empty) for e8m0.
  const Side& side(bool negative) const { return negative ? neg_ : pos_; }

 private:
  Format fmt_;
  Side pos_;
  Side neg_;
};

// out[i] = round_to_code(format, fp32 bit pattern first + i, mode, overflow)
// for i < count.  first .. first+count-1 must not wrap and must lie in one sign
// half.  Throws std::invalid_argument otherwise.
void fill_expected_codes(const Table& table, Mode mode, Overflow overflow, uint32_t first,
                         uint32_t count, uint32_t* out);

// ---- MX block (spec §6.3) ---------------------------------------------------
enum class ScaleRule {
  kFloor,  // s = floor(log2 amax) - emax_elem           (spec §6.3)
  kCeil,   // s = ceil(log2 amax) - emax_elem
  kEven,   // amax rounded nearest-even to the element precision, then kFloor
  kRceil,  // smallest integer s with amax / 2^s <= MAX_elem
};

// Unclamped scale exponent for amax > 0 (exact; no floating-point log2).
int scale_exponent(const Format& elem, ScaleRule rule, const Rational& amax);

struct BlockResult {
  uint32_t scale_code;
  std::vector<uint32_t> elem_codes;
  std::vector<float> dequantized;
};

// elem must be a kFloat or kInt format.
BlockResult mx_block(const Format& elem, ScaleRule rule, Mode mode, Overflow overflow,
                     const float* x, size_t n);

}  // namespace mx_oracle
