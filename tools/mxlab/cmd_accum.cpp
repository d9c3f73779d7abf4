// mxlab accum: the accumulator model's keys and presets (generated from the tables in
// emulator/accum_model.cpp), or one model's canonical descriptor and fields.
//   mxlab accum [--list]
//   mxlab accum --describe MODEL
#include <memory>
#include <string>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

struct AccumArgs {
  std::string describe;
  bool list = false;
};

int run_accum(const AccumArgs& a) {
  if (a.describe.empty()) {
    fmt::print("{}", accum_help());
    return 0;
  }
  const AccumModel m = parse_accum_flag("--describe", a.describe);
  fmt::print("descriptor: {}\n", to_string(m));
  for (const auto& [name, value] : accum_attributes(m)) fmt::print("  {:<14} {}\n", name, value);
  return 0;
}

}  // namespace

void register_accum(CLI::App& app, std::vector<Command>& out) {
  auto a = std::make_shared<AccumArgs>();
  CLI::App* sub =
      app.add_subcommand("accum", "list the accumulator model's keys and presets, or describe one");
  sub->add_flag("--list", a->list, "list kinds, keys (values, defaults) and presets (the default)");
  sub->add_option("--describe", a->describe, "print MODEL's canonical descriptor and every field")
      ->excludes(sub->get_option("--list"));
  out.push_back({sub, [a] { return run_accum(*a); }});
}

MXLAB_COMMAND(85, register_accum);

}  // namespace mx::cli
