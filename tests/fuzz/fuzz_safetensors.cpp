// libFuzzer target: the safetensors header (experiments/model/safetensors.cpp) and, for
// inputs starting with '{', the Llama config.json parser (experiments/model/llama_config.cpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "experiments/model/llama_config.hpp"
#include "experiments/model/model_error.hpp"
#include "experiments/model/safetensors.hpp"
#include "formats/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    if (size > 0 && data[0] == '{') {
      const mx::model::LlamaConfig c = mx::model::parse_llama_config(
          std::string(reinterpret_cast<const char*>(data), size), "config.json");
      if (c.num_hidden_layers < 1 || c.head_dim < 1 || c.num_key_value_heads < 1) std::abort();
    } else {
      const mx::model::StHeader h = mx::model::parse_safetensors_header(data, size, "fuzz");
      for (const auto& [name, t] : h.tensors)
        if (t.begin > t.end || h.data_start + t.end > size) std::abort();
    }
  } catch (const mx::model::ModelError& e) {
    if (!mx::is_printable_utf8(e.what())) std::abort();
  }
  return 0;
}
