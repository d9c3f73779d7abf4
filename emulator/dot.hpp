// Dot products of MX (or plain element-format) vectors under an AccumModel
// (emulator/accum_model.hpp holds the definition). Everything is integer significands and
// exponents; sums are exact (emulator/wide_acc.hpp) and every rounding (terms, steps,
// promotion, output) is round_pack (formats/round_pack.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "emulator/accum_model.hpp"
#include "emulator/wide_acc.hpp"
#include "formats/descriptor.hpp"

namespace mx {

enum class NumClass : std::uint8_t { kFinite, kInf, kNaN };

// sig * 2^exp with a sign; the alignment exponent of a product rides along.
struct Num {
  std::uint64_t sig = 0;
  int exp = 0;
  int align = 0;
  NumClass cls = NumClass::kFinite;
  bool neg = false;
  bool is_zero() const { return cls == NumClass::kFinite && sig == 0; }
};

// One decoded element: value = (-1)^neg * sig * 2^lsb; `align` = its alignment exponent
// (floor(log2|x|), at least the multiplying format's emin; see accum_model.hpp).
struct OpElem {
  std::uint32_t sig = 0;
  std::int16_t lsb = 0;
  std::int16_t align = 0;
  NumClass cls = NumClass::kFinite;
  bool neg = false;
};

// code -> OpElem for one element format and operand-conversion format (a table for formats
// of up to 16 bits, computed per call above).
class OpTable {
 public:
  OpTable(const ElemFormat& elem, const std::optional<ElemFormat>& conv);
  OpElem operator()(std::uint32_t code) const {
    return table_.empty() ? compute(code) : table_[code & elem_.code_mask()];
  }
  const ElemFormat& elem() const { return elem_; }
  // The exact value of element `code` (with the conversion, if any) as a double.
  double value(std::uint32_t code) const;

 private:
  OpElem compute(std::uint32_t code) const;
  ElemFormat elem_;
  std::optional<ElemFormat> conv_;
  std::vector<OpElem> table_;
};

// E8M0 scale code -> exponent; 0xFF (NaN) -> kNanScale.
constexpr int kNanScale = -100000;
inline int scale_exp(std::uint8_t code) { return code == 0xFF ? kNanScale : int(code) - 127; }

// One dot product: a[0..k) and b[0..k) element codes; sa / sb the E8M0 scale codes of
// their blocks (sa[i / block]); block 0 means no shared scale (sa, sb unused). c is the
// addend C (an fp32 value; 0 for none). Returns the output code in model.out.
struct DotArgs {
  const std::uint32_t* a = nullptr;
  const std::uint8_t* sa = nullptr;
  const std::uint32_t* b = nullptr;
  const std::uint8_t* sb = nullptr;
  std::size_t k = 0;
  int block = 0;
  double c = 0.0;
};

// Reusable scratch for dot(): products and group index lists.
struct DotScratch {
  std::vector<Num> prod;
  std::vector<std::uint32_t> idx;
};

std::uint32_t dot(const AccumModel& model, const OpTable& ta, const OpTable& tb,
                  const DotArgs& args, DotScratch& scratch);

// ---- building blocks (exposed for tests) -------------------------------------------------

// Rounds (-1)^neg * (mag + sticky*delta) * 2^e (0 < delta < 1 when sticky) into float format
// f with mode, then IEEE overflow; with overflow_inf an overflow never clamps to the largest
// finite value (Inf, else NaN, else the largest finite value). mag > 0. round_pack with
// OverflowRule::kIeee / kInf, the code read back as a Num.
Num round_float(const ElemFormat& f, bool neg, U128 mag, int e, bool sticky, Rounding mode,
                bool overflow_inf = false);

}  // namespace mx
