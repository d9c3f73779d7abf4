// The config `mxlab sweep` runs without --config (`mxlab sweep --print-default-config`
// prints it). It doubles as the reference for the config schema.
#include <string_view>

#include "experiments/config.hpp"

namespace mx::experiments {

namespace {
constexpr std::string_view kDefault =
    R"toml(# mxlab sweep: the default config. Every key is shown; unknown keys are errors.
# The run list is the cross product of the [sweep] axes, nested in the order
# workloads > seeds > formats > block_sizes > scale_rules > roundings.

[sweep]
name = "default"                    # default output: results/<name>.h5
# MX formats with E8M0 shared scales: the six concrete OCP formats, or mx<elem> for any
# element format (mxint4, mxe3m4, ...), which is how to sweep bit widths.
formats = ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1", "mxint8"]
block_sizes = [8, 16, 32, 64, 128, 256]
scale_rules = ["floor"]             # floor (OCP) | ceil | even | rceil
roundings = ["nearest-even", "nearest-away", "toward-zero", "stochastic"]
seeds = [0]                         # data seed = f(workload, seed); rounding seed = f(point)
workloads = ["llm_act"]
# Reserved for later versions (rejected today): algorithms = [...], accum_models = [...]

# LLM-like activations [tokens, channels]: N(0,1) entries; a fraction of the tokens drawn
# from Student-t(dof) instead; a fraction of the channels scaled by a factor drawn
# uniformly from outlier_scale. MX blocks run along `axis` (the channels).
[workloads.llm_act]
kind = "llm_activations"
shape = [3072, 4096]
axis = -1
outlier_channel_fraction = 0.005
outlier_scale = [20.0, 100.0]
heavy_token_fraction = 0.05
dof = 3.0

# Other kinds (not run by default):
#   kind = "normal"     keys: shape, axis, mean, std
#   kind = "laplace"    keys: shape, axis, loc, scale
#   kind = "student_t"  keys: shape, axis, dof, scale
#   kind = "weights"    keys: shape ([out, in]), axis, std, row_scale_sigma
#   kind = "file"       keys: path ("x.npy" or "f.h5:/dataset", relative to this file), axis

# The table printed at the end (same options as `mxlab table`).
[report]
rows = "format"
cols = "block_size"
metric = "sqnr_db"
where = { rounding = "nearest-even" }
)toml";
}  // namespace

std::string_view default_config_text() { return kDefault; }

}  // namespace mx::experiments
