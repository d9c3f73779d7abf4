#include "experiments/model/llama_forward.hpp"

#include <cmath>

#include <fmt/format.h>

#include "emulator/io/io_checks.hpp"
#include "experiments/model/model_error.hpp"

namespace mx::model {

void rms_norm(const RowMatrixXf& x, const Eigen::VectorXf& w, double eps, RowMatrixXf& out) {
  out.resize(x.rows(), x.cols());
  const float e = static_cast<float>(eps);
  const float inv_n = 1.0f / static_cast<float>(x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float ms = x.row(r).squaredNorm() * inv_n;
    const float s = 1.0f / std::sqrt(ms + e);
    out.row(r) = (x.row(r).array() * s * w.transpose().array()).matrix();
  }
}

LlamaModel::LlamaModel(LlamaWeights w)
    : config_(w.config),
      embed_(std::move(w.embed)),
      input_norm_(std::move(w.input_norm)),
      post_norm_(std::move(w.post_norm)),
      final_norm_(std::move(w.final_norm)) {
  const LlamaConfig& c = config_;
  linears_.reserve(static_cast<std::size_t>(c.num_hidden_layers * kLinearsPerLayer + 1));
  for (int l = 0; l < c.num_hidden_layers; ++l)
    for (int k = 0; k < kLinearsPerLayer; ++k)
      linears_.emplace_back(make_layer_id(l, static_cast<LinearKind>(k)),
                            std::move(w.linears[std::size_t(l)][std::size_t(k)]));
  linears_.emplace_back(make_layer_id(-1, LinearKind::kLmHead), std::move(w.lm_head));
  // RoPE tables (rotate halves): angle(pos, i) = pos * theta^(-2i / head_dim).
  const int half = c.head_dim / 2;
  check_allocation(checked_bytes({std::uint64_t(c.max_position_embeddings), std::uint64_t(half)}, 8,
                                 "config.json: max_position_embeddings"),
                   fmt::format("config.json: max_position_embeddings {} (the RoPE tables)",
                               c.max_position_embeddings));
  rope_cos_.resize(c.max_position_embeddings, half);
  rope_sin_.resize(c.max_position_embeddings, half);
  for (int i = 0; i < half; ++i) {
    const auto inv_freq =
        static_cast<float>(1.0 / std::pow(c.rope_theta, 2.0 * i / static_cast<double>(c.head_dim)));
    for (int p = 0; p < c.max_position_embeddings; ++p) {
      const double angle = static_cast<double>(static_cast<float>(p) * inv_freq);
      rope_cos_(p, i) = static_cast<float>(std::cos(angle));
      rope_sin_(p, i) = static_cast<float>(std::sin(angle));
    }
  }
}

std::size_t LlamaModel::linear_index(int layer, LinearKind kind) const {
  if (kind == LinearKind::kLmHead) return linears_.size() - 1;
  if (layer < 0 || layer >= config_.num_hidden_layers)
    throw ModelError(
        fmt::format("layer {} out of range (the model has {})", layer, config_.num_hidden_layers));
  return static_cast<std::size_t>(layer * kLinearsPerLayer + static_cast<int>(kind));
}

QuantLinear& LlamaModel::linear(int layer, LinearKind kind) {
  return linears_[linear_index(layer, kind)];
}

QuantLinear& LlamaModel::linear(const std::string& hf_name) {
  const auto id = parse_layer_id(hf_name);
  if (!id || id->layer >= config_.num_hidden_layers)
    throw ModelError(fmt::format("no linear layer named {}", hf_name));
  return linear(id->layer, id->kind);
}

void LlamaModel::set_format_all(const LinearFormat& f) {
  for (auto& l : linears_) l.set_format(f);
}

bool LlamaModel::quantized() const {
  for (const auto& l : linears_)
    if (l.format().quantized() || l.input_scale().size() != 0) return true;
  return false;
}

RowMatrixXf LlamaModel::embed(std::span<const int> tokens) const {
  if (tokens.size() > static_cast<std::size_t>(config_.max_position_embeddings))
    throw ModelError(fmt::format("{} tokens exceed max_position_embeddings {}", tokens.size(),
                                 config_.max_position_embeddings));
  RowMatrixXf x(static_cast<Eigen::Index>(tokens.size()), config_.hidden_size);
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= config_.vocab_size)
      throw ModelError(fmt::format("token {} at position {} is outside the vocabulary (size {})",
                                   tokens[t], t, config_.vocab_size));
    x.row(static_cast<Eigen::Index>(t)) = embed_.row(tokens[t]);
  }
  return x;
}

void LlamaModel::run_linear(std::size_t i, const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y,
                            const ForwardContext& ctx) const {
  const QuantLinear& lin = linears_[i];
  if (ctx.on_input) ctx.on_input(lin.id(), x);
  lin.forward(x, y);
  if (ctx.stats) {
    RowMatrixXf ref;
    lin.forward_reference(x, ref);
    (*ctx.stats)[i].add(ref, y);
  }
}

void LlamaModel::rope(RowMatrixXf& m, int heads) const {
  const int hd = config_.head_dim, half = hd / 2;
  for (Eigen::Index p = 0; p < m.rows(); ++p) {
    float* row = m.row(p).data();
    const float* c = rope_cos_.row(p).data();
    const float* s = rope_sin_.row(p).data();
    for (int h = 0; h < heads; ++h) {
      float* x = row + h * hd;
      for (int i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * c[i] - x2 * s[i];
        x[i + half] = x2 * c[i] + x1 * s[i];
      }
    }
  }
}

void LlamaModel::attention(const RowMatrixXf& q, const RowMatrixXf& k, const RowMatrixXf& v,
                           RowMatrixXf& out) const {
  const Eigen::Index t = q.rows(), hd = config_.head_dim;
  const int heads = config_.num_attention_heads;
  const int group = heads / config_.num_key_value_heads;
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  out.resize(t, Eigen::Index{heads} * hd);
  RowMatrixXf s(t, t);
  for (int h = 0; h < heads; ++h) {
    const Eigen::Index g = h / group;
    s.noalias() = q.middleCols(h * hd, hd) * k.middleCols(g * hd, hd).transpose();
    for (Eigen::Index i = 0; i < t; ++i) {
      auto r = s.row(i).head(i + 1).array();
      r *= scale;
      const float m = r.maxCoeff();
      r = (r - m).exp();
      r /= r.sum();
    }
    out.middleCols(h * hd, hd).noalias() =
        s.triangularView<Eigen::Lower>() * v.middleCols(g * hd, hd);
  }
}

void LlamaModel::run_decoder_layer(int layer, RowMatrixXf& x, const ForwardContext& ctx) const {
  if (x.rows() > config_.max_position_embeddings || x.cols() != config_.hidden_size)
    throw ModelError(fmt::format("decoder layer input is {} x {}; expected at most {} x {}",
                                 x.rows(), x.cols(), config_.max_position_embeddings,
                                 config_.hidden_size));
  const std::size_t base = linear_index(layer, LinearKind::kQ);
  const double eps = config_.rms_norm_eps;
  RowMatrixXf h, q, k, v, a, o;
  rms_norm(x, input_norm_[std::size_t(layer)], eps, h);
  run_linear(base + 0, h, q, ctx);
  run_linear(base + 1, h, k, ctx);
  run_linear(base + 2, h, v, ctx);
  rope(q, config_.num_attention_heads);
  rope(k, config_.num_key_value_heads);
  attention(q, k, v, a);
  run_linear(base + 3, a, o, ctx);
  x += o;
  rms_norm(x, post_norm_[std::size_t(layer)], eps, h);
  run_linear(base + 4, h, q, ctx);                                  // gate
  run_linear(base + 5, h, k, ctx);                                  // up
  q.array() = q.array() / (1.0f + (-q.array()).exp()) * k.array();  // silu(gate) * up
  run_linear(base + 6, q, o, ctx);
  x += o;
}

RowMatrixXf LlamaModel::head(const RowMatrixXf& x, const ForwardContext& ctx) const {
  RowMatrixXf h, logits;
  rms_norm(x, final_norm_, config_.rms_norm_eps, h);
  run_linear(linears_.size() - 1, h, logits, ctx);
  return logits;
}

RowMatrixXf LlamaModel::forward(std::span<const int> tokens, const ForwardContext& ctx) const {
  RowMatrixXf x = embed(tokens);
  for (int l = 0; l < config_.num_hidden_layers; ++l) run_decoder_layer(l, x, ctx);
  return head(x, ctx);
}

}  // namespace mx::model
