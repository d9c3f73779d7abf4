#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "emulator/accum_model.hpp"
#include "formats/mx_format.hpp"

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

// An accumulator model string given with `flag`; an error names the flag. `given`: as in
// parse_accum_model.
AccumModel parse_accum_flag(const std::string& flag, const std::string& value,
                            std::vector<std::string>* given = nullptr);

// Shared by gemm and golden: an operand format (E8M0-scaled MX or element format, <= 16
// bits) and the accumulator model with its output format and rounding. Throw naming the flag.
MxFormat parse_operand_format(const std::string& flag, const std::string& name, int block);

// --accum with --promote-every, --output-format and --rounding, each set only when given on
// the command line. A flag and the same key in --accum (promote=, out=, out-round=) with
// different values is a usage error naming both; a flag alone sets the field; with neither,
// the model's own value (the preset's or kind's default) stays.
struct ModelFlags {
  std::string accum;
  std::optional<int> promote_every;
  std::optional<std::string> output_format, rounding;
};
AccumModel parse_model_flags(const ModelFlags& f);
void register_ptq(CLI::App&, std::vector<Command>&);
void register_eval(CLI::App&, std::vector<Command>&);

// Checks before any work that `path`'s folder exists and is writable, so a bad output
// path fails fast and leaves nothing behind. Throws naming the flag.
void check_writable(const std::string& flag, const std::string& path);

}  // namespace mx::cli
