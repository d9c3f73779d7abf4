#include "experiments/model/act_quant.hpp"

#include "algorithms/crossquant.hpp"

namespace mx::model {

ActQuantizerPtr per_token_int_quantizer(const algo::QuantSpec& spec) {
  auto q = std::make_shared<const algo::Quantizer>(spec);
  return std::make_shared<const QuantLinear::ActQuantizer>([q](RowMatrixXf& x) {
    const algo::Mat xd = x.cast<double>();
    x = q->quantize_rows(xd).cast<float>();
  });
}

ActQuantizerPtr crossquant_quantizer(int bits, double alpha, algo::Vec static_colmax,
                                     Rounding rounding) {
  auto c = std::make_shared<const algo::Vec>(std::move(static_colmax));
  return std::make_shared<const QuantLinear::ActQuantizer>(
      [bits, alpha, c, rounding](RowMatrixXf& x) {
        const algo::Mat xd = x.cast<double>();
        x = algo::crossquant(xd, bits, alpha, c.get(), rounding).xq.cast<float>();
      });
}

}  // namespace mx::model
