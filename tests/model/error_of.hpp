// The message of the ModelError that fn() throws, or "" when it throws none: for tests that
// check which flag, file or tensor an error names.
#pragma once

#include <string>

#include "experiments/model/model_error.hpp"

namespace mx::test {

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const model::ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace mx::test
