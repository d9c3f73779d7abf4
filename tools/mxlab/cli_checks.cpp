// Argument checks shared by every subcommand: thread counts and strict integer parsing.
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "formats/message.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

namespace {

// Decimal digits with an optional leading '-', nothing else (no '+', spaces, hex, exponent).
template <typename T>
T parse_strict(const std::string& flag, const std::string& text) {
  T v{};
  const char* b = text.data();
  const char* e = b + text.size();
  const auto r = std::from_chars(b, e, v, 10);
  if (text.empty() || r.ec != std::errc() || r.ptr != e) {
    const bool range = r.ec == std::errc::result_out_of_range ||
                       (std::is_unsigned_v<T> && !text.empty() && text[0] == '-');
    throw CLI::ValidationError(
        flag, fmt::format("'{}' is not {} (expected {} .. {})", escape_text(text, 60),
                          range ? "in range" : "an integer", std::numeric_limits<T>::min(),
                          std::numeric_limits<T>::max()));
  }
  return v;
}

template <typename T>
CLI::Option* add_strict(CLI::App* sub, const std::string& name, T& value, const std::string& desc) {
  auto* opt = sub->add_option_function<std::string>(
      name, [&value, name](const std::string& s) { value = parse_strict<T>(name, s); }, desc);
  opt->type_name(std::is_unsigned_v<T> ? "UINT" : "INT");
  return opt;
}

}  // namespace

int resolve_threads(long long value, long long min) {
  if (value < min)
    throw std::runtime_error(fmt::format("--threads must be >= {} (got {})", min, value));
  if (value > kMaxThreads)
    throw std::runtime_error(fmt::format("--threads must be <= {} (got {})", kMaxThreads, value));
  if (value == 0) {
    const unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : static_cast<int>(std::min<unsigned>(hc, kMaxThreads));
  }
  return static_cast<int>(value);
}

CLI::Option* add_u64_option(CLI::App* sub, const std::string& name, std::uint64_t& value,
                            const std::string& desc) {
  return add_strict(sub, name, value, desc);
}
CLI::Option* add_i64_option(CLI::App* sub, const std::string& name, long long& value,
                            const std::string& desc) {
  return add_strict(sub, name, value, desc);
}
CLI::Option* add_int_option(CLI::App* sub, const std::string& name, int& value,
                            const std::string& desc) {
  return add_strict(sub, name, value, desc);
}

}  // namespace mx::cli
