// Runs the built mxlab binary (MXLAB_BIN) with a command line and returns its exit status and
// stderr, for the CLI tests of every layer.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace mx::test {

struct CmdResult {
  int status;
  std::string err;
};

// `tag` names the stderr capture file, so test binaries running in parallel do not collide.
inline CmdResult run_mxlab(const std::string& args, const std::string& tag) {
  const std::string errf =
      (std::filesystem::temp_directory_path() / ("mxlab_" + tag + "_err.txt")).string();
  const std::string cmd = std::string(MXLAB_BIN) + " " + args + " 2>" + errf + " >/dev/null";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(errf);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, err};
}

}  // namespace mx::test
