#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "emulator/accum_model.hpp"
#include "formats/mx_format.hpp"
#include "tools/mxlab/gemm_inputs.hpp"  // parse_operand_format, parse_model_flags

namespace mx {
class HwCheckError;
}  // namespace mx

namespace mx::cli {

// Thrown for a bad combination of flags (exit status 2); other errors exit with 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Command {
  CLI::App* sub;
  std::function<int()> run;
};

// Subcommands register themselves: each cmd_*.cpp defines register_X(app, out), which adds
// its CLI::App and pushes a Command, and names it once at namespace scope with
// MXLAB_COMMAND(rank, register_X). main() calls them in rank order, the order of
// `mxlab --help`. A new command is a new cmd_X.cpp and one line in tools/CMakeLists.txt.
using RegisterFn = void (*)(CLI::App&, std::vector<Command>&);
bool add_command(int rank, RegisterFn fn);  // for MXLAB_COMMAND; returns true
void register_commands(CLI::App& app, std::vector<Command>& out);  // all, in rank order
#define MXLAB_COMMAND(rank, fn) \
  [[maybe_unused]] static const bool mxlab_command_##fn = ::mx::cli::add_command(rank, fn)

std::string version_string();
std::string version_number();  // e.g. 0.1.0
std::string git_revision();    // short hash of the build (generated at build time)

// Library errors name the entity (file, group filter, model); the CLI adds its flag. Rethrows
// an mx::hw error naming --data, --group or `model_flag` by the error's culprit().
[[noreturn]] void rethrow_with_flag(const HwCheckError& e, const char* model_flag);

// Checks before any work that `path`'s folder exists and is writable, so a bad output
// path fails fast and leaves nothing behind. Throws naming the flag.
void check_writable(const std::string& flag, const std::string& path);

}  // namespace mx::cli
