#include "experiments/model/llama_config.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "experiments/model/model_error.hpp"
#include "formats/message.hpp"

namespace mx::model {

namespace {

int get_int(const nlohmann::json& j, const char* key, const std::string& what, bool required,
            int fallback) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) throw ModelError(fmt::format("{}: missing key {}", what, key));
    return fallback;
  }
  if (!j[key].is_number_integer() || j[key].get<long long>() < 1 ||
      j[key].get<long long>() > (1LL << 30))
    throw ModelError(fmt::format(
        "{}: {} must be a positive integer (got {})", what, key,
        escape_text(j[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
  return static_cast<int>(j[key].get<long long>());
}

double get_num(const nlohmann::json& j, const char* key, const std::string& what, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number() || !(j[key].get<double>() > 0))
    throw ModelError(fmt::format(
        "{}: {} must be a positive number (got {})", what, key,
        escape_text(j[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
  return j[key].get<double>();
}

}  // namespace

LlamaConfig parse_llama_config(const std::string& json_text, const std::string& what) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({})", what, escape_text(e.what())));
  }
  if (!j.is_object()) throw ModelError(fmt::format("{}: not a JSON object", what));
  bool llama = j.contains("model_type") && j["model_type"] == "llama";
  if (j.contains("architectures") && j["architectures"].is_array())
    for (const auto& a : j["architectures"]) llama = llama || a == "LlamaForCausalLM";
  if (!llama)
    throw ModelError(fmt::format(
        "{}: unsupported architecture (architectures {}, model_type {}): only LlamaForCausalLM "
        "/ model_type llama",
        what,
        escape_text(j.value("architectures", nlohmann::json())
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)),
        escape_text(j.value("model_type", nlohmann::json())
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
  LlamaConfig c;
  c.vocab_size = get_int(j, "vocab_size", what, true, 0);
  c.hidden_size = get_int(j, "hidden_size", what, true, 0);
  c.intermediate_size = get_int(j, "intermediate_size", what, true, 0);
  c.num_hidden_layers = get_int(j, "num_hidden_layers", what, true, 0);
  c.num_attention_heads = get_int(j, "num_attention_heads", what, true, 0);
  c.num_key_value_heads = get_int(j, "num_key_value_heads", what, false, c.num_attention_heads);
  c.max_position_embeddings = get_int(j, "max_position_embeddings", what, true, 0);
  c.rms_norm_eps = get_num(j, "rms_norm_eps", what, 1e-6);
  c.rope_theta = get_num(j, "rope_theta", what, 10000.0);
  if (j.contains("tie_word_embeddings") && !j["tie_word_embeddings"].is_null()) {
    if (!j["tie_word_embeddings"].is_boolean())
      throw ModelError(fmt::format("{}: tie_word_embeddings must be true or false", what));
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  if (!j.contains("head_dim") || j["head_dim"].is_null()) {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw ModelError(fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}",
                                   what, c.hidden_size, c.num_attention_heads));
    c.head_dim = c.hidden_size / c.num_attention_heads;
  } else {
    c.head_dim = get_int(j, "head_dim", what, true, 0);
  }
  if (c.head_dim % 2 != 0)
    throw ModelError(
        fmt::format("{}: head_dim {} must be even (RoPE rotates halves)", what, c.head_dim));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw ModelError(
        fmt::format("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", what,
                    c.num_attention_heads, c.num_key_value_heads));
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    throw ModelError(fmt::format("{}: rope_scaling {} is not supported (plain RoPE only)", what,
                                 escape_text(j["rope_scaling"].dump(
                                     -1, ' ', false, nlohmann::json::error_handler_t::replace))));
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (j.contains(key) && j[key] == true)
      throw ModelError(fmt::format("{}: {} = true is not supported", what, key));
  if (j.contains("hidden_act") && j["hidden_act"] != "silu")
    throw ModelError(fmt::format("{}: hidden_act {} is not supported (silu only)", what,
                                 escape_text(j["hidden_act"].dump(
                                     -1, ' ', false, nlohmann::json::error_handler_t::replace))));
  return c;
}

LlamaConfig read_llama_config(const std::string& dir) {
  const auto path = (std::filesystem::path(dir) / "config.json").string();
  std::string text;
  try {
    text = read_regular_file(path, std::uint64_t{1} << 24);  // no FIFO, no folder, <= 16 MiB
  } catch (const IoError& e) {
    throw ModelError(e.what());
  }
  return parse_llama_config(text, path);
}

}  // namespace mx::model
