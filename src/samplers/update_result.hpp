#pragma once

#include <limits>

namespace latdiff {

// What one update (sweep or trajectory) reports for /sampler/... output.
struct UpdateResult {
  double acceptance = 0;  // fraction of accepted proposals (0 or 1 for HMC)
  double delta_h = std::numeric_limits<double>::quiet_NaN();  // HMC energy violation
};

}  // namespace latdiff
