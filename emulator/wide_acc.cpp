#include "emulator/wide_acc.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace mx {

ExactValue exact_sum(Term x, Term y) {
  if (x.sig == 0) std::swap(x, y);
  if (y.sig == 0) return {x.neg && x.sig != 0, x.sig, x.sig ? x.exp : 0, false};
  // Normalise both significands to 64 bits; x is then the one with the higher top bit.
  const int lx = std::countl_zero(x.sig), ly = std::countl_zero(y.sig);
  x.sig <<= lx;
  x.exp -= lx;
  y.sig <<= ly;
  y.exp -= ly;
  if (x.exp < y.exp) std::swap(x, y);
  const int d = x.exp - y.exp;
  U128 big, small;
  int e;
  bool sticky = false;
  if (d <= 64) {  // exact: big < 2^128 - 2^64, small < 2^64
    big = U128(x.sig) << d;
    small = y.sig;
    e = y.exp;
  } else {  // |y| < 2^-64 |x|: y shifted right with the lost bits jammed
    big = U128(x.sig) << 64;
    e = x.exp - 64;
    const int s = d - 64;
    small = s >= 64 ? 0 : (y.sig >> s);
    sticky = s >= 64 || (y.sig & ((std::uint64_t{1} << s) - 1)) != 0;
  }
  if (x.neg == y.neg) return {x.neg, big + small, e, sticky};
  if (big == small && !sticky) return {};  // exact cancellation: +0
  if (big > small) {
    // big - (small + delta) = (big - small - 1) + (1 - delta)
    return {x.neg, big - small - (sticky ? 1u : 0u), e, sticky};
  }
  return {y.neg, small - big, e, false};  // only in the exact case
}

void WideAcc::clear() { std::fill(std::begin(d_), std::end(d_), 0); }

void WideAcc::add(bool neg, std::uint64_t sig, int exp) {
  if (sig == 0) return;
  const int off = exp - kMinExp;
  if (off < 0 || off + 96 > 32 * kDigits)
    throw std::range_error("WideAcc: exponent outside the exact accumulator's range");
  const int i = off >> 5;
  const U128 v = U128(sig) << (off & 31);
  const auto d0 = static_cast<std::int64_t>(static_cast<std::uint32_t>(v));
  const auto d1 = static_cast<std::int64_t>(static_cast<std::uint32_t>(v >> 32));
  const auto d2 = static_cast<std::int64_t>(static_cast<std::uint32_t>(v >> 64));
  if (neg) {
    d_[i] -= d0;
    d_[i + 1] -= d1;
    d_[i + 2] -= d2;
  } else {
    d_[i] += d0;
    d_[i + 1] += d1;
    d_[i + 2] += d2;
  }
}

bool WideAcc::extract(ExactValue* out) const {
  std::uint32_t dig[kDigits];
  std::int64_t carry = 0;
  for (int i = 0; i < kDigits; ++i) {
    const std::int64_t c = d_[i] + carry;
    dig[i] = static_cast<std::uint32_t>(c);
    carry = c >> 32;  // arithmetic (C++20)
  }
  const bool neg = carry < 0;
  if (neg) {  // two's complement negation over the digits
    std::uint64_t c = 1;
    for (int i = 0; i < kDigits; ++i) {
      const std::uint64_t v = std::uint64_t{static_cast<std::uint32_t>(~dig[i])} + c;
      dig[i] = static_cast<std::uint32_t>(v);
      c = v >> 32;
    }
  }
  int t = kDigits - 1;
  while (t >= 0 && dig[t] == 0) --t;
  if (t < 0) return false;
  auto at = [&](int i) { return i >= 0 ? U128(dig[i]) : U128(0); };
  out->neg = neg;
  out->mag = (at(t) << 64) | (at(t - 1) << 32) | at(t - 2);
  out->exp = kMinExp + 32 * (t - 2);
  bool s = false;
  for (int i = 0; i < t - 2; ++i) s |= dig[i] != 0;
  out->sticky = s;
  return true;
}

}  // namespace mx
