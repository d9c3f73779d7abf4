// Shared helpers for the formats tests: mapping mxlab names and modes onto the oracle's.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/rounding.hpp"
#include "tests/oracle/oracle.hpp"

namespace mx::test {

inline mx_oracle::Mode oracle_mode(Rounding r) {
  switch (r) {
    case Rounding::kNearestEven:
      return mx_oracle::Mode::kNearestEven;
    case Rounding::kNearestAway:
      return mx_oracle::Mode::kNearestAway;
    case Rounding::kTowardZero:
      return mx_oracle::Mode::kTowardZero;
    case Rounding::kTowardPositive:
      return mx_oracle::Mode::kTowardPositive;
    case Rounding::kTowardNegative:
      return mx_oracle::Mode::kTowardNegative;
    case Rounding::kOdd:
      return mx_oracle::Mode::kOdd;
    case Rounding::kStochastic:
      break;
  }
  throw std::invalid_argument("stochastic rounding has no oracle");
}
inline mx_oracle::Overflow oracle_overflow(Overflow o) {
  return o == Overflow::kSaturate ? mx_oracle::Overflow::kSaturate
                                  : mx_oracle::Overflow::kToNanOrInf;
}

inline const std::vector<Rounding>& deterministic_modes() {
  static const std::vector<Rounding> m = {Rounding::kNearestEven,    Rounding::kNearestAway,
                                          Rounding::kTowardZero,     Rounding::kTowardPositive,
                                          Rounding::kTowardNegative, Rounding::kOdd};
  return m;
}

// Bitwise equality with all NaNs equal.
inline bool same_float(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

}  // namespace mx::test
