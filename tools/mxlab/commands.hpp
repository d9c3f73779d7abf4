#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "emulator/accum_model.hpp"
#include "emulator/thread_group.hpp"
#include "formats/mx_format.hpp"
#include "tools/mxlab/gemm_inputs.hpp"  // UsageError, parse_operand_format, parse_model_flags

namespace mx {
class HwCheckError;
}  // namespace mx

namespace mx::cli {

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

// --threads N: 0 (or absent) = every core, 1..kMaxThreads as given; negative or larger
// values are errors naming the flag. `min` is 1 where 0 has no meaning.
int resolve_threads(long long value, long long min = 0);

// Integer options parsed strictly (decimal digits only, in range): CLI11's own conversion
// turns "-1" into 2^64 - 1 for an unsigned option and accepts "1e23". A bad value is a usage
// error naming the flag (exit 2).
CLI::Option* add_u64_option(CLI::App* sub, const std::string& name, std::uint64_t& value,
                            const std::string& desc);
CLI::Option* add_i64_option(CLI::App* sub, const std::string& name, long long& value,
                            const std::string& desc);
CLI::Option* add_int_option(CLI::App* sub, const std::string& name, int& value,
                            const std::string& desc);

}  // namespace mx::cli
