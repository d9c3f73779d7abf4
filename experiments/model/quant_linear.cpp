#include "experiments/model/quant_linear.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "algorithms/metrics.hpp"
#include "emulator/tensor.hpp"
#include "experiments/model/model_error.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"

namespace mx::model {

namespace {

std::optional<BlockSpec> parse_operand(const std::string& flag, const std::string& name,
                                       int block_size) {
  if (name == "none" || name.empty()) return std::nullopt;
  MxFormat f;
  try {
    f = parse_mx_format(name);
  } catch (const FormatError& e) {
    throw ModelError(fmt::format("{}: {}", flag, e.what()));
  }
  if (f.elem.is_scale())
    throw ModelError(fmt::format("{}: {} is a scale format, not an element format", flag, name));
  if (f.block_size > 0 && f.scale != ScaleFormat::kNvfp4) f.block_size = block_size;
  BlockSpec s;
  s.format = f;
  return s;
}

// fp32 elements under E8M0 block scales: exact for every finite fp32 (the element keeps all
// 24 significand bits), so an unquantized operand can meet a blocked one in the emulated GEMM.
BlockSpec fp32_operand(int block) {
  BlockSpec s;
  s.format = parse_mx_format(block > 0 ? "mxfp32" : "fp32");
  s.format.block_size = block;
  return s;
}

void quantize_rows(const BlockQuantizer& bq, float* data, Eigen::Index rows, Eigen::Index cols) {
  const MxFormat& f = bq.spec().format;
  const auto n = static_cast<std::size_t>(rows * cols);
  if (f.block_size == 0) {
    bq.elems_f32(data, n, data, nullptr, 0);
    return;
  }
  const auto c = static_cast<std::size_t>(cols), bs = static_cast<std::size_t>(f.block_size);
  std::vector<std::uint32_t> scales((c + bs - 1) / bs);
  const bool fast = f.scale == ScaleFormat::kE8m0 && bq.spec().compat == Compat::kOcp;
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    float* row = data + r * c;
    if (fast) {
      bq.f32_blocks(row, c, row, scales.data(), r * c);
    } else {
      for (std::size_t s = 0; s < c; s += bs)
        bq.f32(row + s, std::min(bs, c - s), row + s, nullptr, r * c + s);
    }
  }
}

BlockSpec with_tensor_scale(BlockSpec spec, const RowMatrixXf& x) {
  if (spec.format.scale == ScaleFormat::kNvfp4) {
    double amax = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      amax = std::fmax(amax, std::fabs(static_cast<double>(x.data()[i])));
    spec.tensor_scale = nvfp4_tensor_scale(amax);
  }
  return spec;
}

}  // namespace

LinearFormat parse_linear_format(const std::string& weight, const std::string& act, int block_size,
                                 const std::string& accum) {
  if (block_size < 1)
    throw ModelError(fmt::format("--block-size must be >= 1 (got {})", block_size));
  LinearFormat f;
  f.weight = parse_operand("--weight-format", weight, block_size);
  f.act = parse_operand("--act-format", act, block_size);
  f.weight_name = f.weight ? weight : "none";
  f.act_name = f.act ? act : "none";
  f.accum_name = accum;
  if (accum != "fp32") {
    try {
      f.accum = parse_accum_model(accum);
    } catch (const std::invalid_argument& e) {
      throw ModelError(fmt::format("--accum: {}", e.what()));
    }
    // The emulated GEMM takes E8M0-blocked or element-wise operands, blocked alike.
    for (const auto* s : {&f.weight, &f.act})
      if (*s && (*s)->format.block_size > 0 && (*s)->format.scale != ScaleFormat::kE8m0)
        throw ModelError(fmt::format(
            "--accum {}: the emulated GEMM needs E8M0-scaled MX or element formats (got {})", accum,
            (*s)->format.name));
    if (f.weight && f.act && f.weight->format.block_size != f.act->format.block_size)
      throw ModelError(fmt::format(
          "--accum {}: weight format {} and activation format {} must both be MX or both "
          "element-wise for the emulated GEMM",
          accum, weight, act));
  }
  return f;
}

void LinearStats::add(const RowMatrixXf& ref, const RowMatrixXf& q) {
  for (Eigen::Index i = 0; i < ref.size(); ++i) {
    const double r = ref.data()[i], v = q.data()[i], e = v - r;
    sum_ref2 += r * r;
    sum_q2 += v * v;
    sum_err2 += e * e;
    dot += r * v;
    max_abs = std::fmax(max_abs, std::fabs(e));
    if (std::isnan(e)) max_abs = std::numeric_limits<double>::quiet_NaN();
  }
  n += static_cast<std::size_t>(ref.size());
}

void LinearStats::merge(const LinearStats& o) {
  sum_ref2 += o.sum_ref2;
  sum_err2 += o.sum_err2;
  sum_q2 += o.sum_q2;
  dot += o.dot;
  max_abs = (std::isnan(max_abs) || std::isnan(o.max_abs))
                ? std::numeric_limits<double>::quiet_NaN()
                : std::fmax(max_abs, o.max_abs);
  n += o.n;
}

double LinearStats::sqnr_db() const { return algo::sqnr_db(sum_ref2, sum_err2); }
double LinearStats::mse() const { return n ? sum_err2 / static_cast<double>(n) : 0.0; }
double LinearStats::cosine() const { return algo::cosine_similarity(dot, sum_ref2, sum_q2); }

void quantize_rows_inplace(const BlockSpec& spec, RowMatrixXf& x) {
  const BlockQuantizer bq(with_tensor_scale(spec, x));
  quantize_rows(bq, x.data(), x.rows(), x.cols());
}

QuantLinear::QuantLinear(LayerId id, RowMatrixXf weight)
    : id_(std::move(id)), original_(std::move(weight)), effective_(original_) {}

void QuantLinear::set_format(const LinearFormat& fmt) {
  RowMatrixXf w = original_;
  set_weight(std::move(w), fmt, /*requantize=*/true);
}

void QuantLinear::set_weight(RowMatrixXf w, const LinearFormat& fmt, bool requantize) {
  if (w.rows() != original_.rows() || w.cols() != original_.cols())
    throw ModelError(fmt::format("{}: replacement weights are {} x {}, expected {} x {}", id_.name,
                                 w.rows(), w.cols(), original_.rows(), original_.cols()));
  if (requantize && fmt.weight) quantize_rows_inplace(*fmt.weight, w);
  effective_ = std::move(w);
  format_ = fmt;
  w_mx_.reset();
  act_q_.reset();
  if (format_.act && format_.act->format.scale != ScaleFormat::kNvfp4)
    act_q_ = std::make_shared<const BlockQuantizer>(*format_.act);
  if (format_.accum) prepare_emulated();
}

void QuantLinear::set_input_scale(Eigen::VectorXf m) {
  if (m.size() != 0 && m.size() != original_.cols())
    throw ModelError(fmt::format("{}: input scale has {} entries, expected {}", id_.name, m.size(),
                                 original_.cols()));
  input_scale_ = std::move(m);
}

void QuantLinear::prepare_emulated() {
  const int wb = format_.weight ? format_.weight->format.block_size : -1;
  const int ab = format_.act ? format_.act->format.block_size : -1;
  const int block = wb >= 0 ? wb : (ab >= 0 ? ab : 0);
  const BlockSpec w_spec = format_.weight ? *format_.weight : fp32_operand(block);
  a_spec_ = format_.act ? *format_.act : fp32_operand(block);
  Tensor t;
  t.shape = {static_cast<std::size_t>(effective_.rows()),
             static_cast<std::size_t>(effective_.cols())};
  t.f32.assign(effective_.data(), effective_.data() + effective_.size());
  try {
    // Weights already on w_spec's grid re-encode to the same codes (saturation keeps a
    // block's amax in its binade, so its scale does not change).
    w_mx_ = quantize_operand(t, 1, w_spec, 1, id_.name.c_str());
  } catch (const std::invalid_argument& e) {
    throw ModelError(fmt::format("--accum {}: {}", format_.accum_name, e.what()));
  }
}

void QuantLinear::forward(const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y) const {
  const bool plain = !format_.act && input_scale_.size() == 0 && !act_fn_;
  if (!format_.accum && plain) {
    y.noalias() = x * effective_.transpose();
    return;
  }
  RowMatrixXf xq = x;
  if (input_scale_.size() != 0) xq.array().rowwise() *= input_scale_.transpose().array();
  if (act_fn_) (*act_fn_)(xq);
  if (!format_.accum) {
    if (act_q_)
      quantize_rows(*act_q_, xq.data(), xq.rows(), xq.cols());
    else if (format_.act)
      quantize_rows_inplace(*format_.act, xq);
    y.noalias() = xq * effective_.transpose();
    return;
  }
  Tensor t;
  t.shape = {static_cast<std::size_t>(xq.rows()), static_cast<std::size_t>(xq.cols())};
  t.f32.assign(xq.data(), xq.data() + xq.size());
  const MxMatrix a = quantize_operand(t, 1, with_tensor_scale(a_spec_, xq), 1, id_.name.c_str());
  GemmOptions opt;
  opt.model = *format_.accum;
  const std::vector<std::uint32_t> codes = gemm(a, *w_mx_, {}, opt);
  y.resize(xq.rows(), effective_.rows());
  for (Eigen::Index i = 0; i < y.size(); ++i)
    y.data()[i] = static_cast<float>(decode(opt.model.out, codes[static_cast<std::size_t>(i)]));
}

void QuantLinear::forward_reference(const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y) const {
  y.noalias() = x * original_.transpose();
}

}  // namespace mx::model
