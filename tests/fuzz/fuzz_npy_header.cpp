// libFuzzer target: the .npy preamble and header parser (emulator/npy.cpp). Any input is a
// whole .npy file; the only allowed outcome besides success is IoError with a printable
// message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "emulator/io/tensor_io.hpp"
#include "formats/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const mx::NpyHeader h = mx::parse_npy_header(data, size, size, "fuzz.npy");
    std::size_t n = 1;
    for (std::size_t d : h.shape) n *= d;  // checked by the parser: no overflow
    if (n != h.count || h.data_offset > size) std::abort();
  } catch (const mx::IoError& e) {
    if (!mx::is_printable_utf8(e.what())) std::abort();
  }
  return 0;
}
