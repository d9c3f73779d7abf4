#include "formats/message.hpp"

#include <cstdint>
#include <string>

namespace mx {
namespace {

// Length of the valid, printable UTF-8 sequence at s[i] (0 if the byte must be escaped).
// RFC 3629 well-formed sequences only (no overlongs, no surrogates, <= U+10FFFF); C0 controls,
// DEL and the C1 controls U+0080..U+009F are not printable.
std::size_t printable_seq(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  if (c < 0x80) return c >= 0x20 && c != 0x7F ? 1 : 0;
  std::size_t len;
  std::uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogates
  if (cp >= 0x80 && cp <= 0x9F) return 0;      // C1 controls
  return len;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = printable_seq(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      const auto c = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
}

// The largest prefix length <= n that does not cut a UTF-8 sequence.
std::size_t cut_head(std::string_view s, std::size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}
// The smallest start >= k that does not begin inside a UTF-8 sequence.
std::size_t cut_tail(std::string_view s, std::size_t k) {
  while (k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) ++k;
  return k;
}

std::string fmt_elided(std::size_t n) {
  return " ... (" + std::to_string(n) + " bytes elided) ... ";
}

}  // namespace

std::string escape_text(std::string_view s, std::size_t max) {
  std::string out;
  if (s.size() <= max) {
    append_escaped(out, s);
    if (out.size() <= max) return out;
    out.clear();
  }
  // Each input byte gives at most 4 output bytes: a head and a tail of max / 8 input bytes
  // each keep the result within `max` (plus the marker).
  const std::size_t keep = max / 8 > 0 ? max / 8 : 1;
  const std::size_t h = cut_head(s, keep);
  const std::size_t t = cut_tail(s, s.size() - keep);
  append_escaped(out, s.substr(0, h));
  out += fmt_elided(s.size() - h - (s.size() - t));
  append_escaped(out, s.substr(t));
  return out;
}

bool is_printable_utf8(std::string_view s, bool allow_newline) {
  for (std::size_t i = 0; i < s.size();) {
    if (allow_newline && s[i] == '\n') {
      ++i;
      continue;
    }
    const std::size_t n = printable_seq(s, i);
    if (!n) return false;
    i += n;
  }
  return true;
}

}  // namespace mx
