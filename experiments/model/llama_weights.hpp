// Loading a Hugging Face Llama checkpoint (config.json + safetensors) into fp32 matrices,
// every tensor's shape checked against the config.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "experiments/model/layer_id.hpp"
#include "experiments/model/llama_config.hpp"

namespace mx::model {

struct LlamaWeights {
  LlamaConfig config;
  RowMatrixXf embed;  // vocab x hidden
  // Per decoder layer, in LinearKind order (q k v o gate up down); out x in.
  std::vector<std::array<RowMatrixXf, kLinearsPerLayer>> linears;
  std::vector<Eigen::VectorXf> input_norm, post_norm;  // per layer, hidden
  Eigen::VectorXf final_norm;
  RowMatrixXf lm_head;  // vocab x hidden; a copy of embed when tie_word_embeddings
};

// The expected [rows, cols] of a linear's weight for this config.
std::array<Eigen::Index, 2> linear_shape(const LlamaConfig& c, LinearKind kind);

// Reads DIR/config.json and DIR/model.safetensors (or the sharded index). Throws ModelError
// naming the file / tensor: missing tensor, unsupported dtype, shape differing from the config
// (expected and found), truncated file, ...
LlamaWeights load_llama_weights(const std::string& dir);

}  // namespace mx::model
