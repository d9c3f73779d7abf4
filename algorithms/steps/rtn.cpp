// PTQ step "rtn": round to nearest, every group of every row on its own parameters
// (algorithms/rtn.hpp). The weight quantizer of every recipe that names no other.
#include "algorithms/rtn.hpp"
#include "algorithms/ptq.hpp"

namespace mx::algo::steps {

namespace {
void run(PtqContext& c) { c.res.w_q_scaled = rtn_quantize(c.w, c.wq, &c.res.weight_counts); }
}  // namespace

extern const PtqStep rtn_step;
constinit const PtqStep rtn_step{
    .name = "rtn",
    .doc = "round to nearest (the default weight quantizer)",
    .role = PtqRole::kWeight,
    .needs_calibration = false,
    .run = run,
};

}  // namespace mx::algo::steps
