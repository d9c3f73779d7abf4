#include "tests/oracle/oracle_dot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace mx_oracle {

namespace {

// A real, +-Inf or NaN; `neg` is the sign of Inf and of a zero.
struct V {
  enum Cls { kFin, kInf, kNaN } cls = kFin;
  bool neg = false;
  Rational v = 0;  // signed, kFin only
  bool zero() const { return cls == kFin && v == 0; }
};

V nan_v() {
  V r;
  r.cls = V::kNaN;
  return r;
}

V from_decoded(const Decoded& d) {
  V r;
  r.neg = d.negative;
  if (d.cls == Decoded::kNaN)
    r.cls = V::kNaN;
  else if (d.cls == Decoded::kInf)
    r.cls = V::kInf;
  else
    r.v = d.value;
  return r;
}

V from_float(float c) {
  V r;
  r.neg = std::signbit(c);
  if (std::isnan(c))
    r.cls = V::kNaN;
  else if (std::isinf(c))
    r.cls = V::kInf;
  else
    r.v = rational_from_double(static_cast<double>(c));
  return r;
}

Rational abs_r(const Rational& x) { return x < 0 ? Rational(-x) : x; }

int emin_of(const Format& f) { return 1 - f.bias; }

// Rounds a real into float format f with `mode` and IEEE overflow (the model's round_acc):
// an exactly-zero value is +0.
V round_to(const Format& f, const V& x, Mode mode) {
  if (x.cls != V::kFin) return x;
  if (x.v == 0) return V{};
  const bool neg = x.v < 0;
  return from_decoded(decode(f, round_rational(f, neg, abs_r(x.v), mode, Overflow::kToNanOrInf)));
}

// round_to for a fused step: with overflow_inf, a value whose rounding with an unbounded
// exponent exceeds the largest finite value is Inf (NaN, MAX for formats without them) in
// every mode. The unbounded rounding is found one binade below the top, where the format's
// grid is the same up to the factor 2^s: r = round(x / 2^s) * 2^s.
V round_step(const Format& f, const V& x, Mode mode, bool overflow_inf) {
  if (!overflow_inf || x.cls != V::kFin || x.v == 0) return round_to(f, x, mode);
  const Rational mag = abs_r(x.v);
  const int top = emax(f);
  if (floor_log2(mag) < top) return round_to(f, x, mode);  // rounds to at most 2^emax
  const int s = floor_log2(mag) - top + 1;                 // mag / 2^s in [2^(top-1), 2^top)
  const bool neg = x.v < 0;
  const Decoded d = decode(f, round_rational(f, neg, mag / pow2(s), mode, Overflow::kToNanOrInf));
  if (abs_r(d.value) * pow2(s) <= max_value(f)) return round_to(f, x, mode);
  V r;
  r.neg = neg;
  if (f.has_inf())
    r.cls = V::kInf;
  else if (f.has_nan())
    r.cls = V::kNaN;
  else
    r.v = neg ? Rational(-max_value(f)) : max_value(f);
  return r;
}

// x + y with IEEE's non-finite rules; finite sums exact.
V add(const V& x, const V& y) {
  if (x.cls == V::kNaN || y.cls == V::kNaN) return nan_v();
  if (x.cls == V::kInf && y.cls == V::kInf) return x.neg == y.neg ? x : nan_v();
  if (x.cls == V::kInf) return x;
  if (y.cls == V::kInf) return y;
  V r;
  r.v = x.v + y.v;
  return r;
}

struct Operand {
  V v;
  int align = 0;
};

struct Product {
  V v;
  int align = 0;
};

class Model {
 public:
  Model(const DotModel& m, const DotInput& in)
      : m_(m),
        in_(in),
        fa_(format_by_name(in.a_fmt)),
        fb_(format_by_name(in.b_fmt)),
        acc_(format_by_name(m.acc)),
        promote_(format_by_name(m.promote)),
        out_(format_by_name(m.out)) {
    if (!m.conv.empty()) conv_ = format_by_name(m.conv);
  }

  uint32_t run() {
    const std::size_t k = in_.a.size();
    if (in_.b.size() != k) throw std::invalid_argument("oracle dot: length mismatch");
    const V c = from_float(in_.c);
    const bool block_scales = m_.kind == DotModel::Kind::kFused && m_.block_scales;
    for (std::size_t i = 0; i < k; ++i) prods_.push_back(product(i, !block_scales));
    if (k == 0) return output(c);
    if (m_.kind == DotModel::Kind::kExact) {
      V s;
      for (const Product& p : prods_) s = add(s, p.v);
      return output(add(s, c));
    }
    if (m_.kind == DotModel::Kind::kPairwise) return output(add(pairwise(0, k), c));

    V f;
    if (!block_scales && m_.promote_every == 0) {
      f = segment(0, k, m_.c_entry == DotModel::CEntry::kFirst ? c : V{});
    } else {
      V p = m_.c_entry == DotModel::CEntry::kPromote ? c : V{};
      bool first = true;
      const std::size_t blk = block_scales && in_.block > 0 ? std::size_t(in_.block) : k;
      for (std::size_t b0 = 0; b0 < k; b0 += blk) {
        const std::size_t b1 = std::min(b0 + blk, k);
        const std::size_t seg = m_.promote_every > 0 ? std::size_t(m_.promote_every) : b1 - b0;
        std::optional<Rational> scale = Rational(1);
        if (block_scales && in_.block > 0) {
          const auto xa = scale_of(in_.sa[b0 / std::size_t(in_.block)]);
          const auto xb = scale_of(in_.sb[b0 / std::size_t(in_.block)]);
          scale = (xa && xb) ? std::optional<Rational>(*xa * *xb) : std::nullopt;
        }
        for (std::size_t s0 = b0; s0 < b1; s0 += seg) {
          V a = segment(s0, std::min(s0 + seg, b1),
                        first && m_.c_entry == DotModel::CEntry::kFirst ? c : V{});
          first = false;
          if (!scale)
            a = nan_v();
          else if (a.cls == V::kFin)
            a.v *= *scale;
          p = round_to(promote_, add(p, a), m_.promote_mode);
        }
      }
      f = p;
    }
    if (m_.c_entry == DotModel::CEntry::kEnd) return output(add(f, c));
    return output_keep_zero_sign(f);
  }

 private:
  static std::optional<Rational> scale_of(uint8_t code) {
    if (code == 0xFF) return std::nullopt;
    return pow2(int(code) - 127);
  }

  Operand operand(const Format& f, uint32_t code) const {
    Operand o;
    o.v = from_decoded(decode(f, code));
    if (o.v.cls != V::kFin || o.v.v == 0) return o;
    const Format& mul = conv_ ? *conv_ : f;
    if (conv_) {
      const bool neg = o.v.v < 0;
      o.v = from_decoded(decode(*conv_, round_rational(*conv_, neg, abs_r(o.v.v),
                                                       Mode::kNearestEven, Overflow::kSaturate)));
    }
    if (o.v.v == 0) return o;
    o.align = floor_log2(abs_r(o.v.v));
    if (mul.kind == Format::Kind::kFloat) o.align = std::max(o.align, emin_of(mul));
    return o;
  }

  Product product(std::size_t i, bool with_scales) const {
    const Operand a = operand(fa_, in_.a[i]);
    const Operand b = operand(fb_, in_.b[i]);
    Product p;
    std::optional<Rational> scale = Rational(1);
    int scale_exp = 0;
    if (with_scales && in_.block > 0) {
      const uint8_t ca = in_.sa[i / std::size_t(in_.block)],
                    cb = in_.sb[i / std::size_t(in_.block)];
      if (ca == 0xFF || cb == 0xFF)
        scale.reset();
      else {
        scale_exp = int(ca) - 127 + int(cb) - 127;
        scale = pow2(scale_exp);
      }
    }
    p.v.neg = a.v.neg != b.v.neg;
    if (a.v.cls == V::kNaN || b.v.cls == V::kNaN || !scale) {
      p.v.cls = V::kNaN;
    } else if (a.v.cls == V::kInf || b.v.cls == V::kInf) {
      p.v.cls = (a.v.zero() || b.v.zero()) ? V::kNaN : V::kInf;
    } else {
      p.v.v = a.v.v * b.v.v * *scale;
      p.align = a.align + b.align + scale_exp;
    }
    return p;
  }

  V pairwise(std::size_t lo, std::size_t hi) const {
    if (hi - lo == 1) return prods_[lo].v;
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    return round_to(acc_, add(pairwise(lo, mid), pairwise(mid, hi)), m_.step);
  }

  // Cuts x to a multiple of 2^q: toward zero, or to nearest-even.
  Rational cut(const Rational& x, int q) const {
    const Rational t = abs_r(x) / pow2(q);
    Integer fl = numerator(t) / denominator(t);  // floor of a non-negative rational
    if (m_.term_nearest) {
      const Rational frac = t - Rational(fl);
      if (frac > Rational(1, 2) || (frac == Rational(1, 2) && (fl & 1) != 0)) fl += 1;
    }
    const Rational r = Rational(fl) * pow2(q);
    return x < 0 ? Rational(-r) : r;
  }

  V step(const V& a, const std::vector<std::size_t>& group) const {
    V r = step_ieee(a, group);
    if (m_.zero_positive && r.zero()) r.neg = false;  // zero=pos: no -0 out of a step
    return r;
  }

  V step_ieee(const V& a, const std::vector<std::size_t>& group) const {
    V nf = a.cls == V::kFin ? V{} : a;
    for (std::size_t i : group)
      if (prods_[i].v.cls != V::kFin) nf = add(nf, prods_[i].v);
    if (nf.cls != V::kFin) return nf;
    V s;
    if (m_.w == 0) {
      s.v = a.v;
      for (std::size_t i : group) s.v += prods_[i].v.v;
      return round_step(acc_, s, m_.step, m_.overflow_inf);
    }
    const bool a_in = m_.acc_joins && a.v != 0;
    bool any = a_in;
    int e = std::numeric_limits<int>::min();
    if (a_in) e = std::max(floor_log2(abs_r(a.v)), emin_of(acc_));
    for (std::size_t i : group)
      if (prods_[i].v.v != 0) {
        any = true;
        e = std::max(e, prods_[i].align);
      }
    s.v = 0;
    if (any) {
      const int q = e - m_.w;
      if (a_in) s.v += cut(a.v, q);
      for (std::size_t i : group)
        if (prods_[i].v.v != 0) s.v += cut(prods_[i].v.v, q);
    }
    if (!m_.acc_joins) s.v += a.v;
    return round_step(acc_, s, m_.step, m_.overflow_inf);
  }

  V segment(std::size_t s0, std::size_t s1, V a) const {
    const std::size_t chunk = std::size_t(m_.k) * std::size_t(m_.split);
    for (std::size_t c0 = s0; c0 < s1; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, s1);
      for (int g = 0; g < m_.split; ++g) {
        std::vector<std::size_t> group;
        for (std::size_t i = c0; i < c1; ++i)
          if (((i - c0) / std::size_t(m_.gran)) % std::size_t(m_.split) == std::size_t(g))
            group.push_back(i);
        if (!group.empty()) a = step(a, group);
      }
    }
    return a;
  }

  uint32_t output(const V& x) const {  // D = round_out(x); an exact zero is +0
    if (x.cls == V::kNaN)
      return round_to_code(out_, std::numeric_limits<double>::quiet_NaN(), m_.out_mode,
                           m_.out_overflow);
    if (x.cls == V::kInf)
      return round_to_code(out_, x.neg ? -INFINITY : INFINITY, m_.out_mode, m_.out_overflow);
    if (x.v == 0) return round_to_code(out_, 0.0, m_.out_mode, m_.out_overflow);
    return round_rational(out_, x.v < 0, abs_r(x.v), m_.out_mode, m_.out_overflow);
  }

  uint32_t output_keep_zero_sign(const V& x) const {  // D = round_out(F): F's zero sign kept
    if (x.zero()) return round_to_code(out_, x.neg ? -0.0 : 0.0, m_.out_mode, m_.out_overflow);
    return output(x);
  }

  const DotModel& m_;
  const DotInput& in_;
  Format fa_, fb_, acc_, promote_, out_;
  std::optional<Format> conv_;
  std::vector<Product> prods_;
};

}  // namespace

uint32_t dot(const DotModel& model, const DotInput& in) { return Model(model, in).run(); }

namespace {

Mode mode_named(const std::string& v) {
  if (v == "nearest-even") return Mode::kNearestEven;
  if (v == "nearest-away") return Mode::kNearestAway;
  if (v == "toward-zero") return Mode::kTowardZero;
  if (v == "toward-positive") return Mode::kTowardPositive;
  if (v == "toward-negative") return Mode::kTowardNegative;
  if (v == "odd") return Mode::kOdd;
  throw std::invalid_argument("oracle: unknown rounding " + v);
}

bool flag_named(const std::string& v, const char* off, const char* on) {
  if (v == off) return false;
  if (v == on) return true;
  throw std::invalid_argument("oracle: expected " + std::string(off) + " or " + on + ": " + v);
}

}  // namespace

DotModel parse_dot_model(const std::string& descriptor) {
  DotModel m;
  const auto colon = descriptor.find(':');
  const std::string head = descriptor.substr(0, colon);
  if (head == "exact")
    m.kind = DotModel::Kind::kExact;
  else if (head == "pairwise")
    m.kind = DotModel::Kind::kPairwise;
  else if (head == "fused")
    m.kind = DotModel::Kind::kFused;
  else
    throw std::invalid_argument("oracle: unknown kind " + head);
  std::size_t p = colon == std::string::npos ? descriptor.size() : colon + 1;
  while (p < descriptor.size()) {
    const auto q = std::min(descriptor.find(',', p), descriptor.size());
    const std::string kv = descriptor.substr(p, q - p);
    p = q + 1;
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("oracle: not key=value: " + kv);
    const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "k")
      m.k = std::stoi(v);
    else if (k == "split")
      m.split = std::stoi(v);
    else if (k == "gran")
      m.gran = std::stoi(v);
    else if (k == "w")
      m.w = v == "inf" ? 0 : std::stoi(v);
    else if (k == "terms")
      m.term_nearest = flag_named(v, "toward-zero", "nearest-even");
    else if (k == "acc")
      m.acc = v;
    else if (k == "round")
      m.step = mode_named(v);
    else if (k == "conv")
      m.conv = v == "none" ? "" : v;
    else if (k == "join")
      m.acc_joins = flag_named(v, "0", "1");
    else if (k == "ovf")
      m.overflow_inf = flag_named(v, "ieee", "inf");
    else if (k == "zero")
      m.zero_positive = flag_named(v, "sign", "pos");
    else if (k == "c")
      m.c_entry = v == "end"       ? DotModel::CEntry::kEnd
                  : v == "first"   ? DotModel::CEntry::kFirst
                  : v == "promote" ? DotModel::CEntry::kPromote
                                   : throw std::invalid_argument("oracle: unknown c=" + v);
    else if (k == "promote")
      m.promote_every = std::stoi(v);
    else if (k == "promote-acc")
      m.promote = v;
    else if (k == "promote-round")
      m.promote_mode = mode_named(v);
    else if (k == "scales")
      m.block_scales = flag_named(v, "product", "block");
    else if (k == "out")
      m.out = v;
    else if (k == "out-round")
      m.out_mode = mode_named(v);
    else
      throw std::invalid_argument("oracle: unknown key " + k);
  }
  return m;
}

}  // namespace mx_oracle
