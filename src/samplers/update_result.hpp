#pragma once

#include <cmath>
#include <limits>

namespace latdiff {

// What one update (sweep, trajectory or Langevin step) reports for /sampler/... output.
struct UpdateResult {
  double acceptance = 0;  // fraction of accepted proposals (0 or 1 for HMC and MALA)
  // Minus the log Metropolis ratio of a global accept/reject step: HMC's energy violation dH,
  // MALA's dS + log q(phi'|phi) - log q(phi|phi'). The step accepts with min(1, exp(-delta_h)),
  // and in equilibrium <exp(-delta_h)> = 1 exactly, a check of the sampler. +inf when the
  // computed value was not finite (an overflowing proposal: inf, -inf, or NaN from inf - inf):
  // such a proposal is rejected, as its Metropolis ratio exp(-inf) = 0 says. NaN for samplers
  // without such a step (Metropolis, unadjusted Langevin).
  double delta_h = std::numeric_limits<double>::quiet_NaN();
  // Diffusion samplers (samplers/diffusion_mh.hpp): the log-weight log w(x') of the proposal's
  // path; NaN for every other sampler.
  double log_weight = std::numeric_limits<double>::quiet_NaN();
};

// The global accept/reject step of HMC and MALA for the reduced delta_h and a uniform u in
// [0, 1): accept with min(1, exp(-delta_h)), a non-finite delta_h never. Every rank passes the
// same delta_h (an exact global sum) and u, so the verdict is the same on all of them.
inline UpdateResult accept_reject(double delta_h, double u) {
  if (!std::isfinite(delta_h)) return {0.0, std::numeric_limits<double>::infinity()};
  const bool accept = delta_h <= 0 || u < std::exp(-delta_h);
  return {accept ? 1.0 : 0.0, delta_h};
}

}  // namespace latdiff
