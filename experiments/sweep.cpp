#include "experiments/sweep.hpp"

#include <fmt/format.h>

namespace mx::experiments {

std::uint64_t hash_key(std::string_view s) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return mix64(h);
}

std::string Point::key() const {
  std::string k =
      fmt::format("workload={};seed={};format={};block_size={};scale_rule={};rounding={}", workload,
                  seed, format, block_size, scale_rule_name(scale_rule), rounding_name(rounding));
  if (model) k += fmt::format(";act_format={};algorithm={};accum={}", act_format, algorithm, accum);
  return k;
}

std::string Point::id() const { return fmt::format("{:016x}", hash_key(key())); }

std::uint64_t Point::rounding_seed() const { return hash_key("rounding-seed;" + key()); }

MxFormat Point::mx_format() const {
  MxFormat f = parse_mx_format(format);
  f.block_size = block_size;
  f.rule = scale_rule;
  return f;
}

std::uint64_t data_seed(const std::string& workload, std::int64_t seed) {
  return hash_key(fmt::format("data-seed;workload={};seed={}", workload, seed));
}

std::vector<Point> expand(const SweepConfig& c) {
  std::vector<Point> out;
  out.reserve(c.workloads.size() * c.seeds.size() * c.formats.size() * c.block_sizes.size() *
              c.scale_rules.size() * c.roundings.size());
  const std::vector<std::string> none = {""};
  for (const auto& w : c.workloads) {
    const bool model = c.workload_specs.at(w).is_model();
    for (const auto s : c.seeds)
      for (const auto& f : c.formats)
        for (const auto& act : model ? c.act_formats : none)
          for (const auto& alg : model ? c.algorithms : none)
            for (const auto& acc : model ? c.accum_models : none)
              for (const int b : c.block_sizes)
                for (const auto r : c.scale_rules)
                  for (const auto m : c.roundings)
                    out.push_back(Point{w, s, f, b, r, m, model, act, alg, acc});
  }
  return out;
}

}  // namespace mx::experiments
