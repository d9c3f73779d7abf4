// mxlab quantize: MX (or element-wise) fake-quantization of a tensor, with optional packed
// codes and scales.
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "emulator/io/tensor_io.hpp"
#include "emulator/pack.hpp"
#include "emulator/quantize.hpp"
#include "formats/catalog.hpp"
#include "formats/compat_microxcaling.hpp"
#include "tools/mxlab/commands.hpp"

#ifndef MXLAB_VERSION
#define MXLAB_VERSION "0.0.0"
#endif
#ifndef MXLAB_GIT_REVISION
#define MXLAB_GIT_REVISION "unknown"
#endif

namespace mx::cli {

std::string version_number() { return MXLAB_VERSION; }
std::string git_revision() { return MXLAB_GIT_REVISION; }
std::string version_string() {
  return fmt::format("mxlab {} ({})", MXLAB_VERSION, MXLAB_GIT_REVISION);
}

void check_writable(const std::string& flag, const std::string& path) {
  std::string file = path;
  is_hdf5_spec(path, &file, nullptr);
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(
        fmt::format("{} {}: folder '{}' does not exist", flag, path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error(
        fmt::format("{} {}: folder '{}' is not writable", flag, path, dir.string()));
  if (std::filesystem::is_directory(file))
    throw std::runtime_error(fmt::format("{} {}: is a folder", flag, path));
}

namespace {

struct QuantizeArgs {
  std::string input, output, format, rounding = "nearest-even", overflow = "saturate";
  std::string scale_rule = "floor", scale_format, compat = "ocp", codes_output, scales_output;
  int block_size = 32;
  int axis = -1;
  std::uint64_t seed = 0;
  int threads = 0;
};

int run_quantize(const QuantizeArgs& a, const CLI::App& sub) {
  QuantizeOptions opt;
  MxFormat f;
  try {
    f = parse_mx_format(a.format);
  } catch (const FormatError& e) {
    throw std::runtime_error(fmt::format("--format: {}", e.what()));
  }
  const bool block_given = sub.count("--block-size") > 0;
  if (block_given && a.block_size < 1)
    throw std::runtime_error(fmt::format("--block-size must be >= 1 (got {})", a.block_size));
  if (f.block_size > 0 && (block_given || f.scale != ScaleFormat::kNvfp4))
    f.block_size = a.block_size;
  const auto rnd = parse_rounding(a.rounding);
  if (!rnd)
    throw std::runtime_error(fmt::format("--rounding: unknown rounding mode '{}'", a.rounding));
  const auto ovf = parse_overflow(a.overflow);
  if (!ovf)
    throw std::runtime_error(fmt::format("--overflow: unknown overflow policy '{}'", a.overflow));
  const auto rule = parse_scale_rule(a.scale_rule);
  if (!rule)
    throw std::runtime_error(fmt::format("--scale-rule: unknown scale rule '{}'", a.scale_rule));
  f.rule = *rule;
  if (!a.scale_format.empty()) {
    const auto sf = parse_scale_format(a.scale_format);
    if (!sf || *sf == ScaleFormat::kNvfp4)
      throw std::runtime_error(fmt::format(
          "--scale-format: unknown scale format '{}' (e8m0, ue4m3, fp32)", a.scale_format));
    if (f.block_size == 0)
      throw std::runtime_error(fmt::format(
          "--scale-format: '{}' is an element format without a shared scale", a.format));
    f.scale = *sf;
  }
  opt.block.format = f;
  opt.block.round = RoundSpec{*rnd, *ovf, a.seed};
  if (a.compat == "microxcaling") {
    if (f.block_size == 0 || f.scale != ScaleFormat::kE8m0 || !microxcaling_supports(f.elem))
      throw std::runtime_error(fmt::format(
          "--compat microxcaling: format '{}' is not one microxcaling supports", a.format));
    if (*rnd != Rounding::kNearestEven && *rnd != Rounding::kNearestAway &&
        *rnd != Rounding::kTowardZero)
      throw std::runtime_error(
          "--compat microxcaling: rounding must be nearest-away (its 'nearest'), nearest-even "
          "('even') or toward-zero ('floor')");
    opt.block.compat = Compat::kMicroxcaling;
  } else if (a.compat != "ocp") {
    throw std::runtime_error(
        fmt::format("--compat: unknown mode '{}' (ocp, microxcaling)", a.compat));
  }
  opt.axis = a.axis;
  opt.threads = a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (a.output.empty() && a.codes_output.empty() && a.scales_output.empty())
    throw UsageError("quantize: give at least one of --output, --codes-output, --scales-output");
  if (!a.output.empty()) check_writable("--output", a.output);
  if (!a.codes_output.empty()) check_writable("--codes-output", a.codes_output);
  if (!a.scales_output.empty()) check_writable("--scales-output", a.scales_output);
  if (!a.scales_output.empty() && f.block_size == 0)
    throw std::runtime_error(
        fmt::format("--scales-output: format '{}' has no shared scale", a.format));

  Tensor t = read_tensor(a.input);
  if (f.block_size > 0) {
    try {
      make_blocking(t.shape, a.axis, f.block_size);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
  }
  if (opt.block.compat == Compat::kMicroxcaling && t.dtype != DType::kF32)
    throw std::runtime_error(fmt::format("--compat microxcaling: {} must be float32", a.input));
  std::vector<std::uint32_t> codes, scales;
  // Fake-quantize in place: each block reads all its inputs before writing.
  quantize_tensor(opt, t, a.output.empty() ? nullptr : &t,
                  a.codes_output.empty() ? nullptr : &codes,
                  a.scales_output.empty() ? nullptr : &scales);
  if (!a.codes_output.empty()) {
    const auto bytes = pack_codes(codes, f.elem.bits);
    write_file_atomic(a.codes_output, bytes.data(), bytes.size());
  }
  if (!a.scales_output.empty()) {
    const auto bytes = pack_scales(scales, f.scale == ScaleFormat::kF32 ? 4 : 1);
    write_file_atomic(a.scales_output, bytes.data(), bytes.size());
  }
  if (!a.output.empty()) write_tensor(a.output, t);
  return 0;
}

}  // namespace

void register_quantize(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* sub =
      app.add_subcommand("quantize", "MX fake-quantization of a tensor (.npy or file.h5:/dataset)");
  sub->add_option("--input", args->input,
                  "input tensor: X.npy (float32/float64, C order) or file.h5:/dataset")
      ->required();
  sub->add_option("--output", args->output,
                  "dequantized output, same shape and dtype (replaced atomically)");
  sub->add_option(
         "--format", args->format,
         "mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4_e2m1 mxint8, mx<elem> (mxint4, "
         "mxe3m4), nvfp4, or an element format (e4m3, bf16, ...) for element-wise rounding")
      ->required();
  sub->add_option("--block-size", args->block_size,
                  "elements per shared scale (default 32; nvfp4: 16)");
  sub->add_option("--axis", args->axis, "axis along which blocks run (default -1, the last)");
  sub->add_option(
      "--rounding", args->rounding,
      "nearest-even|nearest-away|toward-zero|toward-positive|toward-negative|odd|stochastic");
  sub->add_option("--overflow", args->overflow, "saturate|to-nan-or-inf");
  sub->add_option("--scale-rule", args->scale_rule, "floor (OCP)|ceil|even|rceil");
  sub->add_option("--scale-format", args->scale_format, "e8m0 (default)|ue4m3|fp32");
  sub->add_option("--compat", args->compat, "ocp (default)|microxcaling");
  sub->add_option("--seed", args->seed, "seed of stochastic rounding");
  sub->add_option("--codes-output", args->codes_output,
                  "packed element codes (raw little-endian bit stream)");
  sub->add_option("--scales-output", args->scales_output,
                  "scale codes, one byte per block (4 for fp32 scales)");
  sub->add_option("--threads", args->threads, "worker threads (default: all cores)");
  out.push_back({sub, [args, sub] { return run_quantize(*args, *sub); }});
}

}  // namespace mx::cli
