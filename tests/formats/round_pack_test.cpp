// TestFloat-style check of round_pack (formats/round_pack.hpp), the one rounding core: for
// every element format of the catalogue plus generic ones, every rounding mode (stochastic
// with supplied random bits) and every overflow rule, structured inputs (every code's value,
// the midpoints between neighbours, both of them +- one ulp of the fp64 and the fp32 input,
// binade edges, the overflow region, the subnormal boundary, zeros, NaN, Inf) and random ones
// (fp64 values, and wide magnitudes of up to 120 bits with and without a sticky bit) are
// rounded by round_pack (and encode() for fp64 inputs) and by the independent oracle
// (tests/oracle, exact rationals); the CODES and the STATUS FLAGS must be equal. As in
// TestFloat, a mismatch prints the operands and the test stops after a few.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/round_pack.hpp"
#include "tests/oracle/oracle.hpp"

namespace mx {
namespace {

namespace mo = mx_oracle;

constexpr Rounding kModes[] = {Rounding::kNearestEven,    Rounding::kNearestAway,
                               Rounding::kTowardZero,     Rounding::kTowardPositive,
                               Rounding::kTowardNegative, Rounding::kOdd,
                               Rounding::kStochastic};
constexpr OverflowRule kRules[] = {OverflowRule::kSaturate, OverflowRule::kIeee,
                                   OverflowRule::kInf};

mo::Mode oracle_mode(Rounding r) {
  switch (r) {
    case Rounding::kNearestEven:
      return mo::Mode::kNearestEven;
    case Rounding::kNearestAway:
      return mo::Mode::kNearestAway;
    case Rounding::kTowardZero:
      return mo::Mode::kTowardZero;
    case Rounding::kTowardPositive:
      return mo::Mode::kTowardPositive;
    case Rounding::kTowardNegative:
      return mo::Mode::kTowardNegative;
    case Rounding::kOdd:
      return mo::Mode::kOdd;
    case Rounding::kStochastic:
      break;
  }
  return mo::Mode::kStochastic;
}

mo::Overflow oracle_rule(OverflowRule r) {
  switch (r) {
    case OverflowRule::kSaturate:
      return mo::Overflow::kSaturate;
    case OverflowRule::kIeee:
      return mo::Overflow::kToNanOrInf;
    case OverflowRule::kInf:
      break;
  }
  return mo::Overflow::kInfAlways;
}

// mxlab's Status as the oracle's flag bits (mapped one by one, not assumed equal).
unsigned oracle_flags(Status s) {
  unsigned f = 0;
  if (s & kInexact) f |= mo::kFlagInexact;
  if (s & kUnderflow) f |= mo::kFlagUnderflow;
  if (s & kOverflow) f |= mo::kFlagOverflow;
  if (s & kSaturated) f |= mo::kFlagSaturated;
  if (s & kInvalid) f |= mo::kFlagInvalid;
  return f;
}

std::string flag_string(unsigned f) {
  std::string s;
  for (const auto& [bit, name] : {std::pair{mo::kFlagInexact, "x"},
                                  {mo::kFlagUnderflow, "u"},
                                  {mo::kFlagOverflow, "o"},
                                  {mo::kFlagSaturated, "s"},
                                  {mo::kFlagInvalid, "v"}})
    if (f & bit) s += name;
  return s.empty() ? "-" : s;
}

// One input: an fp64 value, or (-1)^neg * (mag + sticky * delta) * 2^exp with delta = 1/2 or
// 1/3 (only where round_pack's result does not depend on delta: see round_pack.hpp).
struct Input {
  bool is_double = true;
  double x = 0;
  bool neg = false;
  U128 mag = 0;
  int exp = 0;
  int delta_den = 0;  // 0: no sticky; 2 or 3: delta = 1/delta_den
};

mo::Rational exact_of(const Input& in) {
  mo::Rational m(mo::Integer(static_cast<std::uint64_t>(in.mag >> 64)));
  m = m * mo::pow2(64) + mo::Rational(mo::Integer(static_cast<std::uint64_t>(in.mag)));
  if (in.delta_den) m += mo::Rational(1, in.delta_den);
  return m * mo::pow2(in.exp);
}

double next_up(double x) { return std::nextafter(x, std::numeric_limits<double>::infinity()); }
double next_down(double x) { return std::nextafter(x, -std::numeric_limits<double>::infinity()); }

// The structured fp64 inputs of a format, built from the oracle's decoding of its codes.
std::vector<double> structured_inputs(const mo::Format& of, std::mt19937_64& rng) {
  const std::uint32_t ncodes = std::uint32_t{1} << of.bits;
  const std::uint32_t half =
      of.has_sign() && of.kind != mo::Format::Kind::kInt ? ncodes / 2 : ncodes;
  // Magnitude codes to visit: all of a narrow format; edges, binade starts and random
  // ones of a wide one.
  std::vector<std::uint32_t> codes;
  if (of.bits <= 8) {
    for (std::uint32_t c = 0; c < half; ++c) codes.push_back(c);
  } else {
    const std::uint32_t top = of.kind == mo::Format::Kind::kInt ? ncodes / 2 : half;
    for (std::uint32_t c = 0; c < 48; ++c) codes.push_back(c);
    for (std::uint32_t c = top - 48; c < top; ++c) codes.push_back(c);
    if (of.kind == mo::Format::Kind::kFloat)
      for (int e = 1; e<(1 << of.exp_bits); e += of.exp_bits> 6 ? 9 : 1)
        for (int d = -2; d <= 1; ++d) codes.push_back((std::uint32_t(e) << of.man_bits) + d);
    for (int i = 0; i < 64; ++i) codes.push_back(static_cast<std::uint32_t>(rng() % top));
  }
  const mo::Rational maxv = mo::max_value(of);
  mo::Rational spacing;
  switch (of.kind) {
    case mo::Format::Kind::kFloat:
      spacing = mo::pow2(std::max(mo::emax(of), 1 - of.bias) - of.man_bits);
      break;
    case mo::Format::Kind::kInt:
      spacing = mo::pow2(-of.man_bits);
      break;
    case mo::Format::Kind::kE8M0:
      spacing = mo::pow2(127);
      break;
  }
  const mo::Rational virt = maxv + spacing;
  std::vector<double> out;
  auto add_around = [&](double v) {
    for (double y : {v, next_up(v), next_down(v)}) out.push_back(y);
    const float f = static_cast<float>(v);
    if (static_cast<double>(f) == v && std::isfinite(f) && v != 0)
      for (float g : {std::nextafter(f, INFINITY), std::nextafter(f, -INFINITY)})
        out.push_back(static_cast<double>(g));
  };
  for (const std::uint32_t c : codes) {
    if (c >= ncodes) continue;
    const mo::Decoded d = mo::decode(of, c);
    if (d.cls != mo::Decoded::kFinite || d.negative) continue;
    const mo::Rational v = d.value;
    if (v > maxv) continue;
    mo::Rational w = virt;  // the next value above v
    if (v < maxv) {
      const mo::Decoded dn = mo::decode(of, c + 1);
      if (dn.cls == mo::Decoded::kFinite && dn.value > v) w = dn.value;
    }
    add_around(mo::double_from_rational(v));
    add_around(mo::double_from_rational((v + w) / 2));
  }
  // Binade edges (all the way below the subnormals and above MAX) and the overflow region.
  const int lo_e = (of.kind == mo::Format::Kind::kFloat ? 1 - of.bias - of.man_bits : -140) - 4;
  for (int e = lo_e; e <= mo::emax(of) + 4; ++e) add_around(std::ldexp(1.0, e));
  const double vd = mo::double_from_rational(virt);
  for (double y : {vd, 2 * vd, 4 * vd, 1e30, 1e300, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), 1e-300})
    add_around(y);
  std::vector<double> all;
  for (const double y : out) {
    all.push_back(y);
    all.push_back(-y);
  }
  for (double y :
       {0.0, -0.0, std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
        -std::numeric_limits<double>::quiet_NaN()})
    all.push_back(y);
  return all;
}

class RoundPackOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundPackOracle, CodesAndStatusFlags) {
  const ElemFormat f = parse_elem_format(GetParam());
  const mo::Format of = mo::format_by_name(GetParam());
  ASSERT_EQ(f.bits, of.bits);
  std::mt19937_64 rng(std::hash<std::string>{}(GetParam()));

  std::vector<Input> inputs;
  for (const double x : structured_inputs(of, rng)) inputs.push_back({true, x});
  const int emin = f.is_int() ? f.int_scale_exp : f.emin() - f.man_bits;
  const int emax = f.emax();
  for (int i = 0; i < 1500; ++i) {  // random fp64 values around the format's range
    std::uint64_t sig = (rng() >> 11) | (std::uint64_t{1} << 52);
    if (i % 3 == 0) sig &= ~((std::uint64_t{1} << (rng() % 53)) - 1);  // ties are likelier
    const int e = emin - 8 + static_cast<int>(rng() % static_cast<std::uint64_t>(emax - emin + 14));
    const double x = std::ldexp(static_cast<double>(sig), e - 52);
    inputs.push_back({true, (rng() & 1) ? -x : x});
  }
  for (int i = 0; i < 600; ++i) {  // wide magnitudes, with and without a sticky bit
    Input in;
    in.is_double = false;
    in.neg = (rng() & 1) != 0;
    const int kind = i % 3;  // 0: plain, 1: sticky (61..120 bits), 2: sticky, exactly 61 bits
    const int n = kind == 2   ? 61
                  : kind == 1 ? 61 + static_cast<int>(rng() % 60)
                              : 1 + static_cast<int>(rng() % 120);
    in.mag = (U128(rng()) << 64) | rng();
    in.mag = (in.mag >> (128 - n)) | (U128(1) << (n - 1));
    if (i % 5 == 0 && n > 8) in.mag &= ~((U128(1) << (n - 8)) - 1);  // ties
    in.delta_den = kind == 0 ? 0 : kind == 1 ? 3 : 2;
    const int lead =
        emin - 6 + static_cast<int>(rng() % static_cast<std::uint64_t>(emax - emin + 10));
    in.exp = lead - (n - 1);
    inputs.push_back(in);
  }

  long compared = 0;
  long seen[5] = {};  // how often the oracle raised each flag: the comparisons are not vacuous
  int failures = 0;
  for (const Input& in : inputs) {
    std::optional<mo::Rational> exact;
    if (!in.is_double) exact = exact_of(in);
    for (const Rounding mode : kModes) {
      const bool stochastic = mode == Rounding::kStochastic;
      // The stochastic threshold is exact for round_pack when no bit is folded (see
      // round_to_quantum): fp64 inputs, up to 61 bits, or 61 bits and delta = 1/2.
      if (stochastic && !in.is_double &&
          !(in.delta_den == 0 ? in.mag < (U128(1) << 61) : in.delta_den == 2))
        continue;
      const std::uint64_t rnds[] = {rng(), std::uint64_t{1} << 63, 0, ~std::uint64_t{0}};
      const int nrnd = stochastic ? 2 : 1;
      for (int ri = 0; ri < nrnd; ++ri) {
        const std::uint64_t rnd = ri == 0 ? rnds[0] : rnds[1 + compared % 3];
        for (const OverflowRule rule : kRules) {
          Packed got;
          mo::Rounded want;
          if (in.is_double) {
            const double x = in.x;
            if (std::isnan(x)) {
              got = pack_nan(f, std::signbit(x));
            } else if (std::isinf(x)) {
              got = pack_inf(f, x < 0, rule);
            } else {
              const auto b = std::bit_cast<std::uint64_t>(x);
              const int be = static_cast<int>((b >> 52) & 0x7FF);
              const std::uint64_t m = b & ((std::uint64_t{1} << 52) - 1);
              got = round_pack(f, std::signbit(x), be ? (m | (std::uint64_t{1} << 52)) : m,
                               (be ? be : 1) - 1075, false, mode, rule, rnd);
            }
            want = mo::round_to_code_flags(of, x, oracle_mode(mode), oracle_rule(rule), rnd);
            if (rule != OverflowRule::kInf) {  // encode() is round_pack behind the fp64 unpack
              Status st = 0;
              const Overflow ov =
                  rule == OverflowRule::kSaturate ? Overflow::kSaturate : Overflow::kToNanOrInf;
              const std::uint32_t code = encode(f, x, RoundSpec{mode, ov, 0}, &st, rnd);
              if (code != got.code || st != got.status) {
                if (failures++ < 8)
                  ADD_FAILURE() << GetParam() << " encode != round_pack for x=" << x;
              }
            }
          } else {
            got = round_pack(f, in.neg, in.mag, in.exp, in.delta_den != 0, mode, rule, rnd);
            want = mo::round_rational_flags(of, in.neg, *exact, oracle_mode(mode),
                                            oracle_rule(rule), rnd);
          }
          ++compared;
          for (int b = 0; b < 5; ++b) seen[b] += (want.flags >> b) & 1u;
          const unsigned got_flags = oracle_flags(got.status);
          if (got.code != want.code || got_flags != want.flags) {
            if (failures++ < 8) {
              std::string what;
              if (in.is_double) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "x=%a", in.x);
                what = buf;
              } else {
                char buf[160];
                std::snprintf(buf, sizeof buf, "%s(0x%016llx%016llx%s) * 2^%d", in.neg ? "-" : "",
                              static_cast<unsigned long long>(in.mag >> 64),
                              static_cast<unsigned long long>(in.mag),
                              in.delta_den == 0   ? ""
                              : in.delta_den == 2 ? " + 1/2"
                                                  : " + 1/3",
                              in.exp);
                what = buf;
              }
              ADD_FAILURE() << GetParam() << " " << rounding_name(mode) << " rule "
                            << static_cast<int>(rule) << " rnd " << rnd << " " << what
                            << ": round_pack 0x" << std::hex << got.code << " "
                            << flag_string(got_flags) << ", oracle 0x" << want.code << std::dec
                            << " " << flag_string(want.flags);
            }
          }
        }
      }
    }
    if (failures >= 8) break;
  }
  RecordProperty("compared", std::to_string(compared));
  std::printf("%s: %ld comparisons of code and flags\n", GetParam().c_str(), compared);
  EXPECT_EQ(failures, 0);
  EXPECT_GT(compared, 10000);
  EXPECT_GT(seen[0], 0) << "inexact never raised";
  EXPECT_GT(seen[2], 0) << "overflow never raised";
  EXPECT_GT(seen[3], 0) << "saturated never raised";
  EXPECT_GT(seen[4], 0) << "invalid never raised";
  if (!f.is_int()) {
    EXPECT_GT(seen[1], 0) << "underflow never raised";
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundPackOracle,
                         ::testing::Values("e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "int8", "e8m0",
                                           "fp16", "bf16", "e3m4", "e5m3ieee", "e2m2fn", "e4m0",
                                           "int4", "int12"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace mx
