// The one error type of the model layer (checkpoint reading, configuration, evaluation).
#pragma once

#include <stdexcept>

namespace mx::model {

// Raised for a bad checkpoint, configuration, text or option; the message is one line and
// names the culprit (file, tensor, key or flag). The CLI prints it after "mxlab eval: ".
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mx::model
