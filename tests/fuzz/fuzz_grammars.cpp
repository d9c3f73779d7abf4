// libFuzzer target: the format-name grammar (formats/catalog, formats/mx_format) and the
// --accum grammar (emulator/accum_model). A name that parses must print and parse back to
// the same model (parse(to_string(m)) == m, DESIGN.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "emulator/accum_model.hpp"
#include "formats/catalog.hpp"
#include "formats/message.hpp"
#include "formats/mx_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  try {
    (void)mx::parse_elem_format(s);
  } catch (const mx::FormatError& e) {
    if (!mx::is_printable_utf8(mx::sanitize_message(e.what()))) std::abort();
  }
  try {
    (void)mx::parse_mx_format(s);
  } catch (const mx::FormatError&) {
  }
  try {
    const mx::AccumModel m = mx::parse_accum_model(s);
    const std::string text = mx::to_string(m);
    if (mx::to_string(mx::parse_accum_model(text)) != text) std::abort();
  } catch (const mx::AccumModelError&) {
  }
  return 0;
}
