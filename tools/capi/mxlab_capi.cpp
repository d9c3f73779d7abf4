// The C ABI (include/mxlab/mxlab.h): argument checks, then the same library calls as the CLI
// (tools/mxlab/cmd_quantize.cpp, cmd_gemm.cpp), every exception caught at the boundary and
// turned into an error code and a one-line thread-local message.
#include "mxlab/mxlab.h"

#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "emulator/accum_model.hpp"
#include "emulator/dot.hpp"
#include "emulator/gemm.hpp"
#include "emulator/quantize.hpp"
#include "emulator/tensor.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/mx_format.hpp"
#include "tools/mxlab/gemm_inputs.hpp"

#ifndef MXLAB_VERSION
#define MXLAB_VERSION "0.0.0"
#endif

namespace mx::capi {
namespace {

thread_local std::string last_error;

// An error with its C code; the message names the argument.
class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// The library's messages name CLI flags ("--accum: ...", "--format-b x: ..."); the C caller
// knows them as arguments: "accum: ...", "format_b x: ...".
std::string as_argument_names(std::string msg) {
  if (msg.rfind("--", 0) != 0) return msg;
  msg.erase(0, 2);
  for (char& ch : msg) {
    if (ch == '-')
      ch = '_';
    else if (!(ch >= 'a' && ch <= 'z'))
      break;
  }
  return msg;
}

// One line: a message never carries a newline into a log.
std::string one_line(std::string msg) {
  for (char& ch : msg)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return msg;
}

template <typename Fn>
int guarded(const char* fn, Fn&& body) {
  int code = MXLAB_OK;
  std::string msg;
  try {
    body();
  } catch (const Error& e) {
    code = e.code();
    msg = e.what();
  } catch (const std::bad_alloc&) {
    code = MXLAB_ERR_NOMEM;
    msg = "out of memory";
  } catch (const std::exception& e) {
    code = MXLAB_ERR_INTERNAL;
    msg = fmt::format("internal error: {}", e.what());
  } catch (...) {
    code = MXLAB_ERR_INTERNAL;
    msg = "internal error: unknown exception";
  }
  try {
    last_error = code == MXLAB_OK ? std::string() : one_line(fmt::format("{}: {}", fn, msg));
  } catch (...) {  // no memory for the message: the code still tells
    last_error.clear();
  }
  return code;
}

void need(const void* p, const char* name) {
  if (p == nullptr) throw Error(MXLAB_ERR_NULL, fmt::format("{} is NULL", name));
}

void need_size(std::size_t n, const char* name) {
  if (n == 0) throw Error(MXLAB_ERR_SIZE, fmt::format("{} = 0 (need at least 1)", name));
}

void need_block(int block_size) {
  if (block_size < 1)
    throw Error(MXLAB_ERR_SIZE, fmt::format("block_size must be >= 1 (got {})", block_size));
}

std::size_t mul(std::size_t a, std::size_t b, const char* what) {
  if (b != 0 && a > std::numeric_limits<std::size_t>::max() / b)
    throw Error(MXLAB_ERR_SIZE, fmt::format("{} is too large ({} x {})", what, a, b));
  return a * b;
}

std::string or_default(const char* s, const char* def) { return s ? std::string(s) : def; }

// The quantize format as `mxlab quantize --format F --block-size B --rounding R
// --scale-rule S` builds it (cmd_quantize.cpp).
BlockSpec quantize_spec(const char* format, int block_size, const char* rounding,
                        const char* scale_rule) {
  need_block(block_size);
  const std::string name = or_default(format, "mxfp8_e4m3");
  BlockSpec spec;
  try {
    spec.format = parse_mx_format(name);
  } catch (const FormatError& e) {
    throw Error(MXLAB_ERR_FORMAT, fmt::format("format: {}", e.what()));
  }
  if (spec.format.block_size > 0) spec.format.block_size = block_size;
  const std::string rnd_name = or_default(rounding, "nearest-even");
  const auto rnd = parse_rounding(rnd_name);
  if (!rnd)
    throw Error(MXLAB_ERR_FORMAT, fmt::format("rounding: unknown rounding mode '{}'", rnd_name));
  const std::string rule_name = or_default(scale_rule, "floor");
  const auto rule = parse_scale_rule(rule_name);
  if (!rule)
    throw Error(MXLAB_ERR_FORMAT, fmt::format("scale_rule: unknown scale rule '{}'", rule_name));
  spec.format.rule = *rule;
  spec.round = RoundSpec{*rnd, Overflow::kSaturate, 0};
  return spec;
}

void need_byte_scales(const MxFormat& f, const char* format) {
  if (f.block_size > 0 && f.scale != ScaleFormat::kE8m0)
    throw Error(MXLAB_ERR_FORMAT,
                fmt::format("format {}: encode/decode take E8M0-scaled MX formats and element "
                            "formats only",
                            format ? format : "mxfp8_e4m3"));
}

void quantize(const float* x, std::size_t n, const BlockSpec& spec, float* y,
              std::vector<std::uint32_t>* codes, std::vector<std::uint32_t>* scales) {
  QuantizeOptions opt;
  opt.block = spec;
  opt.axis = -1;
  opt.threads = 1;  // the caller's thread; results do not depend on it
  Tensor t;
  t.shape = {n};
  t.f32.assign(x, x + n);
  quantize_tensor(opt, t, y ? &t : nullptr, codes, scales);
  if (y) std::memcpy(y, t.f32.data(), n * sizeof(float));
}

MxFormat operand_format(const char* arg, const std::string& name, int block) {
  try {
    return cli::parse_operand_format(arg, name, block);
  } catch (const std::exception& e) {  // std::runtime_error naming the argument
    throw Error(MXLAB_ERR_FORMAT, as_argument_names(e.what()));
  }
}

AccumModel model_of(const char* accum, const char* output_format) {
  const std::string out = or_default(output_format, "fp32");
  try {
    return cli::parse_model_flags(or_default(accum, "exact"), false, -1, out, "nearest-even");
  } catch (const AccumModelError& e) {
    throw Error(MXLAB_ERR_ACCUM, as_argument_names(e.what()));
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    throw Error(msg.rfind("--output-format", 0) == 0 ? MXLAB_ERR_FORMAT : MXLAB_ERR_ACCUM,
                as_argument_names(msg));
  }
}

void check_codes(const std::uint32_t* codes, std::size_t n, const ElemFormat& elem,
                 const char* name) {
  const std::uint32_t mask = elem.code_mask();
  for (std::size_t i = 0; i < n; ++i)
    if ((codes[i] & ~mask) != 0)
      throw Error(MXLAB_ERR_VALUE, fmt::format("{}[{}] = {:#x} is not a code of {} ({} bits)", name,
                                               i, codes[i], elem.name_view(), elem.bits));
}

}  // namespace
}  // namespace mx::capi

using mx::capi::Error;
using mx::capi::guarded;
using mx::capi::need;
using mx::capi::need_size;

extern "C" {

const char* mxlab_version(void) { return MXLAB_VERSION; }

const char* mxlab_last_error(void) { return mx::capi::last_error.c_str(); }

int mxlab_quantize_f32(const float* x, size_t n, const char* format, int block_size,
                       const char* rounding, const char* scale_rule, float* y) {
  return guarded("mxlab_quantize_f32", [&] {
    need(x, "x");
    need(y, "y");
    need_size(n, "n");
    const mx::BlockSpec spec = mx::capi::quantize_spec(format, block_size, rounding, scale_rule);
    mx::capi::quantize(x, n, spec, y, nullptr, nullptr);
  });
}

int mxlab_encode_f32(const float* x, size_t n, const char* format, int block_size,
                     const char* rounding, const char* scale_rule, uint32_t* codes,
                     uint8_t* scales) {
  return guarded("mxlab_encode_f32", [&] {
    need(x, "x");
    need(codes, "codes");
    need_size(n, "n");
    const mx::BlockSpec spec = mx::capi::quantize_spec(format, block_size, rounding, scale_rule);
    mx::capi::need_byte_scales(spec.format, format);
    const bool scaled = spec.format.block_size > 0;
    if (scaled) need(scales, "scales");
    std::vector<std::uint32_t> c, s;
    mx::capi::quantize(x, n, spec, nullptr, &c, scaled ? &s : nullptr);
    std::memcpy(codes, c.data(), n * sizeof(std::uint32_t));
    for (std::size_t b = 0; b < s.size(); ++b) scales[b] = static_cast<std::uint8_t>(s[b]);
  });
}

int mxlab_decode(const uint32_t* codes, const uint8_t* scales, size_t n, const char* format,
                 int block_size, float* y) {
  return guarded("mxlab_decode", [&] {
    need(codes, "codes");
    need(y, "y");
    need_size(n, "n");
    const mx::BlockSpec spec = mx::capi::quantize_spec(format, block_size, nullptr, nullptr);
    mx::capi::need_byte_scales(spec.format, format);
    const mx::MxFormat& f = spec.format;
    if (f.block_size > 0) need(scales, "scales");
    mx::capi::check_codes(codes, n, f.elem, "codes");
    const std::size_t bs = static_cast<std::size_t>(f.block_size);
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = mx::decode(f.elem, codes[i]);
      if (bs == 0) {
        out[i] = static_cast<float>(v);
      } else {
        const int s = mx::scale_exp(scales[i / bs]);
        out[i] = s == mx::kNanScale ? std::numeric_limits<float>::quiet_NaN()
                                    : static_cast<float>(std::ldexp(v, s));
      }
    }
    std::memcpy(y, out.data(), n * sizeof(float));
  });
}

int mxlab_dot(const uint32_t* a_codes, const uint8_t* a_scales, const uint32_t* b_codes,
              const uint8_t* b_scales, size_t k, const char* format, const char* format_b,
              int block_size, const char* accum, float c, uint32_t* out_bits) {
  return guarded("mxlab_dot", [&] {
    need(a_codes, "a_codes");
    need(b_codes, "b_codes");
    need(out_bits, "out_bits");
    need_size(k, "k");
    mx::capi::need_block(block_size);
    const std::string fa_name = mx::capi::or_default(format, "mxfp8_e4m3");
    const mx::MxFormat fa = mx::capi::operand_format("format", fa_name, block_size);
    const mx::MxFormat fb =
        format_b ? mx::capi::operand_format("format_b", format_b, block_size) : fa;
    if ((fa.block_size > 0) != (fb.block_size > 0))
      throw Error(MXLAB_ERR_FORMAT,
                  fmt::format("format_b {}: both operands must have a shared scale or neither",
                              format_b ? format_b : fa_name));
    mx::GemmOptions opt;
    opt.model = mx::capi::model_of(accum, nullptr);
    opt.threads = 1;
    const std::size_t blocks = fa.block_size > 0 ? (k + static_cast<std::size_t>(block_size) - 1) /
                                                       static_cast<std::size_t>(block_size)
                                                 : 0;
    if (blocks > 0) {
      need(a_scales, "a_scales");
      need(b_scales, "b_scales");
    }
    mx::capi::check_codes(a_codes, k, fa.elem, "a_codes");
    mx::capi::check_codes(b_codes, k, fb.elem, "b_codes");
    // One output element of the GEMM (a 1 x k row times a k x 1 column), as mxlab gemm.
    const mx::MxMatrix qa = mx::make_operand(
        fa.elem, fa.block_size, 1, k, std::vector<std::uint32_t>(a_codes, a_codes + k),
        std::vector<std::uint8_t>(a_scales, a_scales + blocks));
    const mx::MxMatrix qb = mx::make_operand(
        fb.elem, fb.block_size, 1, k, std::vector<std::uint32_t>(b_codes, b_codes + k),
        std::vector<std::uint8_t>(b_scales, b_scales + blocks));
    *out_bits = mx::gemm(qa, qb, std::vector<float>{c}, opt)[0];
  });
}

int mxlab_gemm_f32(const float* a, const float* b, const float* c, float* out, size_t m, size_t n,
                   size_t k, const char* format, const char* format_b, int block_size,
                   const char* accum, const char* output_format) {
  return guarded("mxlab_gemm_f32", [&] {
    need(a, "a");
    need(b, "b");
    need(out, "out");
    need_size(m, "m");
    need_size(n, "n");
    need_size(k, "k");
    mx::capi::need_block(block_size);
    const std::size_t mk = mx::capi::mul(m, k, "m x k");
    const std::size_t kn = mx::capi::mul(k, n, "k x n");
    const std::size_t mn = mx::capi::mul(m, n, "m x n");
    const std::string fa_name = mx::capi::or_default(format, "mxfp8_e4m3");
    const mx::MxFormat fa = mx::capi::operand_format("format", fa_name, block_size);
    const mx::MxFormat fb =
        format_b ? mx::capi::operand_format("format_b", format_b, block_size) : fa;
    if ((fa.block_size > 0) != (fb.block_size > 0))
      throw Error(MXLAB_ERR_FORMAT,
                  fmt::format("format_b {}: both operands must have a shared scale or neither",
                              format_b ? format_b : fa_name));
    mx::GemmOptions opt;
    opt.model = mx::capi::model_of(accum, output_format);
    opt.threads = 1;
    // From here on, the steps of mxlab gemm (cmd_gemm.cpp run_gemm).
    mx::Tensor ta, tb;
    ta.shape = {m, k};
    ta.f32.assign(a, a + mk);
    tb.shape = {k, n};
    tb.f32.assign(b, b + kn);
    std::vector<float> c0;
    if (c) c0.assign(c, c + mn);
    mx::BlockSpec sa, sb;
    sa.format = fa;
    sb.format = fb;
    mx::MxMatrix qa = mx::quantize_operand(ta, 1, sa, 1, "a");
    mx::MxMatrix qb = mx::quantize_operand(tb, 0, sb, 1, "b");
    mx::cli::keep_infinities(ta, 1, qa);
    mx::cli::keep_infinities(tb, 0, qb);
    const std::vector<std::uint32_t> codes = mx::gemm(qa, qb, c0, opt);
    std::vector<float> result(mn);
    for (std::size_t i = 0; i < mn; ++i)
      result[i] = static_cast<float>(mx::decode(opt.model.out, codes[i]));
    std::memcpy(out, result.data(), mn * sizeof(float));
  });
}

}  // extern "C"
