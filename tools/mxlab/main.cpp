// mxlab: the command-line front end. Each subcommand lives in its own cmd_*.cpp and
// registers itself (MXLAB_COMMAND, commands.hpp).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "tools/mxlab/commands.hpp"

namespace mx::cli {
namespace {

// Filled during static initialisation (MXLAB_COMMAND), hence a function-local static.
std::vector<std::pair<int, RegisterFn>>& registry() {
  static std::vector<std::pair<int, RegisterFn>> r;
  return r;
}

}  // namespace

bool add_command(int rank, RegisterFn fn) {
  registry().emplace_back(rank, fn);
  return true;
}

void register_commands(CLI::App& app, std::vector<Command>& out) {
  auto r = registry();
  std::stable_sort(r.begin(), r.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [rank, fn] : r) fn(app, out);
}

}  // namespace mx::cli

int main(int argc, char** argv) {
  CLI::App app{"mxlab: bit-accurate OCP Microscaling (MX) emulator and numerics harness"};
  app.set_version_flag("--version", mx::cli::version_string());
  app.require_subcommand(1);
  std::vector<mx::cli::Command> commands;
  mx::cli::register_commands(app, commands);  // every cmd_*.cpp's MXLAB_COMMAND
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // command-line usage error
  }
  for (auto& c : commands) {
    if (!c.sub->parsed()) continue;
    try {
      return c.run();
    } catch (const mx::cli::UsageError& e) {
      std::fprintf(stderr, "mxlab: usage error: %s\n", e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mxlab: error: %s\n", e.what());
      return 1;
    }
  }
  return 2;
}
