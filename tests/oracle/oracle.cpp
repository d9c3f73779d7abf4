// mx_oracle implementation.  See oracle.hpp for the references.  Everything
// here is written from the OCP MX v1.0 / OFP8 / IEEE 754 definitions and the
// project's rounding decisions; nothing is shared with formats/.
#include "tests/oracle/oracle.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace mx_oracle {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::logic_error("mx_oracle: " + what); }

// Parses a decimal integer occupying all of s; returns -1 on failure.
int parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 3) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  if (s.size() > 1 && s[0] == '0') return -1;  // no leading zeros: one spelling per format
  return v;
}

Format make_float(std::string_view name, int e, int m, Format::Special special) {
  Format f;
  f.name = std::string(name);
  f.kind = Format::Kind::kFloat;
  f.bits = 1 + e + m;
  f.exp_bits = e;
  f.man_bits = m;
  f.bias = (1 << (e - 1)) - 1;  // IEEE 754 §3.4 / OCP MX §5.3: bias = 2^(E-1) - 1
  f.special = special;
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------
// Exact helpers
// ---------------------------------------------------------------------------

Rational pow2(int k) {
  if (k >= 0) return Rational(Integer(1) << k);
  return Rational(Integer(1), Integer(1) << -k);
}

int floor_log2(const Rational& r) {
  if (r <= 0) throw std::invalid_argument("mx_oracle: floor_log2 of a non-positive number");
  const Integer n = boost::multiprecision::numerator(r);
  const Integer d = boost::multiprecision::denominator(r);
  // n in [2^a, 2^(a+1)), d in [2^b, 2^(b+1))  =>  r in (2^(a-b-1), 2^(a-b+1)).
  int e = static_cast<int>(boost::multiprecision::msb(n)) -
          static_cast<int>(boost::multiprecision::msb(d));
  if (r < pow2(e)) --e;
  return e;
}

Rational rational_from_double(double x) {
  if (!std::isfinite(x))
    throw std::invalid_argument("mx_oracle: rational_from_double of a non-finite value");
  if (x == 0) return Rational(0);
  int e = 0;
  const double f = std::frexp(std::fabs(x), &e);  // |x| = f * 2^e, f in [0.5, 1)
  // f * 2^53 is an integer below 2^53 (a double has 53 significant bits).
  const auto m = static_cast<uint64_t>(std::ldexp(f, 53));
  Rational r = Rational(Integer(m)) * pow2(e - 53);
  return x < 0 ? Rational(-r) : r;
}

double double_from_rational(const Rational& r) {
  if (r == 0) return 0.0;
  Integer n = boost::multiprecision::numerator(r);
  const Integer d = boost::multiprecision::denominator(r);
  const bool neg = n < 0;
  if (neg) n = -n;
  const auto db = static_cast<int>(boost::multiprecision::msb(d));
  if (d != (Integer(1) << db))
    throw std::invalid_argument("mx_oracle: double_from_rational: not a dyadic rational");
  // Strip trailing zero bits so the integer part fits 53 bits when it can.
  const auto lsb = static_cast<int>(boost::multiprecision::lsb(n));
  n >>= lsb;
  if (boost::multiprecision::msb(n) >= 53)
    throw std::invalid_argument("mx_oracle: double_from_rational: more than 53 bits");
  const double v = std::ldexp(static_cast<double>(n.convert_to<uint64_t>()), lsb - db);
  if (rational_from_double(v) != (neg ? Rational(-r) : r))
    throw std::invalid_argument("mx_oracle: double_from_rational: not exactly representable");
  return neg ? -v : v;
}

// ---------------------------------------------------------------------------
// Format catalogue
// ---------------------------------------------------------------------------

Format format_by_name(std::string_view name) {
  using S = Format::Special;
  // Catalogue (OCP MX v1.0 §5.3 / OFP8 §3 / IEEE 754 §3.6 table 3.5).
  if (name == "e4m3") return make_float(name, 4, 3, S::kNanOnly);     // MXFP8 E4M3: S.1111.111 NaN
  if (name == "e5m2") return make_float(name, 5, 2, S::kIeee);        // MXFP8 E5M2: IEEE-like
  if (name == "e3m2") return make_float(name, 3, 2, S::kFiniteOnly);  // MXFP6 E3M2
  if (name == "e2m3") return make_float(name, 2, 3, S::kFiniteOnly);  // MXFP6 E2M3
  if (name == "e2m1") return make_float(name, 2, 1, S::kFiniteOnly);  // MXFP4 E2M1
  if (name == "fp16") return make_float(name, 5, 10, S::kIeee);       // IEEE binary16
  if (name == "bf16") return make_float(name, 8, 7, S::kIeee);        // bfloat16
  if (name == "fp32") return make_float(name, 8, 23, S::kIeee);       // IEEE binary32
  if (name == "e8m0") {
    // OCP MX v1.0 §5.4.1: E8M0 scale, unsigned, bias 127, 0xFF = NaN, no zero/Inf.
    Format f;
    f.name = "e8m0";
    f.kind = Format::Kind::kE8M0;
    f.bits = 8;
    f.exp_bits = 8;
    f.man_bits = 0;
    f.bias = 127;
    return f;
  }
  if (name.size() > 3 && name.substr(0, 3) == "int") {
    // intN; int8 is MXINT8 (OCP MX v1.0 §5.3.4): two's complement with an
    // implicit scale of 2^-6, i.e. value k * 2^-(N-2).
    const int n = parse_uint(name.substr(3));
    if (n < 2 || n > 16)
      throw std::invalid_argument("mx_oracle: bad int width: " + std::string(name));
    Format f;
    f.name = std::string(name);
    f.kind = Format::Kind::kInt;
    f.bits = n;
    f.exp_bits = 0;
    f.man_bits = n - 2;
    f.bias = 0;
    return f;
  }
  if (name.size() >= 4 && name[0] == 'e') {
    const size_t mpos = name.find('m');
    if (mpos != std::string_view::npos && mpos > 1) {
      const int e = parse_uint(name.substr(1, mpos - 1));
      size_t end = mpos + 1;
      while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
      const int m = parse_uint(name.substr(mpos + 1, end - mpos - 1));
      const std::string_view suffix = name.substr(end);
      S special;
      bool ok = true;
      if (suffix.empty()) {
        special = S::kFiniteOnly;
      } else if (suffix == "fn") {
        special = S::kNanOnly;
      } else if (suffix == "ieee") {
        special = S::kIeee;
      } else {
        special = S::kFiniteOnly;
        ok = false;
      }
      if (ok && e >= 1 && e <= 8 && m >= 0 && m <= 23) {
        if (special == S::kIeee && m == 0)
          throw std::invalid_argument(
              "mx_oracle: IEEE format without mantissa cannot encode NaN: " + std::string(name));
        if (special != S::kFiniteOnly && e == 1 && m == 0)
          throw std::invalid_argument("mx_oracle: format has no positive finite value: " +
                                      std::string(name));
        return make_float(name, e, m, special);
      }
    }
  }
  throw std::invalid_argument("mx_oracle: unknown format name: " + std::string(name));
}

int num_codes(const Format& f) {
  if (f.bits >= 31)
    throw std::out_of_range("mx_oracle: num_codes does not fit in int for " + f.name);
  return 1 << f.bits;
}

// ---------------------------------------------------------------------------
// Decoding (OCP MX v1.0 §5.3 element encodings, §5.4.1 E8M0; IEEE 754 §3.4)
// ---------------------------------------------------------------------------

Decoded decode(const Format& f, uint32_t code) {
  if (f.bits < 32 && (code >> f.bits) != 0)
    throw std::out_of_range("mx_oracle: code wider than format " + f.name);
  Decoded d{Decoded::kFinite, false, Rational(0)};
  switch (f.kind) {
    case Format::Kind::kE8M0:
      // §5.4.1: value 2^(c - 127); 0xFF is NaN.  No sign, no zero.
      if (code == 0xFF) {
        d.cls = Decoded::kNaN;
      } else {
        d.value = pow2(static_cast<int>(code) - 127);
      }
      return d;
    case Format::Kind::kInt: {
      // §5.3.4: two's complement integer k scaled by 2^-(N-2).
      int64_t k = code;
      if (code >> (f.bits - 1)) k -= int64_t{1} << f.bits;
      d.negative = k < 0;
      d.value = Rational(Integer(k)) * pow2(-f.man_bits);
      return d;
    }
    case Format::Kind::kFloat: {
      const uint32_t exp_all_ones = (1u << f.exp_bits) - 1;
      const uint32_t man_all_ones = (1u << f.man_bits) - 1;
      const uint32_t s = code >> (f.bits - 1);
      const uint32_t ef = (code >> f.man_bits) & exp_all_ones;
      const uint32_t mf = code & man_all_ones;
      d.negative = s != 0;
      if (ef == exp_all_ones) {
        if (f.special == Format::Special::kIeee) {  // IEEE 754 §3.4 (b)/(c)
          d.cls = mf == 0 ? Decoded::kInf : Decoded::kNaN;
          return d;
        }
        if (f.special == Format::Special::kNanOnly && mf == man_all_ones) {  // OFP8 §3: S.1111.111
          d.cls = Decoded::kNaN;
          return d;
        }
      }
      Rational mag;
      if (ef == 0) {
        // Subnormal (or zero): 0.m * 2^(1 - bias).
        mag = Rational(Integer(mf)) * pow2(1 - f.bias - f.man_bits);
      } else {
        // Normal: 1.m * 2^(e - bias).
        mag = Rational(Integer((uint64_t{1} << f.man_bits) + mf)) *
              pow2(static_cast<int>(ef) - f.bias - f.man_bits);
      }
      d.value = d.negative ? Rational(-mag) : mag;
      return d;
    }
  }
  fail("decode: bad kind");
}

// ---------------------------------------------------------------------------
// Format facts
// ---------------------------------------------------------------------------

uint32_t max_code(const Format& f, bool negative) {
  switch (f.kind) {
    case Format::Kind::kE8M0:
      return 0xFE;  // 2^127
    case Format::Kind::kInt:
      // +MAX: k = 2^(N-1)-1; -MAX: k = -2^(N-1) whose pattern is 1 << (N-1).
      return negative ? (1u << (f.bits - 1)) : ((1u << (f.bits - 1)) - 1);
    case Format::Kind::kFloat: {
      const uint32_t sign = negative ? (1u << (f.bits - 1)) : 0;
      const uint32_t all_but_sign = (1u << (f.bits - 1)) - 1;
      switch (f.special) {
        case Format::Special::kFiniteOnly:
          return sign | all_but_sign;  // every code is finite
        case Format::Special::kNanOnly:
          return sign | (all_but_sign - 1);  // all ones is NaN; one below it
        case Format::Special::kIeee:
          // exponent all ones minus one, mantissa all ones
          return sign | ((((1u << f.exp_bits) - 2) << f.man_bits) | ((1u << f.man_bits) - 1));
      }
    }
  }
  fail("max_code: bad kind");
}

Rational max_value(const Format& f, bool negative) {
  Rational v = decode(f, max_code(f, negative)).value;
  return v < 0 ? Rational(-v) : v;
}

uint32_t nan_code(const Format& f, bool negative) {
  if (!f.has_nan()) throw std::invalid_argument("mx_oracle: format has no NaN: " + f.name);
  if (f.kind == Format::Kind::kE8M0) return 0xFF;
  const uint32_t sign = negative ? (1u << (f.bits - 1)) : 0;
  const uint32_t exp_ones = ((1u << f.exp_bits) - 1) << f.man_bits;
  if (f.special == Format::Special::kNanOnly) return sign | exp_ones | ((1u << f.man_bits) - 1);
  return sign | exp_ones | (1u << (f.man_bits - 1));  // IEEE: quiet bit = top mantissa bit
}

uint32_t inf_code(const Format& f, bool negative) {
  if (!f.has_inf()) throw std::invalid_argument("mx_oracle: format has no Inf: " + f.name);
  const uint32_t sign = negative ? (1u << (f.bits - 1)) : 0;
  return sign | (((1u << f.exp_bits) - 1) << f.man_bits);
}

int emax(const Format& f) { return floor_log2(max_value(f)); }

// ---------------------------------------------------------------------------
// Rounding.  The project's decisions, modelled on IEEE 754-2019 §4.3
// (rounding directions) and §7.4 (overflow); OCP MX v1.0 §6.3 only asks for a
// conversion to the element type with normal numbers clamped (= saturate).
//
// For a nonzero magnitude m, lo <= m < hi are adjacent points of the format's
// grid on the side of the sign of x.  Above MAX the grid continues as if the
// exponent were unbounded, so the point after MAX is MAX + (spacing of MAX's
// binade) (the "virtual" value; its code parity is the opposite of MAX's).
// The mode picks lo or hi (pick_neighbor).  A pick above MAX is an overflow,
// resolved by overflow_code.
// ---------------------------------------------------------------------------

namespace {

enum class Relation { kExact, kBelowMid, kTie, kAboveMid };
enum class Pick { kLo, kHi };

Relation relation(const Rational& m, const Rational& lo, const Rational& hi) {
  if (m == lo) return Relation::kExact;
  const Rational mid = (lo + hi) / 2;
  if (m < mid) return Relation::kBelowMid;
  if (m == mid) return Relation::kTie;
  return Relation::kAboveMid;
}

// lo < |x| < hi unless rel == kExact (|x| == lo).  Neighbouring grid points
// always have codes of opposite parity, so exactly one of lo_odd/hi_odd holds.
Pick pick_neighbor(Mode mode, bool negative, Relation rel, bool lo_odd, bool hi_odd) {
  if (rel == Relation::kExact) return Pick::kLo;
  if (lo_odd == hi_odd) fail("pick_neighbor: neighbours with equal parity");
  switch (mode) {
    case Mode::kNearestEven:
      if (rel == Relation::kBelowMid) return Pick::kLo;
      if (rel == Relation::kAboveMid) return Pick::kHi;
      return lo_odd ? Pick::kHi : Pick::kLo;
    case Mode::kNearestAway:
      return rel == Relation::kBelowMid ? Pick::kLo : Pick::kHi;
    case Mode::kTowardZero:
      return Pick::kLo;
    case Mode::kTowardPositive:  // larger value: smaller magnitude when negative
      return negative ? Pick::kLo : Pick::kHi;
    case Mode::kTowardNegative:
      return negative ? Pick::kHi : Pick::kLo;
    case Mode::kOdd:
      return lo_odd ? Pick::kLo : Pick::kHi;
    case Mode::kStochastic:
      break;
  }
  fail("pick_neighbor: bad mode");
}

// pick_neighbor, and stochastic rounding: the upper neighbour iff rnd < floor(2^64 * frac).
Pick choose(Mode mode, bool negative, const Rational& m, const Rational& lo, const Rational& hi,
            bool lo_odd, bool hi_odd, uint64_t rnd) {
  const Relation rel = relation(m, lo, hi);
  if (mode != Mode::kStochastic) return pick_neighbor(mode, negative, rel, lo_odd, hi_odd);
  if (rel == Relation::kExact) return Pick::kLo;
  const Rational scaled = (m - lo) / (hi - lo) * Rational(Integer(1) << 64);
  const Integer threshold =
      boost::multiprecision::numerator(scaled) / boost::multiprecision::denominator(scaled);
  return Integer(rnd) < threshold ? Pick::kHi : Pick::kLo;
}

// The chosen magnitude exceeds MAX (on x's side).
uint32_t overflow_code(const Format& f, Mode mode, bool negative, Overflow ov) {
  const bool toward_max = mode == Mode::kTowardZero || mode == Mode::kOdd ||
                          (mode == Mode::kTowardPositive && negative) ||
                          (mode == Mode::kTowardNegative && !negative);
  const bool to_max = ov == Overflow::kSaturate || (ov == Overflow::kToNanOrInf && toward_max);
  if (to_max) return max_code(f, negative);
  if (f.has_inf()) return inf_code(f, negative);
  if (f.has_nan()) return nan_code(f, negative);
  return max_code(f, negative);
}

Rounded overflow_result(const Format& f, Mode mode, bool negative, Overflow ov) {
  const uint32_t code = overflow_code(f, mode, negative, ov);
  unsigned flags = kFlagOverflow | kFlagInexact;
  if (code == max_code(f, negative)) flags |= kFlagSaturated;
  return {code, flags};
}

// Flags of a finite, non-overflowing result r for the exact magnitude m.
unsigned finite_flags(const Rational& r, const Rational& m, bool tiny) {
  if (r == m) return 0;
  return kFlagInexact | (tiny ? kFlagUnderflow : 0u);
}

// Code (sign bit clear) of a finite magnitude v that lies on a kFloat grid.
uint32_t float_magnitude_code(const Format& f, const Rational& v) {
  if (v == 0) return 0;
  const int emin = 1 - f.bias;
  const int e = floor_log2(v);
  uint32_t code;
  if (e < emin) {
    const Rational u = v / pow2(emin - f.man_bits);
    if (boost::multiprecision::denominator(u) != 1) fail("float_magnitude_code: off grid");
    code = numerator(u).convert_to<uint32_t>();
  } else {
    const Rational u = v / pow2(e - f.man_bits);  // in [2^M, 2^(M+1))
    if (boost::multiprecision::denominator(u) != 1) fail("float_magnitude_code: off grid");
    const uint32_t mant = numerator(u).convert_to<uint32_t>() - (1u << f.man_bits);
    code = (static_cast<uint32_t>(e + f.bias) << f.man_bits) | mant;
  }
  // Self-check against the decoder.
  const Decoded d = decode(f, code);
  if (d.cls != Decoded::kFinite || d.value != v) fail("float_magnitude_code: decode mismatch");
  return code;
}

Rounded round_float(const Format& f, bool negative, const Rational& m, Mode mode, Overflow ov,
                    uint64_t rnd) {
  const uint32_t sign = negative ? (1u << (f.bits - 1)) : 0;
  if (m == 0) return {sign, 0};  // zero keeps the sign of x
  const Rational maxv = max_value(f);
  // Grid spacing in the binade of m: 2^(max(e, emin) - M) (IEEE 754 §3.3).
  const int emin = 1 - f.bias;
  const int e = floor_log2(m);
  const Rational q = pow2(std::max(e, emin) - f.man_bits);
  const Rational units = m / q;
  const Integer lo_units = boost::multiprecision::numerator(units) /
                           boost::multiprecision::denominator(units);  // floor (positive)
  const Rational lo = Rational(lo_units) * q;
  const Rational hi = lo + q;
  // lo > MAX: both neighbours are beyond MAX, so every mode overflows.
  if (lo > maxv) return overflow_result(f, mode, negative, ov);
  const bool hi_virtual = hi > maxv;  // then hi == MAX + spacing(MAX)
  const bool lo_odd = (float_magnitude_code(f, lo) & 1) != 0;
  const bool hi_odd = hi_virtual ? (max_code(f) & 1) == 0 : (float_magnitude_code(f, hi) & 1) != 0;
  const Pick p = choose(mode, negative, m, lo, hi, lo_odd, hi_odd, rnd);
  if (p == Pick::kHi && hi_virtual) return overflow_result(f, mode, negative, ov);
  const Rational& r = p == Pick::kLo ? lo : hi;
  return {sign | float_magnitude_code(f, r), finite_flags(r, m, e < emin)};
}

Rounded round_int(const Format& f, bool negative, const Rational& m, Mode mode, Overflow ov,
                  uint64_t rnd) {
  // Grid: integers k (in units of 2^-(N-2)); side MAX is 2^(N-1)-1 or 2^(N-1).
  const Rational units = m * pow2(f.man_bits);
  const Integer lo_k =
      boost::multiprecision::numerator(units) / boost::multiprecision::denominator(units);
  const Integer side_max =
      negative ? (Integer(1) << (f.bits - 1)) : (Integer(1) << (f.bits - 1)) - 1;
  if (lo_k > side_max) return overflow_result(f, mode, negative, ov);
  const Integer hi_k = lo_k + 1;
  // Parity of the code LSB = parity of k (two's complement); for the virtual
  // value side_max+1 that is also the opposite of MAX's parity.
  const bool lo_odd = (lo_k & 1) != 0;
  const bool hi_odd = (hi_k & 1) != 0;
  const Pick p = choose(mode, negative, units, Rational(lo_k), Rational(hi_k), lo_odd, hi_odd, rnd);
  const Integer k = p == Pick::kLo ? lo_k : hi_k;
  if (k > side_max) return overflow_result(f, mode, negative, ov);
  const uint32_t mask = (1u << f.bits) - 1;
  const auto kk = k.convert_to<uint32_t>();
  // intN has no -0: k = 0 gives code 0; no tininess on a uniform grid.
  return {negative ? ((0u - kk) & mask) : kk, finite_flags(Rational(k), units, false)};
}

Rounded round_e8m0(const Format& f, bool negative, const Rational& m, Mode mode, Overflow ov,
                   uint64_t rnd) {
  // Project decisions for the unsigned E8M0 scale (§5.4.1 has no sign/zero).
  if (negative && m != 0) return {0xFF, kFlagInvalid};  // x < 0 (not -0) -> NaN
  if (m < pow2(-127))  // below 2^-127, including +-0 -> 2^-127, every mode
    return {0, kFlagUnderflow | kFlagInexact};
  const int e = floor_log2(m);  // lo = 2^e, hi = 2^(e+1), codes e+127, e+128
  if (e > 127) return overflow_result(f, mode, false, ov);
  const Rational lo = pow2(e);
  const Rational hi = pow2(e + 1);
  const uint32_t lo_code = static_cast<uint32_t>(e + 127);
  // hi code is lo_code + 1; for e = 127 that is the virtual value above
  // 0xFE, whose parity (odd) is the opposite of 0xFE's, i.e. also lo_code + 1.
  const Pick p = choose(mode, false, m, lo, hi, (lo_code & 1) != 0, ((lo_code + 1) & 1) != 0, rnd);
  if (p == Pick::kLo) return {lo_code, finite_flags(lo, m, false)};
  if (e + 1 > 127) return overflow_result(f, mode, false, ov);
  return {lo_code + 1, finite_flags(hi, m, false)};
}

Rounded nan_input(const Format& f, bool negative) {
  // Formats with NaN: canonical NaN with the input's sign; otherwise +0 (invalid).
  if (f.has_nan()) return {nan_code(f, negative), 0};
  return {0u, kFlagInvalid};
}

Rounded inf_input(const Format& f, bool negative, Overflow ov) {
  // Mode-independent (project decision).
  if (f.kind == Format::Kind::kE8M0 && negative) return {0xFF, kFlagInvalid};
  if (ov == Overflow::kSaturate) return {max_code(f, negative), kFlagInvalid | kFlagSaturated};
  if (f.has_inf()) return {inf_code(f, negative), 0};
  if (f.has_nan()) return {nan_code(f, negative), kFlagInvalid};
  return {max_code(f, negative), kFlagInvalid | kFlagSaturated};
}

}  // namespace

Rounded round_rational_flags(const Format& f, bool negative, const Rational& magnitude, Mode mode,
                             Overflow overflow, uint64_t rnd) {
  if (magnitude < 0) throw std::invalid_argument("mx_oracle: negative magnitude");
  switch (f.kind) {
    case Format::Kind::kFloat:
      return round_float(f, negative, magnitude, mode, overflow, rnd);
    case Format::Kind::kInt:
      return round_int(f, negative, magnitude, mode, overflow, rnd);
    case Format::Kind::kE8M0:
      return round_e8m0(f, negative, magnitude, mode, overflow, rnd);
  }
  fail("round_rational: bad kind");
}

Rounded round_to_code_flags(const Format& f, double x, Mode mode, Overflow overflow, uint64_t rnd) {
  const bool negative = std::signbit(x);
  if (std::isnan(x)) return nan_input(f, negative);
  if (std::isinf(x)) return inf_input(f, negative, overflow);
  return round_rational_flags(f, negative, rational_from_double(std::fabs(x)), mode, overflow, rnd);
}

uint32_t round_rational(const Format& f, bool negative, const Rational& magnitude, Mode mode,
                        Overflow overflow) {
  if (mode == Mode::kStochastic) fail("round_rational: stochastic rounding needs random bits");
  return round_rational_flags(f, negative, magnitude, mode, overflow).code;
}

uint32_t round_to_code(const Format& f, double x, Mode mode, Overflow overflow) {
  if (mode == Mode::kStochastic) fail("round_to_code: stochastic rounding needs random bits");
  return round_to_code_flags(f, x, mode, overflow).code;
}

// ---------------------------------------------------------------------------
// Table / fill_expected_codes
//
// Why double is exact here: every format accepted by Table has at most 24
// significant bits (M <= 23 plus the leading bit; intN: <= 16 bits) and an
// exponent range within [-149, 129] (e8 bias 127: min subnormal 2^-149; the
// virtual value above MAX is below 2^130).  A midpoint between two adjacent
// values needs one more bit (<= 25 bits, >= 2^-150).  fp32 inputs have 24 bits.
// A double has 53 significant bits and reaches 2^-1074, so every value,
// midpoint and input is held exactly, and the comparisons <, == are exact.
// The table's values are produced by decode() and converted with
// double_from_rational(), which throws unless the conversion is exact.
// ---------------------------------------------------------------------------

Table::Table(const Format& f) : fmt_(f) {
  if (f.bits > 24)
    throw std::invalid_argument("mx_oracle: Table supports formats of at most 24 bits: " + f.name);

  struct Entry {
    Rational mag;
    uint32_t code;
    double v = 0;
  };
  auto build = [&](bool negative, Side& side) {
    std::vector<Entry> entries;
    switch (f.kind) {
      case Format::Kind::kFloat: {
        const uint32_t sign = negative ? (1u << (f.bits - 1)) : 0;
        for (uint32_t c = 0; c < (1u << (f.bits - 1)); ++c) {
          const Decoded d = decode(f, sign | c);
          if (d.cls == Decoded::kFinite) entries.push_back({abs(d.value), sign | c, 0.0});
        }
        break;
      }
      case Format::Kind::kInt:
        for (uint32_t c = 0; c < (1u << f.bits); ++c) {
          const Decoded d = decode(f, c);
          if (d.value == 0 || d.negative == negative) entries.push_back({abs(d.value), c, 0.0});
        }
        break;
      case Format::Kind::kE8M0:
        entries.push_back({Rational(0), 0, 0.0});  // [0, 2^-127) -> code 0
        for (uint32_t c = 0; c < 0xFF; ++c) entries.push_back({decode(f, c).value, c, 0.0});
        side.first_interval_is_min = true;
        break;
    }
    // Sort on the (exact, see above) double images; ordering is the same as
    // on the rationals and much cheaper.
    for (Entry& e : entries) e.v = double_from_rational(e.mag);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.v < b.v; });
    for (size_t i = 1; i < entries.size(); ++i)
      if (!(entries[i - 1].v < entries[i].v)) fail("Table: duplicate magnitude");
    const Rational maxv = max_value(f, negative);
    if (entries.back().mag != maxv) fail("Table: largest entry is not MAX");
    // Virtual value above MAX: MAX + spacing of MAX's binade.
    Rational spacing;
    switch (f.kind) {
      case Format::Kind::kFloat:
        spacing = pow2(std::max(floor_log2(maxv), 1 - f.bias) - f.man_bits);
        break;
      case Format::Kind::kInt:
        spacing = pow2(-f.man_bits);
        break;
      case Format::Kind::kE8M0:
        spacing = pow2(127);
        break;
    }
    const size_t n = entries.size();
    side.virt = n;
    side.value.resize(n + 2);
    side.mid.resize(n);
    side.code.resize(n);
    side.odd.resize(n + 1);
    for (size_t i = 0; i < n; ++i) {
      side.value[i] = entries[i].v;
      side.code[i] = entries[i].code;
      side.odd[i] = entries[i].code & 1;
    }
    const Rational virt = maxv + spacing;
    side.value[n] = double_from_rational(virt);
    side.odd[n] = (max_code(f, negative) & 1) ? 0 : 1;
    side.value[n + 1] = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      const Rational hi = i + 1 < n ? entries[i + 1].mag : virt;
      side.mid[i] = double_from_rational((entries[i].mag + hi) / 2);
    }
  };
  build(false, pos_);
  if (f.kind != Format::Kind::kE8M0) build(true, neg_);
}

namespace {

// Codes for the inputs of interval j of a side, i.e. value[j] <= |x| < value[j+1]:
// [0] |x| == value[j], [1] below the midpoint, [2] at it, [3] above it.
// Uses the same pick_neighbor / overflow_code as round_rational.
struct IntervalCodes {
  uint32_t c[4];
};

IntervalCodes interval_codes(const Format& f, const Table::Side& s, size_t j, bool negative,
                             Mode mode, Overflow ov) {
  IntervalCodes r{};
  if (j >= s.virt) {  // |x| >= virtual value: every pick is beyond MAX
    const uint32_t oc = overflow_code(f, mode, negative, ov);
    for (auto& c : r.c) c = oc;
    return r;
  }
  if (j == 0 && s.first_interval_is_min) {  // e8m0 below 2^-127
    for (auto& c : r.c) c = 0;
    return r;
  }
  const Relation rels[4] = {Relation::kExact, Relation::kBelowMid, Relation::kTie,
                            Relation::kAboveMid};
  for (int i = 0; i < 4; ++i) {
    const Pick p = pick_neighbor(mode, negative, rels[i], s.odd[j] != 0, s.odd[j + 1] != 0);
    if (p == Pick::kLo)
      r.c[i] = s.code[j];
    else if (j + 1 == s.virt)
      r.c[i] = overflow_code(f, mode, negative, ov);
    else
      r.c[i] = s.code[j + 1];
  }
  return r;
}

}  // namespace

void fill_expected_codes(const Table& table, Mode mode, Overflow overflow, uint32_t first,
                         uint32_t count, uint32_t* out) {
  if (count == 0) return;
  const uint64_t last = uint64_t{first} + count - 1;
  if (last > 0xFFFFFFFFu || ((first ^ static_cast<uint32_t>(last)) & 0x80000000u) != 0)
    throw std::invalid_argument("mx_oracle: fill_expected_codes range crosses a sign half");
  const Format& f = table.format();
  const bool negative = (first & 0x80000000u) != 0;
  const uint32_t mag_first = first & 0x7FFFFFFFu;
  // fp32 magnitudes 0 .. 0x7F7FFFFF are finite, 0x7F800000 is Inf, above is NaN.
  const uint32_t n_finite =
      mag_first >= 0x7F800000u
          ? 0
          : static_cast<uint32_t>(std::min<uint64_t>(count, 0x7F800000u - mag_first));

  if (f.kind == Format::Kind::kE8M0 && negative) {
    // x < 0 -> NaN (0xFF); -0 -> code 0 (below 2^-127).
    for (uint32_t i = 0; i < count; ++i) out[i] = (mag_first + i == 0) ? 0u : 0xFFu;
    return;
  }

  if (n_finite > 0) {
    const Table::Side& s = table.side(negative);
    // Inputs are walked in increasing magnitude (increasing fp32 bit pattern
    // within one sign half); the interval index j only moves forward.
    auto bits_to_double = [](uint32_t b) { return static_cast<double>(std::bit_cast<float>(b)); };
    const double x0 = bits_to_double(mag_first);
    size_t j = static_cast<size_t>(std::upper_bound(s.value.begin(), s.value.end(), x0) -
                                   s.value.begin()) -
               1;
    IntervalCodes ic = interval_codes(f, s, j, negative, mode, overflow);
    double lo = s.value[j];
    double next = s.value[j + 1];
    double mid = j < s.virt ? s.mid[j] : std::numeric_limits<double>::infinity();
    for (uint32_t i = 0; i < n_finite; ++i) {
      const double x = bits_to_double(mag_first + i);
      if (x >= next) {
        do {
          ++j;
        } while (x >= s.value[j + 1]);
        ic = interval_codes(f, s, j, negative, mode, overflow);
        lo = s.value[j];
        next = s.value[j + 1];
        mid = j < s.virt ? s.mid[j] : std::numeric_limits<double>::infinity();
      }
      uint32_t c;
      if (x == lo)
        c = ic.c[0];
      else if (x < mid)
        c = ic.c[1];
      else if (x == mid)
        c = ic.c[2];
      else
        c = ic.c[3];
      out[i] = c;
    }
  }
  if (n_finite < count) {
    const uint32_t inf_c = inf_input(f, negative, overflow).code;
    const uint32_t nan_c = nan_input(f, negative).code;
    for (uint32_t i = n_finite; i < count; ++i)
      out[i] = (mag_first + i == 0x7F800000u) ? inf_c : nan_c;
  }
}

// ---------------------------------------------------------------------------
// MX block conversion (OCP MX v1.0 §6.3)
// ---------------------------------------------------------------------------

int scale_exponent(const Format& elem, ScaleRule rule, const Rational& amax) {
  if (amax <= 0) throw std::invalid_argument("mx_oracle: scale_exponent: amax must be positive");
  const int em = emax(elem);
  switch (rule) {
    case ScaleRule::kFloor:  // §6.3: shared_exp = floor(log2(amax)) - emax_elem
      return floor_log2(amax) - em;
    case ScaleRule::kCeil: {
      const int fl = floor_log2(amax);
      return (amax == pow2(fl) ? fl : fl + 1) - em;
    }
    case ScaleRule::kEven: {
      // Round amax to P = (bits after the leading bit) + 1 significant bits,
      // nearest-even on the significand, unbounded exponent; then floor rule.
      const int after_leading = elem.man_bits;  // M for floats, N-2 for intN
      const int e = floor_log2(amax);
      const Rational q = pow2(e - after_leading);
      const Rational units = amax / q;
      const Integer lo =
          boost::multiprecision::numerator(units) / boost::multiprecision::denominator(units);
      const Rational frac = units - Rational(lo);
      Integer r = lo;
      if (frac > Rational(1, 2) || (frac == Rational(1, 2) && (lo & 1) != 0)) r = lo + 1;
      return floor_log2(Rational(r) * q) - em;
    }
    case ScaleRule::kRceil: {
      // Smallest s with amax / 2^s <= MAX  <=>  2^s >= amax / MAX  <=>  s = ceil(log2(amax / MAX)).
      const Rational ratio = amax / max_value(elem);
      const int fl = floor_log2(ratio);
      return ratio == pow2(fl) ? fl : fl + 1;
    }
  }
  fail("scale_exponent: bad rule");
}

BlockResult mx_block(const Format& elem, ScaleRule rule, Mode mode, Overflow overflow,
                     const float* x, size_t n) {
  if (elem.kind == Format::Kind::kE8M0)
    throw std::invalid_argument("mx_oracle: e8m0 is not an element format");
  BlockResult r;
  r.elem_codes.assign(n, 0);
  r.dequantized.assign(n, 0.0f);

  // §6.3: a NaN or Inf input makes the scale NaN and every output NaN.
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      r.scale_code = 0xFF;
      std::fill(r.dequantized.begin(), r.dequantized.end(),
                std::numeric_limits<float>::quiet_NaN());
      return r;
    }
  }
  Rational amax = 0;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, Rational(abs(rational_from_double(x[i]))));

  int s = -127;  // amax == 0: scale 2^-127
  if (amax != 0) s = std::clamp(scale_exponent(elem, rule, amax), -127, 127);
  r.scale_code = static_cast<uint32_t>(s + 127);

  static const Format fp32 = format_by_name("fp32");
  const Rational scale = pow2(s);
  for (size_t i = 0; i < n; ++i) {
    const bool neg = std::signbit(x[i]);
    const Rational mag = abs(rational_from_double(x[i])) / scale;
    const uint32_t code = round_rational(elem, neg, mag, mode, overflow);
    r.elem_codes[i] = code;
    const Decoded d = decode(elem, code);
    float out;
    if (d.cls == Decoded::kNaN) {
      out = std::copysign(std::numeric_limits<float>::quiet_NaN(), d.negative ? -1.0f : 1.0f);
    } else if (d.cls == Decoded::kInf) {
      out = d.negative ? -std::numeric_limits<float>::infinity()
                       : std::numeric_limits<float>::infinity();
    } else {
      // decode(code) * 2^s, converted to fp32 (exact for the catalogue formats;
      // otherwise correctly rounded, nearest-even).
      const uint32_t bits = round_rational(fp32, d.negative, abs(d.value) * scale,
                                           Mode::kNearestEven, Overflow::kToNanOrInf);
      out = std::bit_cast<float>(bits);
    }
    r.dequantized[i] = out;
  }
  return r;
}

}  // namespace mx_oracle
