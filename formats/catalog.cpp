#include "formats/catalog.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "formats/codec.hpp"

namespace mx {
namespace {

constexpr std::array<ElemFormat, 10> kCatalog = {kE4M3, kE5M2, kE3M2, kE2M3, kE2M1,
                                                 kInt8, kE8M0, kFp16, kBf16, kFp32};

struct Alias {
  std::string_view name;
  const ElemFormat* format;
};
constexpr std::array<Alias, 22> kAliases = {{
    {"e4m3", &kE4M3},     {"fp8_e4m3", &kE4M3}, {"e4m3fn", &kE4M3},      {"float8_e4m3fn", &kE4M3},
    {"e5m2", &kE5M2},     {"fp8_e5m2", &kE5M2}, {"float8_e5m2", &kE5M2}, {"e3m2", &kE3M2},
    {"fp6_e3m2", &kE3M2}, {"e2m3", &kE2M3},     {"fp6_e2m3", &kE2M3},    {"e2m1", &kE2M1},
    {"fp4_e2m1", &kE2M1}, {"fp4", &kE2M1},      {"int8", &kInt8},        {"e8m0", &kE8M0},
    {"fp16", &kFp16},     {"half", &kFp16},     {"bf16", &kBf16},        {"fp32", &kFp32},
    {"float", &kFp32},    {"float32", &kFp32},
}};

// Parses a decimal integer that must fill `s` entirely.
bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::span<const ElemFormat> catalog_formats() { return kCatalog; }

ElemFormat parse_elem_format(std::string_view name) {
  for (const Alias& a : kAliases)
    if (a.name == name) return *a.format;
  if (name.size() > 3 && name.substr(0, 3) == "int") {
    int n = 0;
    if (parse_int(name.substr(3), n) && n >= 2 && n <= 16) return make_int(name, n);
    throw FormatError(fmt::format("unknown format '{}': intN needs N in 2..16", name));
  }
  if (name.size() >= 4 && name[0] == 'e') {
    std::string_view rest = name.substr(1);
    Nonfinite nf = Nonfinite::kFiniteOnly;
    if (rest.ends_with("ieee")) {
      nf = Nonfinite::kIeee;
      rest.remove_suffix(4);
    } else if (rest.ends_with("fn")) {
      nf = Nonfinite::kNanOnly;
      rest.remove_suffix(2);
    }
    const auto mpos = rest.find('m');
    int e = 0, m = 0;
    if (mpos != std::string_view::npos && parse_int(rest.substr(0, mpos), e) &&
        parse_int(rest.substr(mpos + 1), m)) {
      if (e < 1 || e > 8 || m < 0 || m > 23)
        throw FormatError(
            fmt::format("unknown format '{}': eXmY needs X in 1..8 and Y in 0..23", name));
      if (nf == Nonfinite::kIeee && (e < 2 || m < 1))
        throw FormatError(
            fmt::format("unknown format '{}': an ieee format needs X >= 2 and Y >= 1", name));
      if (nf == Nonfinite::kNanOnly && e + m < 2)
        throw FormatError(fmt::format("unknown format '{}': too narrow for a NaN code", name));
      return make_float(name, e, m, nf);
    }
  }
  throw FormatError(fmt::format(
      "unknown format '{}' (expected e4m3, e5m2, e3m2, e2m3, e2m1, int8, e8m0, fp16, bf16, "
      "fp32, eXmY[fn|ieee] or intN)",
      name));
}

std::string describe(const ElemFormat& f) {
  const double max = decode(f, f.max_magnitude_code());
  if (f.is_int())
    return fmt::format("{}: {}-bit two's complement x 2^{}, range {} .. {}", f.name_view(), f.bits,
                       f.int_scale_exp, -std::ldexp(1.0, f.bits - 1 + f.int_scale_exp), max);
  const char* nf = f.nonfinite == Nonfinite::kIeee      ? "Inf+NaN"
                   : f.nonfinite == Nonfinite::kNanOnly ? "NaN-only"
                                                        : "finite-only";
  return fmt::format("{}: {} bits, E{}M{} bias {}, {}, max {}, emax {}", f.name_view(), f.bits,
                     f.exp_bits, f.man_bits, f.bias, nf, max, f.emax());
}

}  // namespace mx
