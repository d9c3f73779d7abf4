// The Llama forward pass in fp32 (Eigen), every linear layer through a QuantLinear.
// Exactly the computation of ../shared/models/bytellama-7m/README.md: x = embed[token]; per
// layer h = RMSNorm(x) w_in; q, k, v projections; RoPE (rotate halves) on q and k; causal
// softmax attention with scale 1/sqrt(head_dim) (grouped-query when there are fewer KV
// heads); x += o_proj(attn); h = RMSNorm(x) w_post; x += down(silu(gate(h)) * up(h));
// logits = lm_head(RMSNorm(x) w_norm).
//
// The pieces (embed, run_decoder_layer, head) are public so that PTQ code can run one
// decoder layer at a time on captured hidden states; a hook observes every linear's input.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "experiments/model/layer_id.hpp"
#include "experiments/model/llama_config.hpp"
#include "experiments/model/llama_weights.hpp"
#include "experiments/model/quant_linear.hpp"

namespace mx::model {

// Called with each linear's input (tokens x in, before activation quantization) just before
// the layer runs. Called from the thread running the forward pass: a hook used with a
// multithreaded evaluation must synchronize itself.
using LinearHook =
    std::function<void(const LayerId& id, const Eigen::Ref<const RowMatrixXf>& input)>;

struct ForwardContext {
  LinearHook on_input;  // empty: none
  // Non-null: per-linear output error against the fp32 layer is accumulated here (indexed
  // like LlamaModel::linear(i)); costs one extra fp32 GEMM per linear.
  std::vector<LinearStats>* stats = nullptr;
};

class LlamaModel {
 public:
  explicit LlamaModel(LlamaWeights w);
  static LlamaModel load(const std::string& dir) { return LlamaModel(load_llama_weights(dir)); }

  const LlamaConfig& config() const { return config_; }

  // The linears in forward order: layer 0 q k v o gate up down, layer 1 ..., then lm_head.
  std::size_t num_linears() const { return linears_.size(); }
  QuantLinear& linear(std::size_t i) { return linears_.at(i); }
  const QuantLinear& linear(std::size_t i) const { return linears_.at(i); }
  QuantLinear& linear(int layer, LinearKind kind);
  QuantLinear& linear(const std::string& hf_name);  // throws ModelError for an unknown name
  std::size_t linear_index(int layer, LinearKind kind) const;

  // The same format for every linear (weights quantized once, from the loaded values).
  void set_format_all(const LinearFormat& f);
  bool quantized() const;  // any linear quantized or under an emulated accumulator

  // Pieces of the forward pass. Hidden states are one sequence, tokens x hidden, at
  // positions 0 .. rows-1 (at most max_position_embeddings).
  RowMatrixXf embed(std::span<const int> tokens) const;  // throws for a token >= vocab
  void run_decoder_layer(int layer, RowMatrixXf& x, const ForwardContext& ctx = {}) const;
  RowMatrixXf head(const RowMatrixXf& x, const ForwardContext& ctx = {}) const;  // logits
  RowMatrixXf forward(std::span<const int> tokens, const ForwardContext& ctx = {}) const;

  const RowMatrixXf& embed_weight() const { return embed_; }
  const Eigen::VectorXf& input_norm(int layer) const { return input_norm_.at(std::size_t(layer)); }
  const Eigen::VectorXf& post_norm(int layer) const { return post_norm_.at(std::size_t(layer)); }
  const Eigen::VectorXf& final_norm() const { return final_norm_; }

 private:
  void run_linear(std::size_t i, const Eigen::Ref<const RowMatrixXf>& x, RowMatrixXf& y,
                  const ForwardContext& ctx) const;
  void attention(const RowMatrixXf& q, const RowMatrixXf& k, const RowMatrixXf& v,
                 RowMatrixXf& out) const;
  void rope(RowMatrixXf& m, int heads) const;

  LlamaConfig config_;
  RowMatrixXf embed_;
  std::vector<QuantLinear> linears_;
  std::vector<Eigen::VectorXf> input_norm_, post_norm_;
  Eigen::VectorXf final_norm_;
  RowMatrixXf rope_cos_, rope_sin_;  // max_position x head_dim/2
};

// x / sqrt(mean(x^2) + eps) * w, row by row (fp32, as the reference implementation).
void rms_norm(const RowMatrixXf& x, const Eigen::VectorXf& w, double eps, RowMatrixXf& out);

}  // namespace mx::model
