// The run list: the cross product of a SweepConfig's axes, in a fixed nesting order
// (workload > seed > format > act format > algorithm > accum > block size > scale rule >
// rounding; the act format, algorithm and accum axes apply to model workloads only, tensor
// workloads leave them empty). Each point is identified
// by its canonical key; its id and its seeds are hashes of that key, never of its position
// in the list, so they do not depend on how the list is split between threads or ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/config.hpp"
#include "formats/mx_format.hpp"
#include "formats/rounding.hpp"

namespace mx::experiments {

struct Point {
  std::string workload;
  std::int64_t seed = 0;
  std::string format;  // name as in the config
  int block_size = 32;
  ScaleRule scale_rule = ScaleRule::kFloor;
  Rounding rounding = Rounding::kNearestEven;
  bool model = false;           // a model workload: the three fields below are set
  std::string act_format = {};  // model: activation format (none, mxint8, int8, ...)
  std::string algorithm = {};   // model: PTQ algorithm (none = direct cast)
  std::string accum = {};       // model: accumulator model (fp32, a preset or a model string)

  // Model points append ";act_format=..;algorithm=..;accum=..".
  // "workload=llm_act;seed=0;format=mxfp8_e4m3;block_size=32;scale_rule=floor;rounding=nearest-even"
  std::string key() const;
  std::string id() const;               // 16 lowercase hex digits of hash_key(key())
  std::uint64_t rounding_seed() const;  // seed of stochastic rounding
  MxFormat mx_format() const;           // parsed format with this block size and rule
                                        // (not for the model formats none / mixed)
};

std::vector<Point> expand(const SweepConfig& c);

// 64-bit hash of a string: FNV-1a followed by the SplitMix64 finaliser. Stable across
// platforms and versions (the point ids in result files depend on it).
std::uint64_t hash_key(std::string_view s);

// Seed of a workload's data for one value of the seeds axis: shared by every point on that
// (workload, seed), so formats are compared on the same numbers.
std::uint64_t data_seed(const std::string& workload, std::int64_t seed);

}  // namespace mx::experiments
