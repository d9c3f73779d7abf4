// Names of a Llama model's linear layers: Hugging Face module names
// (model.layers.3.mlp.down_proj, lm_head) plus the layer index and the kind.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mx::model {

// Activations are row-major [tokens x features]; weights are [out x in] as in the checkpoint.
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class LinearKind : std::uint8_t { kQ, kK, kV, kO, kGate, kUp, kDown, kLmHead };
inline constexpr int kLinearsPerLayer = 7;  // q k v o gate up down

struct LayerId {
  int layer = -1;  // decoder layer; -1 for lm_head
  LinearKind kind = LinearKind::kLmHead;
  std::string name;  // HF module name, e.g. "model.layers.3.self_attn.q_proj"
};

LayerId make_layer_id(int layer, LinearKind kind);
// The inverse of make_layer_id(...).name; nullopt for any other string.
std::optional<LayerId> parse_layer_id(std::string_view hf_name);

}  // namespace mx::model
