// Activation quantizers that are not MX block formats, for QuantLinear::set_act_quantizer.
// Both adapt mx::algo (the same code `mxlab ptq` runs), converting the fp32 activations to
// double and back:
//   per-token int<N>: symmetric absmax per row (token), algo::Quantizer with kIntChannel;
//   CrossQuant: Delta_ij = t_i^alpha c_j^(1-alpha) / (2^(N-1) - 1), t_i the token's absmax
//     (dynamic), c_j the channel's absmax over the calibration tokens (static, so values
//     beyond it saturate), algo::crossquant.
#pragma once

#include <memory>

#include "algorithms/quantizer.hpp"
#include "experiments/model/quant_linear.hpp"

namespace mx::model {

using ActQuantizerPtr = std::shared_ptr<const QuantLinear::ActQuantizer>;

ActQuantizerPtr per_token_int_quantizer(const algo::QuantSpec& spec);

ActQuantizerPtr crossquant_quantizer(int bits, double alpha, algo::Vec static_colmax,
                                     Rounding rounding);

}  // namespace mx::model
