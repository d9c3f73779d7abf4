#include "experiments/model/act_quant.hpp"

#include <utility>

namespace mx::model {

ActQuantizerPtr per_token_int_quantizer(const algo::QuantSpec& spec) {
  auto q = std::make_shared<const algo::Quantizer>(spec);
  return std::make_shared<const QuantLinear::ActQuantizer>([q](RowMatrixXf& x) {
    const algo::Mat xd = x.cast<double>();
    x = q->quantize_rows(xd).cast<float>();
  });
}

ActQuantizerPtr act_quantizer(algo::ActQuantFn f) {
  return std::make_shared<const QuantLinear::ActQuantizer>([f = std::move(f)](RowMatrixXf& x) {
    const algo::Mat xd = x.cast<double>();
    x = f(xd).cast<float>();
  });
}

}  // namespace mx::model
