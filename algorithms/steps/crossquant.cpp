// PTQ step "crossquant": CrossQuant activation quantization (algorithms/crossquant.hpp) with
// the int<N> act format's bits (none: 8) and PtqOptions::alpha. Measured with the column
// maxima of the measured rows themselves; deployed with the calibration inputs' column maxima
// (static: tokens beyond them saturate).
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "algorithms/crossquant.hpp"
#include "algorithms/ptq.hpp"

namespace mx::algo::steps {

namespace {

int bits_of(const PtqOptions& o) { return o.act.kind == QuantKind::kNone ? 8 : o.act.bits; }

void check(const PtqOptions& o) {
  if (o.act.kind != QuantKind::kNone && o.act.kind != QuantKind::kIntChannel)
    throw std::invalid_argument(fmt::format(
        "crossquant quantizes activations itself: the act format must be int<N> (got '{}')",
        o.act.name));
}

void run(PtqContext& c) {
  const int bits = bits_of(c.opt);
  CrossQuantResult r = crossquant(c.x, bits, c.opt.alpha, nullptr, c.opt.act.int_rounding);
  c.xq = std::move(r.xq);
  c.res.act_counts = r.counts;
  QuantSpec pt;  // the per-token int<N> baseline the kernel is compared with
  pt.kind = QuantKind::kIntChannel;
  pt.bits = bits;
  pt.int_rounding = c.opt.act.int_rounding;
  c.res.act_kernel_per_token = kernel_proportion(c.x, Quantizer(pt).quantize_rows(c.x));
}

ActQuantFn deploy(const Mat& x, const PtqOptions& o) {
  auto colmax = std::make_shared<const Vec>(x.cwiseAbs().colwise().maxCoeff().transpose());
  return [bits = bits_of(o), alpha = o.alpha, rounding = o.act.int_rounding,
          colmax](const Mat& xs) { return crossquant(xs, bits, alpha, colmax.get(), rounding).xq; };
}

}  // namespace

extern const PtqStep crossquant_step;
constinit const PtqStep crossquant_step{
    .name = "crossquant",
    .doc = "int<N> activations with a step from the token and channel maxima (alpha)",
    .role = PtqRole::kActivation,
    .check = check,
    .run = run,
    .deploy = deploy,
};

}  // namespace mx::algo::steps
