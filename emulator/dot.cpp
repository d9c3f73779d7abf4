#include "emulator/dot.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "formats/codec.hpp"
#include "formats/round_pack.hpp"

namespace mx {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Term term_of(const Num& x) { return {x.neg, x.sig, x.exp}; }

// A finite code of float format f (or its Inf / NaN) as a Num.
Num num_from_code(const ElemFormat& f, std::uint32_t code) {
  Num r;
  r.neg = (code & f.sign_mask()) != 0;
  const std::uint32_t mag = code & ~f.sign_mask();
  if (mag > f.max_magnitude_code()) {
    r.cls = f.has_inf() && mag == f.inf_code() ? NumClass::kInf : NumClass::kNaN;
    return r;
  }
  const int m = f.man_bits;
  const std::uint32_t e_field = mag >> m, mant = mag & ((std::uint32_t{1} << m) - 1);
  r.sig = e_field ? (mant | (std::uint32_t{1} << m)) : mant;
  r.exp = r.sig == 0 ? 0 : (e_field ? static_cast<int>(e_field) - f.bias : f.emin()) - m;
  return r;
}

Num num_from_double(double d) {
  Num n;
  if (std::isnan(d)) {
    n.cls = NumClass::kNaN;
    return n;
  }
  n.neg = std::signbit(d);
  if (std::isinf(d)) {
    n.cls = NumClass::kInf;
    return n;
  }
  if (d == 0) return n;
  const Term t = split_double(d);
  const int tz = std::countr_zero(t.sig);
  n.sig = t.sig >> tz;
  n.exp = t.exp + tz;
  n.align = 63 - std::countl_zero(n.sig) + n.exp;
  return n;
}

// round(f, exact value) as a Num; the accumulators' overflow rule is IEEE or ovf=inf.
Num round_exact_num(const ElemFormat& f, const ExactValue& v, Rounding mode, bool overflow_inf) {
  return round_float(f, v.neg, v.mag, v.exp, v.sticky, mode, overflow_inf);
}

bool nonfinite_sum(const Num& x, const Num& y, Num* out) {
  if (x.cls == NumClass::kFinite && y.cls == NumClass::kFinite) return false;
  Num r;
  if (x.cls == NumClass::kNaN || y.cls == NumClass::kNaN ||
      (x.cls == NumClass::kInf && y.cls == NumClass::kInf && x.neg != y.neg)) {
    r.cls = NumClass::kNaN;
  } else {
    r.cls = NumClass::kInf;
    r.neg = x.cls == NumClass::kInf ? x.neg : y.neg;
  }
  *out = r;
  return true;
}

// round(fmt, x + y) with one rounding; +0 for an exactly-zero sum.
Num add_round(const ElemFormat& f, Rounding mode, const Num& x, const Num& y,
              bool overflow_inf = false) {
  Num r;
  if (nonfinite_sum(x, y, &r)) return r;
  const ExactValue s = exact_sum(term_of(x), term_of(y));
  if (s.is_zero()) return Num{};
  return round_exact_num(f, s, mode, overflow_inf);
}

std::uint32_t encode_out(const AccumModel& m, double d) { return encode(m.out, d, m.out_round); }

// round_out of an exact value (not zero).
std::uint32_t encode_exact(const AccumModel& m, const ExactValue& v) {
  return round_exact(m.out, v, m.out_round.mode, overflow_rule(m.out_round.overflow)).code;
}

// round_out of a Num (NaN without its sign, as an IEEE NaN).
std::uint32_t encode_num(const AccumModel& m, const Num& x) {
  const OverflowRule rule = overflow_rule(m.out_round.overflow);
  switch (x.cls) {
    case NumClass::kNaN:
      return pack_nan(m.out, false).code;
    case NumClass::kInf:
      return pack_inf(m.out, x.neg, rule).code;
    case NumClass::kFinite:
      break;
  }
  return round_pack(m.out, x.neg, x.sig, x.exp, false, m.out_round.mode, rule).code;
}

// round_out(F + C): +0 for an exactly-zero sum.
std::uint32_t finish_with_c(const AccumModel& m, const Num& f, const Num& c) {
  Num r;
  if (nonfinite_sum(f, c, &r)) return encode_num(m, r);
  const ExactValue s = exact_sum(term_of(f), term_of(c));
  if (s.is_zero()) return encode_num(m, Num{});
  return encode_exact(m, s);
}

Num product(const OpElem& a, const OpElem& b, int scale, bool nan_scale) {
  Num p;
  p.neg = a.neg != b.neg;
  if (a.cls == NumClass::kNaN || b.cls == NumClass::kNaN || nan_scale) {
    p.cls = NumClass::kNaN;
  } else if (a.cls == NumClass::kInf || b.cls == NumClass::kInf) {
    const bool zero =
        (a.cls == NumClass::kFinite && a.sig == 0) || (b.cls == NumClass::kFinite && b.sig == 0);
    p.cls = zero ? NumClass::kNaN : NumClass::kInf;
  } else {
    p.sig = std::uint64_t{a.sig} * b.sig;
    p.exp = a.lsb + b.lsb + scale;
    p.align = a.align + b.align + scale;
  }
  return p;
}

class Engine {
 public:
  Engine(const AccumModel& m, const Num* prod) : m_(m), prod_(prod) {}

  // One fused step on accumulator A over the products prod_[idx[0..n)]; zero=pos makes a
  // zero result +0.
  Num step(const Num& a, const std::uint32_t* idx, std::size_t n) {
    Num r = step_ieee(a, idx, n);
    if (m_.zero_positive && r.is_zero()) r.neg = false;
    return r;
  }

  Num step_ieee(const Num& a, const std::uint32_t* idx, std::size_t n) {
    // Non-finite participants decide alone.
    bool nan = a.cls == NumClass::kNaN, pinf = false, ninf = false;
    if (a.cls == NumClass::kInf) (a.neg ? ninf : pinf) = true;
    for (std::size_t j = 0; j < n; ++j) {
      const Num& p = prod_[idx[j]];
      if (p.cls == NumClass::kNaN)
        nan = true;
      else if (p.cls == NumClass::kInf)
        (p.neg ? ninf : pinf) = true;
    }
    if (nan || (pinf && ninf)) return Num{0, 0, 0, NumClass::kNaN, false};
    if (pinf || ninf) return Num{0, 0, 0, NumClass::kInf, ninf};

    if (m_.w == 0) return exact_step(a, idx, n);

    const bool a_in = m_.acc_joins && !a.is_zero();
    bool any = a_in;
    int e_max = a_in ? acc_align(a) : std::numeric_limits<int>::min();
    for (std::size_t j = 0; j < n; ++j) {
      const Num& p = prod_[idx[j]];
      if (p.sig == 0) continue;
      any = true;
      e_max = std::max(e_max, p.align);
    }
    if (!any)
      return a.is_zero() ? Num{} : add_round(m_.acc, m_.step_round, a, Num{}, m_.overflow_inf);
    const int q = e_max - m_.w;
    I128 s = 0;
    if (a_in) s += cut(a, q);
    for (std::size_t j = 0; j < n; ++j) {
      const Num& p = prod_[idx[j]];
      if (p.sig) s += cut(p, q);
    }
    if (!m_.acc_joins && !a.is_zero()) {  // A added exactly, outside the alignment
      wide_.clear();
      const bool neg = s < 0;
      const U128 mag = neg ? U128(-s) : U128(s);
      wide_.add(neg, static_cast<std::uint64_t>(mag), q);
      wide_.add(neg, static_cast<std::uint64_t>(mag >> 64), q + 64);
      wide_.add(a.neg, a.sig, a.exp);
      return round_wide();
    }
    if (s == 0) return Num{};
    const bool neg = s < 0;
    return round_float(m_.acc, neg, neg ? U128(-s) : U128(s), q, false, m_.step_round,
                       m_.overflow_inf);
  }

  Num pairwise(std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return prod_[lo];
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    const Num l = pairwise(lo, mid);
    const Num r = pairwise(mid, hi);
    return add_round(m_.acc, m_.step_round, l, r);
  }

  // The chain over indices [s0, s1), chunked from s0.
  Num segment(std::size_t s0, std::size_t s1, Num a, std::vector<std::uint32_t>& idx) {
    const std::size_t chunk = static_cast<std::size_t>(m_.k) * static_cast<std::size_t>(m_.split);
    const std::size_t gran = static_cast<std::size_t>(m_.gran);
    const std::size_t split = static_cast<std::size_t>(m_.split);
    for (std::size_t c0 = s0; c0 < s1; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, s1);
      if (split == 1) {
        idx.clear();
        for (std::size_t i = c0; i < c1; ++i) idx.push_back(static_cast<std::uint32_t>(i));
        a = step(a, idx.data(), idx.size());
        continue;
      }
      for (std::size_t g = 0; g < split; ++g) {
        idx.clear();
        for (std::size_t j = g; c0 + j * gran < c1; j += split)
          for (std::size_t i = c0 + j * gran; i < std::min(c0 + (j + 1) * gran, c1); ++i)
            idx.push_back(static_cast<std::uint32_t>(i));
        if (!idx.empty()) a = step(a, idx.data(), idx.size());
      }
    }
    return a;
  }

 private:
  int acc_align(const Num& a) const {
    return std::max(63 - std::countl_zero(a.sig) + a.exp, m_.acc.emin());
  }

  // The participant cut to a multiple of 2^q, in units of 2^q, signed.
  I128 cut(const Num& x, int q) const {
    // |term| < 2^(w + 2) (see accum_model.hpp); terms round toward zero or nearest-even.
    const auto t =
        static_cast<U128>(round_to_quantum(x.neg, x.sig, x.exp, false, q, m_.term_round).k);
    return x.neg ? -I128(t) : I128(t);
  }

  Num exact_step(const Num& a, const std::uint32_t* idx, std::size_t n) {
    const Num* nz[2];
    std::size_t count = 0;
    if (!a.is_zero()) nz[count++] = &a;
    for (std::size_t j = 0; j < n && count <= 2; ++j) {
      const Num& p = prod_[idx[j]];
      if (p.sig == 0) continue;
      if (count < 2) nz[count] = &p;
      ++count;
    }
    if (count == 0) return Num{};
    if (count == 1) return add_round(m_.acc, m_.step_round, *nz[0], Num{}, m_.overflow_inf);
    if (count == 2) return add_round(m_.acc, m_.step_round, *nz[0], *nz[1], m_.overflow_inf);
    wide_.clear();
    if (!a.is_zero()) wide_.add(a.neg, a.sig, a.exp);
    for (std::size_t j = 0; j < n; ++j) {
      const Num& p = prod_[idx[j]];
      if (p.sig) wide_.add(p.neg, p.sig, p.exp);
    }
    return round_wide();
  }

  Num round_wide() {
    ExactValue v;
    if (!wide_.extract(&v)) return Num{};
    return round_exact_num(m_.acc, v, m_.step_round, m_.overflow_inf);
  }

  const AccumModel& m_;
  const Num* prod_;
  WideAcc wide_;
};

}  // namespace

// ---- OpTable ----------------------------------------------------------------------------

OpTable::OpTable(const ElemFormat& elem, const std::optional<ElemFormat>& conv)
    : elem_(elem), conv_(conv) {
  if (elem.bits <= 16) {
    table_.resize(std::size_t{1} << elem.bits);
    for (std::uint32_t c = 0; c < table_.size(); ++c) table_[c] = compute(c);
  }
}

double OpTable::value(std::uint32_t code) const {
  double v = decode(elem_, code);
  if (conv_ && std::isfinite(v) && v != 0)
    v = decode(*conv_,
               encode(*conv_, v, RoundSpec{Rounding::kNearestEven, Overflow::kSaturate, 0}));
  return v;
}

OpElem OpTable::compute(std::uint32_t code) const {
  OpElem o;
  const double v = value(code);
  o.neg = std::signbit(v);
  if (std::isnan(v)) {
    o.cls = NumClass::kNaN;
    return o;
  }
  if (std::isinf(v)) {
    o.cls = NumClass::kInf;
    return o;
  }
  if (v == 0) return o;
  const Num n = num_from_double(v);
  o.sig = static_cast<std::uint32_t>(n.sig);
  o.lsb = static_cast<std::int16_t>(n.exp);
  int align = n.align;
  const ElemFormat& mul = conv_ ? *conv_ : elem_;
  if (mul.is_float()) align = std::max(align, mul.emin());
  o.align = static_cast<std::int16_t>(align);
  return o;
}

// ---- rounding ---------------------------------------------------------------------------

Num round_float(const ElemFormat& f, bool neg, U128 mag, int e, bool sticky, Rounding mode,
                bool overflow_inf) {
  const Packed p = round_pack(f, neg, mag, e, sticky, mode,
                              overflow_inf ? OverflowRule::kInf : OverflowRule::kIeee);
  return num_from_code(f, p.code);
}

// ---- dot --------------------------------------------------------------------------------

std::uint32_t dot(const AccumModel& m, const OpTable& ta, const OpTable& tb, const DotArgs& args,
                  DotScratch& scratch) {
  const std::size_t k = args.k;
  const Num c = num_from_double(args.c);
  if (k == 0) return encode_out(m, args.c == 0 ? 0.0 : args.c);
  const bool block_scales = m.kind == AccumKind::kFused && m.scale_order == ScaleOrder::kBlock;
  auto& prod = scratch.prod;
  prod.resize(k);
  for (std::size_t i = 0; i < k; ++i) {
    int s = 0;
    bool nan_s = false;
    if (args.block > 0 && !block_scales) {
      const std::size_t blk = i / static_cast<std::size_t>(args.block);
      const int x = scale_exp(args.sa[blk]), y = scale_exp(args.sb[blk]);
      nan_s = x == kNanScale || y == kNanScale;
      s = nan_s ? 0 : x + y;
    }
    prod[i] = product(ta(args.a[i]), tb(args.b[i]), s, nan_s);
  }

  if (m.kind == AccumKind::kExact) {
    bool nan = c.cls == NumClass::kNaN, pinf = false, ninf = false;
    if (c.cls == NumClass::kInf) (c.neg ? ninf : pinf) = true;
    WideAcc w;
    w.clear();
    for (std::size_t i = 0; i < k; ++i) {
      const Num& p = prod[i];
      if (p.cls == NumClass::kNaN)
        nan = true;
      else if (p.cls == NumClass::kInf)
        (p.neg ? ninf : pinf) = true;
      else
        w.add(p.neg, p.sig, p.exp);
    }
    if (nan || (pinf && ninf)) return encode_out(m, kNaN);
    if (pinf || ninf) return encode_out(m, ninf ? -kInf : kInf);
    if (!c.is_zero()) w.add(c.neg, c.sig, c.exp);
    ExactValue v;
    if (!w.extract(&v)) return encode_out(m, 0.0);
    return encode_exact(m, v);
  }

  Engine eng(m, prod.data());
  if (m.kind == AccumKind::kPairwise) return finish_with_c(m, eng.pairwise(0, k), c);

  const Num zero{};
  Num f;
  auto& idx = scratch.idx;
  if (!block_scales && m.promote_every == 0) {
    f = eng.segment(0, k, m.c_entry == CEntry::kFirst ? c : zero, idx);
  } else {
    Num p = m.c_entry == CEntry::kPromote ? c : zero;
    bool first = true;
    const std::size_t blk_len =
        block_scales && args.block > 0 ? static_cast<std::size_t>(args.block) : k;
    for (std::size_t b0 = 0; b0 < k; b0 += blk_len) {
      const std::size_t b1 = std::min(b0 + blk_len, k);
      const std::size_t seg =
          m.promote_every > 0 ? static_cast<std::size_t>(m.promote_every) : b1 - b0;
      int s = 0;
      bool nan_s = false;
      if (block_scales && args.block > 0) {
        const std::size_t blk = b0 / static_cast<std::size_t>(args.block);
        const int x = scale_exp(args.sa[blk]), y = scale_exp(args.sb[blk]);
        nan_s = x == kNanScale || y == kNanScale;
        s = nan_s ? 0 : x + y;
      }
      for (std::size_t s0 = b0; s0 < b1; s0 += seg) {
        Num a = eng.segment(s0, std::min(s0 + seg, b1),
                            first && m.c_entry == CEntry::kFirst ? c : zero, idx);
        first = false;
        if (nan_s)
          a.cls = NumClass::kNaN;
        else if (a.cls == NumClass::kFinite && a.sig)
          a.exp += s;
        p = add_round(m.promote, m.promote_round, p, a);
      }
    }
    f = p;
  }
  if (m.c_entry == CEntry::kEnd) return finish_with_c(m, f, c);
  return encode_num(m, f);
}

}  // namespace mx
