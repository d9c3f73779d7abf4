// Runs the built mxlab binary (MXLAB_BIN) with a command line and returns its exit status and
// stderr, for the CLI tests of every layer.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace mx::test {

struct CmdResult {
  int status;
  std::string err;
};

// A fresh folder for the running test, unique per test and process: ctest runs the tests of
// one binary in parallel processes.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir =
      std::filesystem::temp_directory_path() / (prefix + "_" + info->test_suite_name() + "_" +
                                                info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// `tag` and the process id name the stderr capture file, so parallel tests do not collide.
inline CmdResult run_mxlab(const std::string& args, const std::string& tag) {
  const std::string errf = (std::filesystem::temp_directory_path() /
                            ("mxlab_" + tag + "_" + std::to_string(::getpid()) + "_err.txt"))
                               .string();
  const std::string cmd = std::string(MXLAB_BIN) + " " + args + " 2>" + errf + " >/dev/null";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(errf);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, err};
}

// A bad invocation: the expected status, the culprit named on stderr (one line for status
// 1), and no output file left at `output`.
inline void expect_clean_failure(const std::string& args, int status, const std::string& culprit,
                                 const std::filesystem::path& output, const std::string& tag) {
  const CmdResult r = run_mxlab(args, tag);
  EXPECT_EQ(r.status, status) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(culprit), std::string::npos) << args << "\n" << r.err;
  if (status == 1) {
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(output)) << args;
}

}  // namespace mx::test
