// Activation quantizers that are not MX block formats, for QuantLinear::set_act_quantizer.
// Both adapt mx::algo (the same code `mxlab ptq` runs), converting the fp32 activations to
// double and back:
//   per-token int<N>: symmetric absmax per row (token), algo::Quantizer with kIntChannel;
//   any mx::algo::ActQuantFn, e.g. the CrossQuant step's (algorithms/steps/crossquant.cpp:
//     Delta_ij = t_i^alpha c_j^(1-alpha) / (2^(N-1) - 1), t_i the token's absmax (dynamic),
//     c_j the channel's absmax over the calibration tokens (static, so values beyond it
//     saturate)).
#pragma once

#include <memory>

#include "algorithms/ptq_step.hpp"
#include "algorithms/quantizer.hpp"
#include "experiments/model/quant_linear.hpp"

namespace mx::model {

using ActQuantizerPtr = std::shared_ptr<const QuantLinear::ActQuantizer>;

ActQuantizerPtr per_token_int_quantizer(const algo::QuantSpec& spec);

// An mx::algo activation quantizer (e.g. a PTQ activation step's deployed CrossQuant,
// algo::PtqResult::act_quantizer) on the layer's fp32 inputs.
ActQuantizerPtr act_quantizer(algo::ActQuantFn f);

}  // namespace mx::model
