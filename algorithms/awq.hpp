// AWQ (Lin et al. 2024; ptq-algorithms.md §3.3), at the level of one Linear: a grid search of
// activation-aware per-input-channel scales s = mean_t|X|^r (r = 0, 1/n, ..., (n-1)/n), then
// a per-(row, group) clipping search. AWQ only rescales and clips: its weights stay float,
// so RTN or GPTQ quantizes them afterwards.
//
// MX adaptation: the clip group is the quantizer's group (the MX block). The clip error of a
// candidate is the reference's mean over tokens of the squared partial dot product of the
// group, computed exactly as d^T G d with G = X_g^T X_g / T (all tokens, no subsampling).
#pragma once

#include <vector>

#include "algorithms/matrix.hpp"
#include "algorithms/quantizer.hpp"

namespace mx::algo {

struct AwqOptions {
  int grid = 20;  // scale ratios 0, 1/grid, ..., (grid-1)/grid; ratio 0 is s = 1
  bool clip = true;
  int clip_grid = 20;  // shrink factors 1, 1 - 1/clip_grid, ... down to 1 - max_shrink
  double max_shrink = 0.5;
  Index max_tokens = 512;     // scale search on every (T / max_tokens)-th token (P9: stride >= 1)
  bool pow2 = false;          // round the scales to powers of two
  bool quantize_acts = true;  // quantize activations during the scale search (when enabled)
};

struct AwqResult {
  Vec scales;  // chosen s (ones if ratio 0 won)
  double best_ratio = 0;
  double loss_identity = 0;    // objective at s = 1
  double loss_best = 0;        // objective at the chosen s (<= loss_identity)
  std::vector<double> losses;  // objective per grid point
  double clip_err_before = 0;  // sum over (row, group) of the clip objective, no clipping
  double clip_err_after = 0;   // with the chosen clips (<= before)
};

// The scale search. Objective: mean over the subsampled tokens and the rows of
// (X W^T - Qa(X diag(s)^-1) Qw(W diag(s))^T)^2; `aq` may be disabled.
AwqResult awq_search_scales(const Mat& x, const Mat& w, const Quantizer& wq, const Quantizer& aq,
                            const AwqOptions& opt);

// The clip search on already scaled X and W; returns W clamped per (row, group). Fills the
// clip fields of `res` when given.
Mat awq_clip(const Mat& x, const Mat& w, const Quantizer& wq, const AwqOptions& opt,
             AwqResult* res);

}  // namespace mx::algo
