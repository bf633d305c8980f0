// Annealed importance sampling of an RBM's log Z (Salakhutdinov and Murray, ICML 2008), for
// any visible units. The path runs from the base model A = the target's biases with
// W = 0, whose units are independent (log Z_A exact), to the target B through
//   F_k(v) = -a.v - sum_j log sum_{h_j} exp(beta_k (b_j + (W^T v')_j) h_j) - (1 - beta_k) L_b,
// (Gaussian visible units: sum_i (v_i - mu_i)^2 / (2 s_i^2) in place of -a.v, v'_i = v_i / s_i^2;
// the base's visible units are then N(mu_i, s_i^2) and p_k(v | h) = N(mu + beta_k W h, s^2)),
//   beta_0 = 0 < beta_1 < ... < beta_K = 1 (uniform), L_b = sum_j log sum_{h_j} exp(b_j h_j),
// i.e. the RBM with W and b scaled by beta_k plus the base's hidden part with weight 1 - beta_k,
// so that F_0 = F_A and F_K = F_B. Each of `runs` independent runs draws v_1 ~ p_A, and for
// k = 1 ... K adds F_{k-1}(v_k) - F_k(v_k) to its log weight and moves v by one Gibbs sweep of
// p_k (which leaves p_k invariant). Then
//   log Z_B ~ log Z_A + log mean(w),   error = std(w) / (sqrt(runs) mean(w))   (delta method),
// a consistent estimator whose error falls as the temperatures get denser.
// Random numbers are counter-based per (unit, run, temperature); collective over the layout.
#pragma once

#include <cstdint>

#include "models/rbm.hpp"

namespace latdiff {

struct AisResult {
  double log_z = 0;       // estimate of log Z
  double error = 0;       // its statistical error
  double log_z_base = 0;  // exact log Z of the base model
  double ess = 0;         // (sum w)^2 / (runs sum w^2) of the importance weights
};

// Collective. Throws std::invalid_argument for runs < 2 or temperatures < 1.
AisResult ais_log_partition(const Rbm& rbm, int runs, int temperatures, std::uint64_t seed);

}  // namespace latdiff
