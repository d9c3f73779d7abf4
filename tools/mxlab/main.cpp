// mxlab: the command-line front end. Each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <exception>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "tools/mxlab/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mxlab: bit-accurate OCP Microscaling (MX) emulator and numerics harness"};
  app.set_version_flag("--version", mx::cli::version_string());
  app.require_subcommand(1);
  std::vector<mx::cli::Command> commands;
  mx::cli::register_quantize(app, commands);
  mx::cli::register_sweep(app, commands);
  mx::cli::register_table(app, commands);
  mx::cli::register_formats(app, commands);
  mx::cli::register_gemm(app, commands);
  mx::cli::register_golden(app, commands);
  mx::cli::register_hwcheck(app, commands);
  mx::cli::register_hwfit(app, commands);
  mx::cli::register_accum(app, commands);
  mx::cli::register_ptq(app, commands);
  mx::cli::register_eval(app, commands);
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
