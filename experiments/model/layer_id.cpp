#include "experiments/model/layer_id.hpp"

#include <charconv>

#include <fmt/format.h>

namespace mx::model {

namespace {
constexpr std::string_view kSuffix[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                        "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                        "mlp.down_proj"};
}

LayerId make_layer_id(int layer, LinearKind kind) {
  LayerId id{layer, kind, "lm_head"};
  if (kind != LinearKind::kLmHead)
    id.name = fmt::format("model.layers.{}.{}", layer, kSuffix[static_cast<int>(kind)]);
  return id;
}

std::optional<LayerId> parse_layer_id(std::string_view s) {
  if (s == "lm_head") return make_layer_id(-1, LinearKind::kLmHead);
  constexpr std::string_view kPrefix = "model.layers.";
  if (!s.starts_with(kPrefix)) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  int layer = -1;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), layer);
  if (ec != std::errc() || layer < 0 || p == s.data() + s.size() || *p != '.') return std::nullopt;
  const std::string_view rest(p + 1, static_cast<std::size_t>(s.data() + s.size() - (p + 1)));
  for (int k = 0; k < kLinearsPerLayer; ++k)
    if (rest == kSuffix[k]) {
      const LayerId id = make_layer_id(layer, static_cast<LinearKind>(k));
      if (std::string_view(id.name).substr(kPrefix.size()) != s) return std::nullopt;  // "03"
      return id;
    }
  return std::nullopt;
}

}  // namespace mx::model
