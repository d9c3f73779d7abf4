// Rounding modes, overflow policies, status flags and the one integer rounding decision
// that every conversion in mxlab goes through (DESIGN.md: "one integer rounding core").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mx {

enum class Rounding : std::uint8_t {
  kNearestEven,     // IEEE roundTiesToEven, the OCP default
  kNearestAway,     // roundTiesToAway
  kTowardZero,      // truncation
  kTowardPositive,  // ceiling
  kTowardNegative,  // floor
  kOdd,             // round to odd (von Neumann): inexact results take the odd neighbour
  kStochastic,      // round up with probability equal to the discarded fraction
};

enum class Overflow : std::uint8_t {
  kSaturate,    // overflow gives the largest finite magnitude (OCP's recommended default)
  kToNanOrInf,  // overflow gives Inf if the format has it, else NaN, else saturates
};

// Status flags, OR-ed together (exact definitions, tininess before rounding: round_pack.hpp).
// Per-element conversions (encode) report them; the fp32 fast paths (fast_f32.hpp, the SIMD
// kernels) and the GEMM kernels compute codes only and report no flags.
enum StatusFlag : std::uint8_t {
  kStatusOk = 0,
  kInexact = 1 << 0,
  kUnderflow = 1 << 1,  // tiny (below the smallest normal, before rounding) and inexact
  kOverflow = 1 << 2,   // the magnitude rounded with an unbounded exponent exceeded the largest
                        // finite value
  kSaturated = 1 << 3,  // the result was clamped to the largest finite value
  kInvalid = 1 << 4,    // NaN into a format without NaN, negative into E8M0, Inf into a format
                        // without Inf
};
using Status = std::uint8_t;

struct RoundSpec {
  Rounding mode = Rounding::kNearestEven;
  Overflow overflow = Overflow::kSaturate;
  std::uint64_t seed = 0;  // stochastic rounding only
};

std::optional<Rounding> parse_rounding(std::string_view name);
std::optional<Overflow> parse_overflow(std::string_view name);
std::string_view rounding_name(Rounding r);
std::string_view overflow_name(Overflow o);

// Counter-based random bits for stochastic rounding: a pure function of (seed, index), so a
// tensor rounds to the same bits whatever the thread count or the order of the work.
// SplitMix64's finaliser applied twice over a Weyl-sequence combination of the inputs.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
constexpr std::uint64_t stochastic_bits(std::uint64_t seed, std::uint64_t index) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ (index * 0xD1B54A32D192ED03ull));
}

// The rounding decision. A magnitude `sig` (an integer, in units of some ulp u, with
// sig < 2^62) is to be rounded to a multiple of 2^shift * u. Returns true when the
// truncated result (sig >> shift) must be incremented by one. `shift` may be any value
// >= 1 (bits beyond 62 are all below the half point because sig < 2^62). `negative` is the
// sign of the value, `rnd` the 64 random bits of stochastic rounding.
//
// Bit naming as in SoftFloat / APFloat: the kept LSB, the half (round) bit, and the
// remainder below it (sticky). Written without data-dependent branches: with the mode a
// compile-time constant (fast kernels) it compiles to a handful of ALU operations.
constexpr bool round_up(Rounding mode, std::uint64_t sig, int shift, bool negative,
                        std::uint64_t rnd) {
  const int sh = shift < 63 ? shift : 63;  // exact for sig < 2^62
  const std::uint64_t kept = sig >> sh;
  const std::uint64_t rem = sig & ((std::uint64_t{1} << sh) - 1);
  const std::uint64_t half = std::uint64_t{1} << (sh - 1);
  const bool inexact = rem != 0;
  const bool odd = (kept & 1) != 0;
  switch (mode) {
    case Rounding::kNearestEven:
      return (rem > half) | ((rem == half) & odd);
    case Rounding::kNearestAway:
      return rem >= half;
    case Rounding::kTowardZero:
      return false;
    case Rounding::kTowardPositive:
      return inexact & !negative;
    case Rounding::kTowardNegative:
      return inexact & negative;
    case Rounding::kOdd:
      return inexact & !odd;
    case Rounding::kStochastic: {
      // The discarded fraction rem / 2^shift as a 64-bit fixed-point number; round up
      // with that probability (exact in expectation to 2^-64).
      std::uint64_t frac;
      if (shift <= 63)
        frac = rem << (64 - shift);
      else
        frac = shift - 64 >= 64 ? 0 : (shift == 64 ? sig : sig >> (shift - 64));
      return rnd < frac;
    }
  }
  return false;
}

// Whether an overflowing result goes to the largest finite value whatever the policy:
// IEEE 754 §7.4 for directed modes (toward zero, or toward the opposite infinity), and
// round-to-odd, which never rounds a finite value to infinity.
constexpr bool overflow_clamps(Rounding mode, bool negative) {
  switch (mode) {
    case Rounding::kTowardZero:
    case Rounding::kOdd:
      return true;
    case Rounding::kTowardPositive:
      return negative;
    case Rounding::kTowardNegative:
      return !negative;
    default:
      return false;
  }
}

}  // namespace mx
