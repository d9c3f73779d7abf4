// mx_oracle dot: an independent, literal implementation of the accumulation models of
// emulator/accum_model.hpp on exact rationals (Boost.Multiprecision). It includes nothing
// from formats/ or emulator/: formats come from oracle.hpp by name, roundings from
// round_rational. Slow on purpose; every step follows the model's definition word by word.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/oracle/oracle.hpp"

namespace mx_oracle {

struct DotModel {
  enum class Kind { kExact, kPairwise, kFused };
  enum class CEntry { kEnd, kFirst, kPromote };
  Kind kind = Kind::kExact;
  int k = 1, split = 1, gran = 1;
  int w = 0;                  // 0: exact step sum
  bool term_nearest = false;  // false: cut toward zero; true: nearest-even
  std::string acc = "fp32";
  Mode step = Mode::kNearestEven;
  std::string conv;  // empty: none
  bool acc_joins = true;
  bool overflow_inf = false;   // fused steps: an overflow is Inf in every rounding mode
  bool zero_positive = false;  // fused steps: a zero result is +0
  CEntry c_entry = CEntry::kEnd;
  int promote_every = 0;
  std::string promote = "fp32";
  Mode promote_mode = Mode::kNearestEven;
  bool block_scales = false;  // scales applied to each block's sum instead of each product
  std::string out = "fp32";
  Mode out_mode = Mode::kNearestEven;
  Overflow out_overflow = Overflow::kToNanOrInf;

  bool operator==(const DotModel&) const = default;
};

// The oracle's own reading of a canonical model string (emulator/accum_model.hpp's to_string:
// "fused:k=16,w=25,..."): the kind, then key=value pairs over DotModel's defaults. Throws
// std::invalid_argument on anything it does not know.
DotModel parse_dot_model(const std::string& descriptor);

struct DotInput {
  std::string a_fmt, b_fmt;
  std::vector<uint32_t> a, b;   // element codes, k each
  std::vector<uint8_t> sa, sb;  // E8M0 scale codes per block (block > 0)
  int block = 0;
  float c = 0.0f;
};

// The output code in model.out.
uint32_t dot(const DotModel& model, const DotInput& in);

}  // namespace mx_oracle
