// The run-time -> compile-time switch for rounding modes: fast kernels are templates on the
// mode (so the rounding decision folds to a few instructions) and are reached only through
// visit_rounding.
#pragma once

#include <type_traits>

#include "formats/rounding.hpp"

namespace mx {

template <Rounding R>
using RoundingTag = std::integral_constant<Rounding, R>;

// Calls fn(RoundingTag<mode>{}) and returns its result.
template <typename Fn>
decltype(auto) visit_rounding(Rounding mode, Fn&& fn) {
  switch (mode) {
    case Rounding::kNearestAway:
      return fn(RoundingTag<Rounding::kNearestAway>{});
    case Rounding::kTowardZero:
      return fn(RoundingTag<Rounding::kTowardZero>{});
    case Rounding::kTowardPositive:
      return fn(RoundingTag<Rounding::kTowardPositive>{});
    case Rounding::kTowardNegative:
      return fn(RoundingTag<Rounding::kTowardNegative>{});
    case Rounding::kOdd:
      return fn(RoundingTag<Rounding::kOdd>{});
    case Rounding::kStochastic:
      return fn(RoundingTag<Rounding::kStochastic>{});
    case Rounding::kNearestEven:
      break;
  }
  return fn(RoundingTag<Rounding::kNearestEven>{});
}

}  // namespace mx
