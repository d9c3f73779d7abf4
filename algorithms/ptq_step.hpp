// PTQ recipes as pipelines of registered steps. A recipe string is steps joined by '+'
// ("smoothquant+awq+gptq"); each step is one PtqStep in the registry, defined in its own file
// algorithms/steps/<name>.cpp and listed in algorithms/CMakeLists.txt (MX_PTQ_STEPS), which
// generates the registry table. Adding a step touches those two files and a test.
//
// Every step has a role, and a recipe runs its steps in role order, at most one per role
// except transforms:
//   kTransform   multiplies per-input-channel factors into s (X' = X diag(s)^-1, W' = W
//                diag(s)), in ascending `order` (SmoothQuant 100 before AWQ 200: the
//                dmx-compressor / Brevitas order, ptq-algorithms.md §3.6); any number;
//   kWeight      quantizes W' into PtqResult::w_q_scaled; at most one, RTN when none is named;
//   kActivation  quantizes the activations itself from an int<N> act format (none: int8),
//                replacing the act format's per-token quantizer; at most one.
// A recipe must be written in that order; an unknown step, a repeated one, a step out of
// order or a second step of a one-per-role role is an error naming it (RecipeError).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

struct PtqOptions;
struct PtqResult;

enum class PtqRole : std::uint8_t { kTransform, kWeight, kActivation };

// What run_ptq hands each step. Transforms and the weight step see all calibration rows;
// the activation step sees the first PtqOptions::stats_rows of them (x).
struct PtqContext {
  const PtqOptions& opt;
  const Quantizer& wq;  // the weight quantizer (PtqOptions::weight)
  const Quantizer& aq;  // the act format's quantizer (disabled for none)
  Mat x, w;             // the activations and weights, transformed by the steps so far
  PtqResult& res;
  Mat xq;  // activation step: the quantized x (the measured activations)
};

// An activation quantizer for the deployed layer (rows: tokens), built by an activation
// step from the transformed calibration inputs.
using ActQuantFn = std::function<Mat(const Mat&)>;

struct PtqStep {
  std::string_view name;  // as written in recipes
  std::string_view doc;   // one line, for help texts
  PtqRole role = PtqRole::kTransform;
  int order = 0;  // kTransform: ascending order of application
  // Reads the calibration activations X. A recipe with no such step needs no calibration
  // at model scale (the direct cast is the same RTN).
  bool needs_calibration = true;
  // Rejects options the step cannot run with (std::invalid_argument); may be null.
  void (*check)(const PtqOptions&) = nullptr;
  // The step itself.
  void (*run)(PtqContext&) = nullptr;
  // kActivation: the deployed quantizer, from the transformed calibration inputs (all rows).
  ActQuantFn (*deploy)(const Mat& x_calib, const PtqOptions&) = nullptr;
};

// Every registered step, in the canonical recipe order (role, then order, then name).
std::span<const PtqStep* const> ptq_steps();
const PtqStep* find_ptq_step(std::string_view name);

class RecipeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A parsed, validated recipe: its steps in the order they run.
class Recipe {
 public:
  Recipe();  // "rtn"
  // Throws RecipeError with one line naming the step and listing the valid ones.
  static Recipe parse(std::string_view text);
  static std::optional<Recipe> try_parse(std::string_view text, std::string* error = nullptr);

  const std::vector<const PtqStep*>& steps() const { return steps_; }
  std::string name() const;  // the steps joined by '+' (parse(name()) == *this)
  bool has(std::string_view step) const;
  bool needs_calibration() const;
  const PtqStep* weight_step() const;      // the named weight quantizer, or rtn
  const PtqStep* activation_step() const;  // null: the act format's quantizer
  bool operator==(const Recipe& o) const { return steps_ == o.steps_; }

  // Single-step recipes under the names the enum had (callers written before recipes).
  static const Recipe kRtn, kSmoothQuant, kAwq, kGptq, kCrossQuant;

 private:
  std::vector<const PtqStep*> steps_;
};

// "rtn, smoothquant, awq, gptq, crossquant": every step, canonical order.
std::string ptq_step_names();
// The composition rule in words, generated from the registry, e.g. "transforms smoothquant,
// awq in that order, then at most one weight quantizer (rtn, gptq), then at most one
// activation quantizer (crossquant), joined by '+'".
std::string recipe_rule();

}  // namespace mx::algo
