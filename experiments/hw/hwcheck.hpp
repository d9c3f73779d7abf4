// Hardware probe captures (tools/hw/probe.py) and their comparison with an accumulator model
// (results/HARDWARE.md holds the layout and the measured agreement).
//
// A capture file (HDF5, root attribute layout = "mxlab-hwprobe-v1") holds groups, each a
// batch of T products D = A * B + C run on the hardware: datasets `a` (T x M x K element
// codes), `b` (T x N x K, B transposed), `c` (T x M x N fp32), `d` (T x M x N uint32: the
// fp32 bit patterns the hardware returned), `kind` (T uint8); attributes `op`, `format_a`,
// `format_b`, `kinds` (kind names, one a line), `note`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/accum_model.hpp"

namespace mx {

// A malformed or unreadable capture; the message names the file and the group or key.
class HwCheckError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kHwProbeLayout = "mxlab-hwprobe-v1";

struct ProbeGroup {
  std::string name, op, format_a, format_b, note;
  std::vector<std::string> kinds;
  std::size_t t = 0, m = 0, n = 0, k = 0;
  std::vector<std::uint32_t> a, b;  // element codes
  std::vector<float> c;
  std::vector<std::uint32_t> d;  // fp32 bit patterns
  std::vector<std::uint8_t> kind;
};

struct ProbeFile {
  std::string path, layout, provenance;
  std::vector<ProbeGroup> groups;
};

// Reads every group whose name contains one of `filters` (all groups when empty). Throws
// HwCheckError naming the file, group or key for a missing file, a wrong layout or shape.
ProbeFile read_probe(const std::string& path, const std::vector<std::string>& filters = {});

// Writes `pf` in the same layout (root attributes layout and provenance; per group the
// datasets and attributes read_probe reads), under a temporary name renamed into place.
// For synthetic captures (tests, hwfit's rejection checks). Throws HwCheckError naming path.
void write_probe(const std::string& path, const ProbeFile& pf);

// Agreement of a model with one data kind of one group.
struct KindAgreement {
  std::string group, kind;
  std::size_t match = 0, total = 0;
  std::uint64_t worst_ulp = 0;  // over the mismatches; kNanMismatch when NaN met a number
};
inline constexpr std::uint64_t kNanMismatch = ~std::uint64_t{0};

// Distance in fp32 units in the last place between two bit patterns (across zero: +0 and -0
// are 0 apart); kNanMismatch when exactly one is NaN, 0 when both are.
std::uint64_t ulp_distance(std::uint32_t x, std::uint32_t y);
// A hardware result matches the model when the bits are equal or both are NaN (the payload
// of a NaN is not modelled).
inline bool hw_match(std::uint32_t hw, std::uint32_t model) {
  const bool nx = (hw & 0x7fffffffu) > 0x7f800000u, ny = (model & 0x7fffffffu) > 0x7f800000u;
  return hw == model || (nx && ny);
}

// Runs `model` (its output must be fp32) on every product of `g` and compares with the
// hardware. One row per kind present in g, in the order of g.kinds.
std::vector<KindAgreement> hwcheck(const ProbeGroup& g, const AccumModel& model, int threads);

// The model's fp32 outputs for every product of `g` (T x M x N), for tools and tests.
std::vector<std::uint32_t> model_outputs(const ProbeGroup& g, const AccumModel& model, int threads);

}  // namespace mx
