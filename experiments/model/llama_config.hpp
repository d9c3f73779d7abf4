// The Hugging Face Llama configuration (config.json) fields the forward pass needs.
#pragma once

#include <string>

namespace mx::model {

struct LlamaConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;  // < num_attention_heads: grouped-query attention
  int head_dim = 0;             // config "head_dim", else hidden_size / num_attention_heads
  int max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;  // true: lm_head = embed_tokens
};

// Parses and validates config JSON text; `what` names the source in errors. Needs
// architectures containing LlamaForCausalLM or model_type "llama"; rejects what the forward
// pass does not implement (rope_scaling, biases, an activation other than silu).
// Throws ModelError naming the key.
LlamaConfig parse_llama_config(const std::string& json_text, const std::string& what);
// Reads DIR/config.json.
LlamaConfig read_llama_config(const std::string& dir);

}  // namespace mx::model
