// mxlab: the command-line front end. Each subcommand lives in its own cmd_*.cpp and
// registers itself (MXLAB_COMMAND, commands.hpp).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "formats/message.hpp"
#include "tools/mxlab/commands.hpp"

namespace {

// Every message goes through here: one line, printable UTF-8 only, capped (formats/message.hpp),
// whatever file content or exception text it quotes.
void print_error(const char* prefix, const char* what) {
  const std::string line = mx::sanitize_message(what);
  std::fprintf(stderr, "%s%s\n", prefix, line.c_str());
}

// What went to stdout must have arrived: a full disk or a closed descriptor is an error
// (exit 1), not a silent success.
int finish_stdout(int rc) {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;
  if (!flushed || std::ferror(stdout)) {
    std::fprintf(stderr, "mxlab: error: cannot write to standard output (%s)\n",
                 std::strerror(err ? err : EIO));
    return 1;
  }
  return rc;
}

}  // namespace

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
    return finish_stdout(app.exit(e));
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // command-line usage error
  }
  for (auto& c : commands) {
    if (!c.sub->parsed()) continue;
    try {
      return finish_stdout(c.run());
    } catch (const mx::cli::UsageError& e) {
      print_error("mxlab: usage error: ", e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      print_error("mxlab: error: ", "out of memory");
      return 1;
    } catch (const std::exception& e) {
      print_error("mxlab: error: ", e.what());
      return 1;
    }
  }
  return 2;
}
