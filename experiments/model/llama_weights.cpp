#include "experiments/model/llama_weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "experiments/model/model_error.hpp"
#include "experiments/model/safetensors.hpp"

namespace mx::model {

namespace {

std::vector<float> read_checked(const Checkpoint& ck, const std::string& name,
                                const std::vector<std::int64_t>& expected) {
  const StTensorInfo& t = ck.info(name);
  if (t.shape != expected)
    throw ModelError(fmt::format("tensor {}: shape [{}] does not match config.json (expected [{}])",
                                 name, fmt::join(t.shape, ", "), fmt::join(expected, ", ")));
  return ck.read_f32(name);
}

RowMatrixXf read_matrix(const Checkpoint& ck, const std::string& name, Eigen::Index rows,
                        Eigen::Index cols) {
  const std::vector<float> v = read_checked(ck, name, {rows, cols});
  return Eigen::Map<const RowMatrixXf>(v.data(), rows, cols);
}

Eigen::VectorXf read_vector(const Checkpoint& ck, const std::string& name, Eigen::Index n) {
  const std::vector<float> v = read_checked(ck, name, {n});
  return Eigen::Map<const Eigen::VectorXf>(v.data(), n);
}

}  // namespace

std::array<Eigen::Index, 2> linear_shape(const LlamaConfig& c, LinearKind kind) {
  const Eigen::Index h = c.hidden_size, q = Eigen::Index{c.num_attention_heads} * c.head_dim,
                     kv = Eigen::Index{c.num_key_value_heads} * c.head_dim, m = c.intermediate_size;
  switch (kind) {
    case LinearKind::kQ:
      return {q, h};
    case LinearKind::kK:
    case LinearKind::kV:
      return {kv, h};
    case LinearKind::kO:
      return {h, q};
    case LinearKind::kGate:
    case LinearKind::kUp:
      return {m, h};
    case LinearKind::kDown:
      return {h, m};
    case LinearKind::kLmHead:
      return {c.vocab_size, h};
  }
  return {0, 0};
}

LlamaWeights load_llama_weights(const std::string& dir) {
  LlamaWeights w;
  const Checkpoint ck(dir);  // checks the folder first: "model folder ... does not exist"
  w.config = read_llama_config(dir);
  const LlamaConfig& c = w.config;
  // The config's sizes must match the checkpoint before anything is allocated from them: a
  // damaged config.json (num_hidden_layers 2^23) would otherwise reserve gigabytes first.
  const std::string last =
      fmt::format("model.layers.{}.input_layernorm.weight", c.num_hidden_layers - 1);
  if (!ck.contains(last))
    throw ModelError(fmt::format(
        "{}/config.json: num_hidden_layers {} does not match the checkpoint (it has no {})", dir,
        c.num_hidden_layers, last));
  w.embed = read_matrix(ck, "model.embed_tokens.weight", c.vocab_size, c.hidden_size);
  w.linears.resize(static_cast<std::size_t>(c.num_hidden_layers));
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const auto L = static_cast<std::size_t>(l);
    for (int k = 0; k < kLinearsPerLayer; ++k) {
      const LayerId id = make_layer_id(l, static_cast<LinearKind>(k));
      const auto s = linear_shape(c, id.kind);
      w.linears[L][static_cast<std::size_t>(k)] = read_matrix(ck, id.name + ".weight", s[0], s[1]);
    }
    w.input_norm.push_back(
        read_vector(ck, fmt::format("model.layers.{}.input_layernorm.weight", l), c.hidden_size));
    w.post_norm.push_back(read_vector(
        ck, fmt::format("model.layers.{}.post_attention_layernorm.weight", l), c.hidden_size));
  }
  w.final_norm = read_vector(ck, "model.norm.weight", c.hidden_size);
  w.lm_head = c.tie_word_embeddings
                  ? w.embed
                  : read_matrix(ck, "lm_head.weight", c.vocab_size, c.hidden_size);
  return w;
}

}  // namespace mx::model
