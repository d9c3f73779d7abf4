// PTQ step "smoothquant": SmoothQuant factors from the current X and W
// (algorithms/smoothquant.hpp), applied to both and multiplied into s.
#include "algorithms/smoothquant.hpp"
#include "algorithms/ptq.hpp"

namespace mx::algo::steps {

namespace {
void run(PtqContext& c) {
  const Vec s = smoothquant_factors(c.x, c.w, {c.opt.alpha, c.opt.pow2_scales});
  apply_smoothing(c.x, c.w, s);
  c.res.smooth = c.res.smooth.cwiseProduct(s);
  c.res.ran_smoothquant = true;
}
}  // namespace

extern const PtqStep smoothquant_step;
constinit const PtqStep smoothquant_step{
    .name = "smoothquant",
    .doc = "migrate activation outliers into the weights, s = a^alpha / w^(1-alpha)",
    .role = PtqRole::kTransform,
    .order = 100,
    .run = run,
};

}  // namespace mx::algo::steps
