// PTQ step "awq": the AWQ scale search on the current X and W (algorithms/awq.hpp), applied and
// multiplied into s, then the clipping search on W (unless PtqOptions::awq.clip is off).
#include "algorithms/awq.hpp"
#include "algorithms/ptq.hpp"
#include "algorithms/smoothquant.hpp"

namespace mx::algo::steps {

namespace {
void run(PtqContext& c) {
  c.res.awq = awq_search_scales(c.x, c.w, c.wq, c.aq, c.opt.awq);
  apply_smoothing(c.x, c.w, c.res.awq.scales);
  c.res.smooth = c.res.smooth.cwiseProduct(c.res.awq.scales);
  if (c.opt.awq.clip) c.w = awq_clip(c.x, c.w, c.wq, c.opt.awq, &c.res.awq);
  c.res.ran_awq = true;
}
}  // namespace

extern const PtqStep awq_step;
constinit const PtqStep awq_step{
    .name = "awq",
    .doc = "activation-aware scale search on the quantized layer output, then weight clipping",
    .role = PtqRole::kTransform,
    .order = 200,
    .run = run,
};

}  // namespace mx::algo::steps
