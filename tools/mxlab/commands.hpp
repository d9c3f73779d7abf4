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

namespace mx::cli {

struct Command {
  CLI::App* sub;
  std::function<int()> run;
};

std::string version_string();
std::string version_number();  // e.g. 0.1.0
std::string git_revision();    // short hash baked in at configure time
void register_quantize(CLI::App& app, std::vector<Command>& out);
void register_formats(CLI::App& app, std::vector<Command>& out);
void register_sweep(CLI::App&, std::vector<Command>&);
void register_table(CLI::App&, std::vector<Command>&);
void register_gemm(CLI::App&, std::vector<Command>&);
void register_golden(CLI::App&, std::vector<Command>&);
void register_hwcheck(CLI::App&, std::vector<Command>&);
void register_hwfit(CLI::App&, std::vector<Command>&);
void register_accum(CLI::App&, std::vector<Command>&);

void register_ptq(CLI::App&, std::vector<Command>&);
void register_eval(CLI::App&, std::vector<Command>&);

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
