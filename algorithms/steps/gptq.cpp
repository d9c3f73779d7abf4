// PTQ step "gptq": GPTQ on the current W with the Hessian of the current X (algorithms/gptq.hpp).
#include <utility>

#include "algorithms/gptq.hpp"
#include "algorithms/ptq.hpp"

namespace mx::algo::steps {

namespace {
void run(PtqContext& c) {
  c.res.gptq = gptq_quantize(c.w, hessian(c.x), c.wq, c.opt.gptq);
  c.res.w_q_scaled = std::move(c.res.gptq.q);
  c.res.gptq.q = Mat();
  c.res.weight_counts = c.res.gptq.counts;
  c.res.ran_gptq = true;
}
}  // namespace

extern const PtqStep gptq_step;
constinit const PtqStep gptq_step{
    .name = "gptq",
    .doc = "column-by-column quantization with Hessian error compensation",
    .role = PtqRole::kWeight,
    .run = run,
};

}  // namespace mx::algo::steps
