// mxlab: the command-line front end. Each subcommand lives in its own cmd_*.cpp.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

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
