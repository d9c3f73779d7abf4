#include "emulator/gemm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "emulator/dot.hpp"
#include "emulator/gemm_blocked.hpp"
#include "emulator/quantize.hpp"
#include "formats/codec.hpp"
#include "formats/round_pack.hpp"

namespace mx {

MxMatrix make_operand(const ElemFormat& elem, int block, std::size_t rows, std::size_t k,
                      std::vector<std::uint32_t> codes, std::vector<std::uint8_t> scales) {
  MxMatrix m;
  m.elem = elem;
  m.block = block;
  m.rows = rows;
  m.k = k;
  m.codes = std::move(codes);
  m.scales = std::move(scales);
  if (m.codes.size() != rows * k) throw std::invalid_argument("make_operand: codes size");
  if (block > 0 && m.scales.size() != rows * m.blocks_per_row())
    throw std::invalid_argument("make_operand: scales size");
  return m;
}

MxMatrix quantize_operand(const Tensor& t, int k_axis, const BlockSpec& spec, int threads,
                          const char* what) {
  if (t.shape.size() != 2)
    throw std::invalid_argument(
        fmt::format("{}: expected a matrix (rank 2), got rank {}", what, t.shape.size()));
  const MxFormat& f = spec.format;
  if (f.block_size > 0 && f.scale != ScaleFormat::kE8m0)
    throw std::invalid_argument(fmt::format(
        "{}: format '{}': gemm supports E8M0 scales or element-wise formats only", what, f.name));
  if (f.elem.is_scale())
    throw std::invalid_argument(fmt::format("{}: '{}' is not an element format", what, f.name));
  QuantizeOptions opt;
  opt.block = spec;
  opt.axis = k_axis;
  opt.threads = threads;
  std::vector<std::uint32_t> codes, scales;
  quantize_tensor(opt, t, nullptr, &codes, f.block_size > 0 ? &scales : nullptr);
  MxMatrix m;
  m.elem = f.elem;
  m.block = f.block_size;
  const std::size_t r = k_axis == 1 ? t.shape[0] : t.shape[1];
  const std::size_t k = k_axis == 1 ? t.shape[1] : t.shape[0];
  m.rows = r;
  m.k = k;
  const std::size_t nb = m.blocks_per_row();
  m.scales.resize(r * nb);
  if (k_axis == 1) {
    m.codes = std::move(codes);
    for (std::size_t i = 0; i < r * nb; ++i) m.scales[i] = static_cast<std::uint8_t>(scales[i]);
  } else {  // K x R: transpose codes; scales are [blocks, R]
    m.codes.resize(r * k);
    for (std::size_t kk = 0; kk < k; ++kk)
      for (std::size_t j = 0; j < r; ++j) m.codes[j * k + kk] = codes[kk * r + j];
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t j = 0; j < r; ++j)
        m.scales[j * nb + b] = static_cast<std::uint8_t>(scales[b * r + j]);
  }
  return m;
}

namespace {

bool is_fp32_seq(const AccumModel& m) {
  return m.kind == AccumKind::kFused && m.k == 1 && m.split == 1 && m.w == 0 && !m.conv &&
         m.acc == kFp32 && m.step_round == Rounding::kNearestEven && m.c_entry == CEntry::kEnd &&
         m.promote_every == 0 && m.scale_order == ScaleOrder::kProduct && !m.overflow_inf &&
         !m.zero_positive;
}

constexpr int kNone = std::numeric_limits<int>::max();

// An element format's values (code -> double) and the bit range of its finite non-zero
// values: each is a multiple of 2^min_lsb below 2^(max_top + 1).
struct ElemFacts {
  std::vector<double> lut;
  std::vector<float> lutf;  // the same values in fp32
  bool has_inf = false;
  bool fp32_exact = true;  // every value is an fp32 number
  int min_lsb = kNone, max_top = -kNone;
  explicit ElemFacts(const ElemFormat& f) {
    const OpTable t(f, std::nullopt);
    lut.resize(std::size_t{1} << f.bits);
    for (std::uint32_t c = 0; c < lut.size(); ++c) {
      const OpElem o = t(c);
      double v;
      if (o.cls == NumClass::kNaN) {
        v = std::numeric_limits<double>::quiet_NaN();
      } else if (o.cls == NumClass::kInf) {
        v = std::numeric_limits<double>::infinity();
        has_inf = true;
      } else {
        v = std::ldexp(static_cast<double>(o.sig), o.lsb);
        if (o.sig) {
          min_lsb = std::min(min_lsb, int{o.lsb});
          max_top = std::max(max_top, int{o.lsb} + static_cast<int>(std::bit_width(o.sig)) - 1);
        }
      }
      lut[c] = o.neg ? -v : v;
    }
    lutf.resize(lut.size());
    for (std::size_t c = 0; c < lut.size(); ++c) {
      lutf[c] = static_cast<float>(lut[c]);
      fp32_exact &= std::isnan(lut[c]) || static_cast<double>(lutf[c]) == lut[c];
    }
  }
};

// The range of an operand's non-NaN scale exponents (0..0 without scales or when all are
// NaN: NaN blocks decode to NaN whatever the bounds).
struct ScaleFacts {
  int min = 0, max = 0;
  explicit ScaleFacts(const MxMatrix& m) {
    if (m.block <= 0) return;
    int lo = 255, hi = -1;
    for (const std::uint8_t c : m.scales)
      if (c != 0xFF) {
        lo = std::min(lo, int{c});
        hi = std::max(hi, int{c});
      }
    if (hi >= 0) {
      min = lo - 127;
      max = hi - 127;
    }
  }
};

// The exact bit range of the scaled finite non-zero values of an operand (a scan).
void scaled_range(const MxMatrix& m, int threads, int* min_lsb, int* max_top) {
  std::vector<int> lo(m.rows, kNone), hi(m.rows, -kNone);
  const OpTable t(m.elem, std::nullopt);
  const std::size_t nb = m.blocks_per_row();
  parallel_for(m.rows, threads, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t kk = 0; kk < m.k; ++kk) {
        const OpElem o = t(m.codes[r * m.k + kk]);
        if (o.cls != NumClass::kFinite || o.sig == 0) continue;
        int s = 0;
        if (m.block > 0) {
          s = scale_exp(m.scales[r * nb + kk / static_cast<std::size_t>(m.block)]);
          if (s == kNanScale) continue;
        }
        lo[r] = std::min(lo[r], o.lsb + s);
        hi[r] = std::max(hi[r], o.lsb + s + static_cast<int>(std::bit_width(o.sig)) - 1);
      }
  });
  *min_lsb = kNone;  // rows may be 0
  *max_top = -kNone;
  for (const int x : lo) *min_lsb = std::min(*min_lsb, x);
  for (const int x : hi) *max_top = std::max(*max_top, x);
}

bool fp32_fits(int lsb_a, int top_a, int lsb_b, int top_b) {
  if (lsb_a == kNone || lsb_b == kNone) return true;  // no finite non-zero values
  return top_a <= 127 && lsb_a >= -149 && top_b <= 127 && lsb_b >= -149 && lsb_a + lsb_b >= -149;
}

enum class Kernel { kGeneric, kFmaF32, kExactBlocks, kFused };

// The choice of kernel and what the kernel needs.
struct Plan {
  Kernel kernel = Kernel::kGeneric;
  GemmIsa isa = GemmIsa::kScalar;
  std::optional<ElemFacts> ea, eb;
  ScaleFacts sa, sb;
  std::vector<double> amul, bmul;  // exact: E8M0 code -> 2^(s - s_min)
  gemm_detail::ExactParams exact;  // amul / bmul set where used (the plan moves)
  int scale0 = 0;                  // exact: the dot is (hi + lo) * 2^scale0
};

Plan make_plan(const MxMatrix& a, const MxMatrix& b, const GemmOptions& opt) {
  Plan p{Kernel::kGeneric,
         gemm_detail::resolve_isa(opt.isa),
         std::nullopt,
         std::nullopt,
         ScaleFacts(a),
         ScaleFacts(b),
         {},
         {},
         {},
         0};
  const AccumModel& m = opt.model;
  if (!opt.allow_fast || a.k == 0 || a.elem.bits > 16 || b.elem.bits > 16) return p;
  if (m.kind == AccumKind::kExact) {
    // gemm_kernel_exact.cpp states the bounds checked here.
    p.ea.emplace(a.elem);
    p.eb.emplace(b.elem);
    const ElemFacts &ea = *p.ea, &eb = *p.eb;
    if (ea.has_inf || eb.has_inf || ea.min_lsb == kNone || eb.min_lsb == kNone) return p;
    const std::size_t blk = a.block > 0 ? static_cast<std::size_t>(a.block) : 32;
    auto clog2 = [](std::size_t x) { return static_cast<int>(std::bit_width(x - 1)); };
    const int prod_bits = (ea.max_top - ea.min_lsb + 1) + (eb.max_top - eb.min_lsb + 1);
    const int spread = (p.sa.max - p.sa.min) + (p.sb.max - p.sb.min);
    // Prescaled groups of as many whole blocks (up to a K chunk of 256) as the bound allows;
    // else the block sums are scaled after.
    std::size_t group = blk;
    bool prescaled = prod_bits + spread + clog2(blk) <= 53;
    if (prescaled)
      while (group * 2 <= std::max(blk, gemm_detail::kExactChunk) &&
             prod_bits + spread + clog2(group * 2) <= 53)
        group *= 2;
    if (!prescaled && prod_bits + clog2(blk) > 53) return p;
    const int xbits = prod_bits + spread + clog2(group);
    const std::size_t ngroups = (a.k + group - 1) / group;
    const int ng_bits = static_cast<int>(std::bit_width(ngroups));
    const int split_bits = 53 - ng_bits;  // B
    const int u = ea.min_lsb + eb.min_lsb;
    p.scale0 = p.sa.min + p.sb.min;
    if (xbits > 51 + split_bits || xbits + 1 + ng_bits > 53 + split_bits || u + p.scale0 < -1000 ||
        u + 53 + split_bits + p.scale0 > 1000)
      return p;
    p.exact.group = group;
    p.exact.prescaled = prescaled;
    p.exact.split = std::ldexp(1.5, 52 + split_bits + u);
    for (const auto& [mul, base] : {std::pair{&p.amul, p.sa.min}, std::pair{&p.bmul, p.sb.min}}) {
      mul->resize(256);
      for (int c = 0; c < 256; ++c)
        (*mul)[std::size_t(c)] =
            c == 0xFF ? std::numeric_limits<double>::quiet_NaN() : std::ldexp(1.0, c - 127 - base);
    }
    p.kernel = Kernel::kExactBlocks;
    return p;
  }
  if (m.kind == AccumKind::kFused && !is_fp32_seq(m)) {
    // gemm_kernel_fused.cpp: the presets' case (cut and steps toward zero, A joins, fp32
    // promotion); the operands are checked for NaN / Inf when decoded.
    const bool promote_ok =
        m.promote_every == 0 || (m.promote == kFp32 && m.promote_round == Rounding::kNearestEven);
    if (m.w >= 1 && m.w + 2 + static_cast<int>(std::bit_width(unsigned(m.k) + 1)) <= 62 &&
        m.term_round == Rounding::kTowardZero && m.step_round == Rounding::kTowardZero &&
        m.acc_joins && m.acc.is_float() && m.acc.man_bits <= 30 &&
        m.scale_order == ScaleOrder::kProduct && promote_ok && !m.overflow_inf &&
        !m.zero_positive)  // the range options (ovf=inf, zero=pos) stay on the generic path
      p.kernel = Kernel::kFused;
    return p;
  }
  if (is_fp32_seq(m)) {
    p.ea.emplace(a.elem);
    p.eb.emplace(b.elem);
    const ElemFacts &ea = *p.ea, &eb = *p.eb;
    if (!ea.fp32_exact || !eb.fp32_exact) return p;
    bool ok = ea.min_lsb == kNone || eb.min_lsb == kNone ||
              fp32_fits(ea.min_lsb + p.sa.min, ea.max_top + p.sa.max, eb.min_lsb + p.sb.min,
                        eb.max_top + p.sb.max);
    if (!ok) {  // the bounds from the format were too wide: look at the values
      int la, ta, lb, tb;
      scaled_range(a, opt.threads, &la, &ta);
      scaled_range(b, opt.threads, &lb, &tb);
      ok = fp32_fits(la, ta, lb, tb);
    }
    if (ok) p.kernel = Kernel::kFmaF32;
  }
  return p;
}

// round_out(F + C) for finite or non-finite doubles F and C: NaN and Inf as IEEE addition, an
// exact zero gives +0, else the exact sum rounded once (round_pack).
std::uint32_t finish(const AccumModel& m, double f, double c) {
  const OverflowRule rule = overflow_rule(m.out_round.overflow);
  if (std::isnan(f) || std::isnan(c) || (std::isinf(f) && std::isinf(c) && (f > 0) != (c > 0)))
    return pack_nan(m.out, false).code;
  if (std::isinf(f) || std::isinf(c))
    return pack_inf(m.out, std::isinf(f) ? f < 0 : c < 0, rule).code;
  const ExactValue s = exact_sum(split_double(f), split_double(c));
  if (s.is_zero()) return round_pack(m.out, false, 0, 0, false, m.out_round.mode, rule).code;
  return round_exact(m.out, s, m.out_round.mode, rule).code;
}

// The step groups of a fused model in order (Engine::segment in dot.cpp, literally) and the
// operands decoded in that order; false when an operand holds NaN / Inf / a NaN scale.
bool prepare_fused(const MxMatrix& a, const MxMatrix& b, const AccumModel& m,
                   gemm_detail::FusedParams* fp, gemm_detail::FusedOperands* ops) {
  const std::size_t k = a.k, chunk = std::size_t(m.k) * std::size_t(m.split);
  const std::size_t gran = std::size_t(m.gran), split = std::size_t(m.split);
  const std::size_t seg = m.promote_every > 0 ? std::size_t(m.promote_every) : k;
  fp->perm.clear();
  fp->groups.clear();
  for (std::size_t s0 = 0; s0 < k; s0 += seg) {
    const std::size_t s1 = std::min(s0 + seg, k);
    for (std::size_t c0 = s0; c0 < s1; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, s1);
      for (std::size_t g = 0; g < split; ++g) {
        const std::size_t start = fp->perm.size();
        if (split == 1) {
          for (std::size_t i = c0; i < c1; ++i) fp->perm.push_back(static_cast<std::uint32_t>(i));
        } else {
          for (std::size_t j = g; c0 + j * gran < c1; j += split)
            for (std::size_t i = c0 + j * gran; i < std::min(c0 + (j + 1) * gran, c1); ++i)
              fp->perm.push_back(static_cast<std::uint32_t>(i));
        }
        if (fp->perm.size() > start) fp->groups.push_back({start, fp->perm.size() - start, false});
      }
    }
    if (m.promote_every > 0 && !fp->groups.empty()) fp->groups.back().promote_after = true;
  }
  fp->w = m.w;
  fp->acc_man = m.acc.man_bits;
  fp->acc_emin = m.acc.emin();
  fp->acc_emax = m.acc.emax();
  fp->acc_max_sig = (std::int64_t{1} << m.acc.man_bits) | m.acc.max_mantissa();
  fp->promote = m.promote_every > 0;
  fp->c_first = m.c_entry == CEntry::kFirst;
  fp->c_promote = m.c_entry == CEntry::kPromote && fp->promote;
  const OpTable ta(a.elem, m.conv), tb(b.elem, m.conv);
  ops->k = k;
  return gemm_detail::decode_fused(a, ta, fp->perm, 0, &ops->a_sig, &ops->a_exp, &ops->a_al) &&
         gemm_detail::decode_fused(b, tb, fp->perm, 8, &ops->b_sig, &ops->b_exp, &ops->b_al);
}

// round_out(h + l + c) with one rounding: h, l finite or NaN (exact parts), c an fp32 value.
std::uint32_t finish3(const AccumModel& m, double h, double l, double c) {
  if (c == 0) return finish(m, h, l);
  if (!std::isfinite(c) || std::isnan(h)) return finish(m, h + l, c);  // NaN / Inf decide
  WideAcc w;
  w.clear();
  w.add_double(h);
  w.add_double(l);
  w.add_double(c);
  ExactValue v;
  if (!w.extract(&v)) return encode(m.out, 0.0, m.out_round);
  return round_exact(m.out, v, m.out_round.mode, overflow_rule(m.out_round.overflow)).code;
}

}  // namespace

const char* gemm_kernel_name(const MxMatrix& a, const MxMatrix& b, const GemmOptions& opt) {
  const Plan p = make_plan(a, b, opt);
  if (p.kernel == Kernel::kFused) {
    gemm_detail::FusedParams fp;
    gemm_detail::FusedOperands ops;
    if (!prepare_fused(a, b, opt.model, &fp, &ops)) return "generic";
    return p.isa == GemmIsa::kAvx512 ? "fused-int/avx512" : "fused-int/scalar";
  }
  static const char* const kNames[3][3] = {
      {"fma-f32/scalar", "fma-f32/avx2", "fma-f32/avx512"},
      {"exact-blocks/scalar", "exact-blocks/avx2", "exact-blocks/avx512"},
      {"exact-prescaled/scalar", "exact-prescaled/avx2", "exact-prescaled/avx512"}};
  const std::size_t isa = p.isa == GemmIsa::kAvx512 ? 2 : p.isa == GemmIsa::kAvx2 ? 1 : 0;
  switch (p.kernel) {
    case Kernel::kFmaF32:
      return kNames[0][isa];
    case Kernel::kExactBlocks:
      return kNames[p.exact.prescaled ? 2 : 1][isa];
    case Kernel::kFused:
    case Kernel::kGeneric:
      break;
  }
  return "generic";
}

std::vector<std::uint32_t> gemm(const MxMatrix& a, const MxMatrix& b, const std::vector<float>& c0,
                                const GemmOptions& opt) {
  if (a.k != b.k)
    throw std::invalid_argument(
        fmt::format("K mismatch: A has K = {} columns but B has K = {} rows", a.k, b.k));
  if (a.block != b.block)
    throw std::invalid_argument(fmt::format("block size mismatch: A {} vs B {}", a.block, b.block));
  const std::size_t m = a.rows, n = b.rows, k = a.k;
  if (!c0.empty() && c0.size() != m * n)
    throw std::invalid_argument(
        fmt::format("C0 has {} elements, expected {} x {}", c0.size(), m, n));
  validate(opt.model);
  const AccumModel& model = opt.model;
  std::vector<std::uint32_t> out(m * n);
  auto cval = [&](std::size_t i) { return c0.empty() ? 0.0 : static_cast<double>(c0[i]); };

  const Plan plan = make_plan(a, b, opt);
  // fp32 output, nearest-even, IEEE overflow, no C: the hardware conversion is round_out.
  const bool fast_out = model.out == kFp32 && model.out_round.mode == Rounding::kNearestEven &&
                        model.out_round.overflow == Overflow::kToNanOrInf && c0.empty();
  const std::uint32_t nan_code =
      encode(kFp32, std::numeric_limits<double>::quiet_NaN(), model.out_round);
  if (plan.kernel == Kernel::kFmaF32) {
    std::vector<float> smul(256);  // 2^s is an fp32 number (subnormal below 2^-126)
    for (int c = 0; c < 256; ++c)
      smul[std::size_t(c)] =
          c == 0xFF ? std::numeric_limits<float>::quiet_NaN() : std::ldexp(1.0f, c - 127);
    const gemm_detail::TileLayout lay = gemm_detail::f32_layout(plan.isa, m, n);
    gemm_detail::AlignedBuf<float> sums(lay.size());  // every element is written
    gemm_detail::gemm_f32_seq(gemm_detail::Operand(a), gemm_detail::Operand(b),
                              plan.ea->lutf.data(), plan.eb->lutf.data(), smul.data(), m, n,
                              opt.threads, plan.isa, sums.get());
    lay.for_each(m, n, opt.threads, [&](std::size_t i, std::size_t j, std::size_t t) {
      const float s = sums.get()[t];
      if (fast_out)  // s is already the fp32 result: encode(fp32, s) is its bits
        out[i * n + j] = std::isnan(s) ? nan_code : std::bit_cast<std::uint32_t>(s);
      else
        out[i * n + j] = finish(model, s, cval(i * n + j));
    });
    return out;
  }
  if (plan.kernel == Kernel::kExactBlocks) {
    const gemm_detail::TileLayout lay = gemm_detail::exact_layout(plan.isa, m, n);
    gemm_detail::AlignedBuf<double> hi(lay.size()), lo(lay.size());  // all written
    gemm_detail::ExactParams ep = plan.exact;
    ep.amul = plan.amul.data();
    ep.bmul = plan.bmul.data();
    gemm_detail::gemm_exact_blocks(gemm_detail::Operand(a), gemm_detail::Operand(b),
                                   plan.ea->lut.data(), plan.eb->lut.data(), ep, m, n, opt.threads,
                                   plan.isa, hi.get(), lo.get());
    const double scale = std::ldexp(1.0, plan.scale0);  // exact: the plan checked the range
    lay.for_each(m, n, opt.threads, [&](std::size_t i, std::size_t j, std::size_t t) {
      const double h = hi.get()[t] * scale, l = lo.get()[t] * scale;
      out[i * n + j] = finish3(model, h, l, cval(i * n + j));
    });
    return out;
  }

  const OpTable ta(a.elem, model.kind == AccumKind::kFused ? model.conv : std::nullopt);
  const OpTable tb(b.elem, model.kind == AccumKind::kFused ? model.conv : std::nullopt);
  const std::size_t nb = a.blocks_per_row();
  auto generic_dot = [&](std::size_t i, std::size_t j, DotScratch& scratch) {
    DotArgs d;
    d.a = a.codes.data() + i * k;
    d.b = b.codes.data() + j * k;
    if (a.block > 0) {
      d.sa = a.scales.data() + i * nb;
      d.sb = b.scales.data() + j * nb;
    }
    d.k = k;
    d.block = a.block;
    d.c = cval(i * n + j);
    return dot(model, ta, tb, d, scratch);
  };
  if (plan.kernel == Kernel::kFused) {
    gemm_detail::FusedParams fp;
    gemm_detail::FusedOperands ops;
    if (prepare_fused(a, b, model, &fp, &ops)) {
      std::vector<double> f(m * n);
      std::vector<std::uint8_t> bad(m * n);
      gemm_detail::gemm_fused(fp, ops, m, n, c0, opt.threads, plan.isa, f.data(), bad.data());
      parallel_for(m, opt.threads, [&](std::size_t i0, std::size_t i1) {
        DotScratch scratch;
        for (std::size_t i = i0; i < i1; ++i)
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t t = i * n + j;
            if (bad[t]) {
              out[t] = generic_dot(i, j, scratch);
            } else {
              out[t] = finish(model, f[t], model.c_entry == CEntry::kEnd ? cval(t) : 0.0);
            }
          }
      });
      return out;
    }
  }
  parallel_for(m, opt.threads, [&](std::size_t i0, std::size_t i1) {
    DotScratch scratch;
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t j = 0; j < n; ++j) out[i * n + j] = generic_dot(i, j, scratch);
  });
  return out;
}

}  // namespace mx
