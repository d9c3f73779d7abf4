// mxlab's version and the git revision of the build. The revision header is generated at
// build time (tools/cmake/MxGitRevision.cmake) and rewritten only when HEAD moves, so this is
// the one file that recompiles after a commit.
#include <string>

#include <fmt/format.h>

#include "mxlab_git_revision.hpp"
#include "tools/mxlab/commands.hpp"

#ifndef MXLAB_VERSION
#define MXLAB_VERSION "0.0.0"
#endif

namespace mx::cli {

std::string version_number() { return MXLAB_VERSION; }
std::string git_revision() { return MXLAB_GIT_REVISION; }
std::string version_string() {
  return fmt::format("mxlab {} ({})", MXLAB_VERSION, MXLAB_GIT_REVISION);
}

}  // namespace mx::cli
