#include "formats/rounding.hpp"

#include <array>

namespace mx {
namespace {
struct RoundingName {
  Rounding mode;
  std::string_view name;
};
constexpr std::array<RoundingName, 7> kRoundingNames = {{
    {Rounding::kNearestEven, "nearest-even"},
    {Rounding::kNearestAway, "nearest-away"},
    {Rounding::kTowardZero, "toward-zero"},
    {Rounding::kTowardPositive, "toward-positive"},
    {Rounding::kTowardNegative, "toward-negative"},
    {Rounding::kOdd, "odd"},
    {Rounding::kStochastic, "stochastic"},
}};
}  // namespace

std::optional<Rounding> parse_rounding(std::string_view name) {
  for (const auto& r : kRoundingNames)
    if (r.name == name) return r.mode;
  return std::nullopt;
}

std::string_view rounding_name(Rounding r) {
  for (const auto& n : kRoundingNames)
    if (n.mode == r) return n.name;
  return "?";
}

std::optional<Overflow> parse_overflow(std::string_view name) {
  if (name == "saturate") return Overflow::kSaturate;
  if (name == "to-nan-or-inf") return Overflow::kToNanOrInf;
  return std::nullopt;
}

std::string_view overflow_name(Overflow o) {
  return o == Overflow::kSaturate ? "saturate" : "to-nan-or-inf";
}

}  // namespace mx
