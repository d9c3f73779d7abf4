// libFuzzer target: the sweep config (TOML text -> validated SweepConfig,
// experiments/config.cpp). Only ConfigError may come out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "experiments/config.hpp"
#include "formats/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)mx::experiments::parse_config(std::string_view(reinterpret_cast<const char*>(data), size),
                                        "fuzz.toml", "/nonexistent", "fuzz");
  } catch (const mx::experiments::ConfigError& e) {
    if (!mx::is_printable_utf8(mx::sanitize_message(e.what()))) std::abort();
  }
  return 0;
}
