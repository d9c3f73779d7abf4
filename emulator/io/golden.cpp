#include "emulator/io/golden.hpp"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <hdf5.h>

#include "emulator/dot.hpp"
#include "emulator/io/h5.hpp"
#include "emulator/io/io_checks.hpp"
#include "emulator/io/tensor_io.hpp"
#include "emulator/pack.hpp"
#include "formats/codec.hpp"
#include "formats/message.hpp"
#include "formats/rounding.hpp"

namespace mx {
namespace {

// Quantizes one vector along its length; returns codes and scale bytes.
void quantize_vector(const BlockSpec& spec, const std::vector<float>& x,
                     std::vector<std::uint32_t>* codes, std::vector<std::uint8_t>* scales) {
  const BlockQuantizer q(spec);
  codes->assign(x.size(), 0);
  scales->clear();
  const std::size_t bs = static_cast<std::size_t>(spec.format.block_size);
  if (bs == 0) {
    q.elems_f32(x.data(), x.size(), nullptr, codes->data(), 0);
    return;
  }
  for (std::size_t s = 0; s < x.size(); s += bs) {
    const std::size_t len = std::min(bs, x.size() - s);
    scales->push_back(
        static_cast<std::uint8_t>(q.f32(x.data() + s, len, nullptr, codes->data() + s, s)));
  }
}

// Fills a, b (and c) for case kind `kind`.
void generate(const std::string& kind, std::mt19937_64& rng, std::size_t k, GoldenCase& g) {
  std::normal_distribution<float> nd;
  std::uniform_int_distribution<int> wide(-40, 40);
  g.a.assign(k, 0.0f);
  g.b.assign(k, 0.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < k; ++i) {
    g.a[i] = nd(rng);
    g.b[i] = nd(rng);
  }
  if (kind == "wide") {
    for (std::size_t i = 0; i < k; ++i) {
      g.a[i] = std::ldexp(nd(rng), wide(rng));
      g.b[i] = std::ldexp(nd(rng), wide(rng));
    }
  } else if (kind == "cancel") {  // pairs whose products cancel exactly
    for (std::size_t i = 0; i + 1 < k; i += 2) {
      g.a[i + 1] = -g.a[i];
      g.b[i + 1] = g.b[i];
    }
    if (k % 2) g.a[k - 1] = 0.0f;
  } else if (kind == "subnormal") {  // tiny blocks: scales at the E8M0 floor
    for (std::size_t i = 0; i < k; ++i) {
      g.a[i] = std::ldexp(nd(rng), -130);
      g.b[i] = std::ldexp(nd(rng), -20);
    }
  } else if (kind == "zero") {
    std::fill(g.a.begin(), g.a.end(), 0.0f);
  } else if (kind == "nan") {
    g.a[k / 2] = nan;
  } else if (kind == "inf") {
    g.b[0] = -inf;
  } else if (kind == "max") {  // largest magnitudes: saturating blocks, large sums
    for (std::size_t i = 0; i < k; ++i) {
      g.a[i] = std::numeric_limits<float>::max() / 4;
      g.b[i] = 1e30f;
    }
  } else if (kind == "c-only") {
    std::fill(g.b.begin(), g.b.end(), 0.0f);
    g.c = nd(rng);
  } else if (kind == "with-c") {
    g.c = std::ldexp(nd(rng), wide(rng) / 4);
  }
}

const char* const kFixedKinds[] = {"zero", "cancel",    "nan",    "inf",
                                   "max",  "subnormal", "c-only", "with-c"};
const char* const kRandomKinds[] = {"normal", "wide", "cancel", "with-c", "subnormal"};

using H5 = h5::Id;  // RAII for HDF5 identifiers (emulator/io/h5.hpp)

void attr_str(hid_t obj, const char* name, const std::string& v) {
  h5::attr_fixed_str(obj, name, v);
}
void attr_u64(hid_t obj, const char* name, std::uint64_t v) { h5::attr_u64(obj, name, v); }
template <typename T>
bool dataset(hid_t file, const char* name, hid_t ftype, hid_t mtype, std::vector<hsize_t> dims,
             const std::vector<T>& data) {
  H5 space{H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose};
  H5 d{H5Dcreate2(file, name, ftype, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  if (d.id < 0) return false;
  return data.empty() || H5Dwrite(d.id, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0;
}

// Row-packed bytes of every case's codes (each case padded to whole bytes).
std::vector<std::uint8_t> packed_rows(const std::vector<GoldenCase>& cases, bool a, int bits,
                                      std::size_t* row_bytes) {
  std::vector<std::uint8_t> out;
  for (const GoldenCase& g : cases) {
    const auto p = pack_codes(a ? g.a_codes : g.b_codes, bits);
    *row_bytes = p.size();
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

}  // namespace

std::vector<GoldenCase> make_golden(const GoldenSpec& spec) {
  if (spec.k == 0)
    throw std::invalid_argument("golden vectors: k (the dot-product length) must be >= 1");
  if (spec.cases == 0)
    throw std::invalid_argument("golden vectors: the number of cases must be >= 1");
  // Every case holds its operands as floats and codes (and the writers copy them once more):
  // about 64 bytes per element; refuse before allocating what cannot fit.
  const std::string what = fmt::format("golden vectors: cases {} x k {}", spec.cases, spec.k);
  check_allocation(checked_bytes({spec.cases, spec.k}, 64, what), what);
  std::vector<GoldenCase> out(spec.cases);
  const OpTable ta(spec.a.format.elem, spec.model.conv);
  const OpTable tb(spec.b.format.elem, spec.model.conv);
  DotScratch scratch;
  for (std::size_t i = 0; i < spec.cases; ++i) {
    GoldenCase& g = out[i];
    // Each case has its own stream: case i is the same whatever the number of cases.
    std::mt19937_64 rng(stochastic_bits(spec.seed, i));
    g.kind =
        i < std::size(kFixedKinds) ? kFixedKinds[i] : kRandomKinds[rng() % std::size(kRandomKinds)];
    generate(g.kind, rng, spec.k, g);
    quantize_vector(spec.a, g.a, &g.a_codes, &g.a_scales);
    quantize_vector(spec.b, g.b, &g.b_codes, &g.b_scales);
    DotArgs args;
    args.a = g.a_codes.data();
    args.b = g.b_codes.data();
    args.sa = g.a_scales.data();
    args.sb = g.b_scales.data();
    args.k = spec.k;
    args.block = spec.a.format.block_size;
    args.c = g.c;
    g.expected = dot(spec.model, ta, tb, args, scratch);
  }
  return out;
}

void write_golden_h5(const std::string& path, const GoldenSpec& spec,
                     const std::vector<GoldenCase>& cases, const std::string& provenance) {
  StagedOutputs out;
  write_golden_h5_to(out.stage_path(path), path, spec, cases, provenance);
  out.commit();
}

void write_golden_h5_to(const std::string& tmp, const std::string& path, const GoldenSpec& spec,
                        const std::vector<GoldenCase>& cases, const std::string& provenance) {
  h5::quiet();
  io_detail::remove_dead_temps(path);
  const std::size_t n = cases.size(), k = spec.k;
  bool ok = true;
  std::error_code ec;
  {
    H5 f{H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    if (f.id < 0) {
      const int e = errno;
      std::filesystem::remove(tmp, ec);
      throw IoError(
          fmt::format("{}: cannot create the golden file ({})", path, std::strerror(e ? e : EIO)));
    }
    attr_str(f.id, "format_a", spec.a.format.name);
    attr_str(f.id, "format_b", spec.b.format.name);
    attr_str(f.id, "accum", to_string(spec.model));  // canonical: parses back to the model
    for (const auto& [name, value] : accum_attributes(spec.model))  // one per field
      attr_str(f.id, ("accum_" + name).c_str(), value);
    attr_str(f.id, "output_format", std::string(spec.model.out.name_view()));
    attr_str(f.id, "layout", "see results/GOLDEN_VECTORS.md (mxlab golden HDF5 layout v1)");
    attr_str(f.id, "provenance", provenance);
    attr_u64(f.id, "k", k);
    attr_u64(f.id, "cases", n);
    attr_u64(f.id, "block_size", static_cast<std::uint64_t>(spec.a.format.block_size));
    attr_u64(f.id, "seed", spec.seed);
    std::vector<float> av, bv, c;
    std::vector<std::uint32_t> expected, a_codes, b_codes;
    std::vector<std::uint8_t> a_scales, b_scales;
    std::vector<double> expected_value;
    std::string kinds;
    for (const GoldenCase& g : cases) {
      av.insert(av.end(), g.a.begin(), g.a.end());
      bv.insert(bv.end(), g.b.begin(), g.b.end());
      a_codes.insert(a_codes.end(), g.a_codes.begin(), g.a_codes.end());
      b_codes.insert(b_codes.end(), g.b_codes.begin(), g.b_codes.end());
      a_scales.insert(a_scales.end(), g.a_scales.begin(), g.a_scales.end());
      b_scales.insert(b_scales.end(), g.b_scales.begin(), g.b_scales.end());
      c.push_back(g.c);
      expected.push_back(g.expected);
      expected_value.push_back(decode(spec.model.out, g.expected));
      kinds += g.kind + "\n";
    }
    std::size_t abytes = 0, bbytes = 0;
    const auto ap = packed_rows(cases, true, spec.a.format.elem.bits, &abytes);
    const auto bp = packed_rows(cases, false, spec.b.format.elem.bits, &bbytes);
    const hsize_t nb = cases.front().a_scales.size();
    ok = dataset(f.id, "a", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {n, k}, av) &&
         dataset(f.id, "b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {n, k}, bv) &&
         dataset(f.id, "c", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {n}, c) &&
         dataset(f.id, "a_codes", H5T_STD_U32LE, H5T_NATIVE_UINT32, {n, k}, a_codes) &&
         dataset(f.id, "b_codes", H5T_STD_U32LE, H5T_NATIVE_UINT32, {n, k}, b_codes) &&
         dataset(f.id, "a_packed", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, abytes}, ap) &&
         dataset(f.id, "b_packed", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, bbytes}, bp) &&
         dataset(f.id, "a_scales", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, nb}, a_scales) &&
         dataset(f.id, "b_scales", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, nb}, b_scales) &&
         dataset(f.id, "expected", H5T_STD_U32LE, H5T_NATIVE_UINT32, {n}, expected) &&
         dataset(f.id, "expected_value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n}, expected_value);
    attr_str(f.id, "case_kinds", kinds);
    ok = ok && H5Fflush(f.id, H5F_SCOPE_GLOBAL) >= 0;
    // The close writes the last metadata: its failure (a full disk) is a failed write too.
    ok = H5Fclose(f.id) >= 0 && ok;
    f.id = H5I_INVALID_HID;
  }
  if (!ok) {
    const int e = errno;
    std::filesystem::remove(tmp, ec);
    throw IoError(fmt::format("{}: write failed ({})", path, std::strerror(e ? e : EIO)));
  }
  io_detail::fsync_path(tmp, false);
}

void write_golden_hex(const std::string& path, const GoldenSpec& spec,
                      const std::vector<GoldenCase>& cases, const std::string& provenance) {
  const std::string text = golden_hex_text(spec, cases, provenance);
  write_file_atomic(path, text.data(), text.size());
}

std::string golden_hex_text(const GoldenSpec& spec, const std::vector<GoldenCase>& cases,
                            const std::string& provenance) {
  // One case per line: one hex word whose bit fields, from the least significant bit, are
  // a's codes (element 0 lowest), a's scale bytes, b's codes, b's scale bytes, C (fp32 bits),
  // and the expected output code. Written most significant digit first.
  std::ostringstream os;
  const int abits = spec.a.format.elem.bits, bbits = spec.b.format.elem.bits;
  const int obits = spec.model.out.bits;
  os << "// mxlab golden vectors (" << provenance << ")\n"
     << "// format_a " << spec.a.format.name << " format_b " << spec.b.format.name << " accum "
     << to_string(spec.model) << " k " << spec.k << " cases " << cases.size() << "\n";
  std::size_t total_bits = 0;
  {
    const GoldenCase& g = cases.front();
    total_bits = spec.k * static_cast<std::size_t>(abits + bbits) +
                 8 * (g.a_scales.size() + g.b_scales.size()) + 32 + static_cast<std::size_t>(obits);
  }
  os << "// fields from bit 0: a_codes[" << spec.k << "x" << abits << "] a_scales["
     << cases.front().a_scales.size() << "x8] b_codes[" << spec.k << "x" << bbits << "] b_scales["
     << cases.front().b_scales.size() << "x8] c[32] expected[" << obits << "]; word width "
     << total_bits << " bits\n";
  for (const GoldenCase& g : cases) {
    std::vector<std::uint8_t> bits((total_bits + 7) / 8, 0);
    std::size_t pos = 0;
    auto put = [&](std::uint64_t v, int width) {
      for (int i = 0; i < width; ++i, ++pos)
        if ((v >> i) & 1)
          bits[pos / 8] = static_cast<std::uint8_t>(bits[pos / 8] | (1u << (pos % 8)));
    };
    for (std::uint32_t c : g.a_codes) put(c, abits);
    for (std::uint8_t s : g.a_scales) put(s, 8);
    for (std::uint32_t c : g.b_codes) put(c, bbits);
    for (std::uint8_t s : g.b_scales) put(s, 8);
    put(std::bit_cast<std::uint32_t>(g.c), 32);
    put(g.expected, obits);
    const std::size_t digits = (total_bits + 3) / 4;
    std::string line(digits, '0');
    for (std::size_t d = 0; d < digits; ++d) {
      unsigned nib = 0;
      for (int b = 0; b < 4; ++b) {
        const std::size_t p = d * 4 + static_cast<std::size_t>(b);
        if (p < total_bits && ((bits[p / 8] >> (p % 8)) & 1)) nib |= 1u << b;
      }
      line[digits - 1 - d] = "0123456789abcdef"[nib];
    }
    os << line << "\n";
  }
  return os.str();
}

}  // namespace mx
