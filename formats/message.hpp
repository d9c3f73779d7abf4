// Untrusted text (bytes from a file, a header, a config value) made safe to quote in a
// message: printable UTF-8 is kept, every other byte (control characters, DEL, C1 controls,
// invalid or overlong UTF-8, surrogates) becomes \xNN, and a long text is cut in the middle
// with "...". Every error path that quotes file content goes through escape_text, and the
// command line passes every message through sanitize_message before printing it, so no
// terminal-control or non-UTF-8 byte from a damaged file reaches stdout or stderr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mx {

inline constexpr std::size_t kMaxQuoted = 200;    // bytes of one quoted value
inline constexpr std::size_t kMaxMessage = 2000;  // bytes of one whole message line

// `s` with non-printable or non-UTF-8 bytes as \xNN (newline and tab too), at most about
// `max` bytes of output: longer texts keep their head and tail around " ... ".
std::string escape_text(std::string_view s, std::size_t max = kMaxQuoted);

// A whole message (already built, possibly quoting untrusted text): the same escaping, one
// line, capped at kMaxMessage bytes.
inline std::string sanitize_message(std::string_view s) { return escape_text(s, kMaxMessage); }

// True if `s` holds only printable UTF-8 (what escape_text produces); for tests.
bool is_printable_utf8(std::string_view s, bool allow_newline = false);

}  // namespace mx
