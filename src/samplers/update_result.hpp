#pragma once

#include <limits>

namespace latdiff {

// What one update (sweep, trajectory or Langevin step) reports for /sampler/... output.
struct UpdateResult {
  double acceptance = 0;  // fraction of accepted proposals (0 or 1 for HMC and MALA)
  // Minus the log Metropolis ratio of a global accept/reject step: HMC's energy violation dH,
  // MALA's dS + log q(phi'|phi) - log q(phi|phi'). The step accepts with min(1, exp(-delta_h)),
  // and in equilibrium <exp(-delta_h)> = 1 exactly, a check of the sampler. NaN for samplers
  // without such a step (Metropolis, unadjusted Langevin).
  double delta_h = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace latdiff
