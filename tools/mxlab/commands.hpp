#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "emulator/accum_model.hpp"
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

}  // namespace mx::cli
