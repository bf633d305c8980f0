// The Metropolis test u < min(1, e^{-dS}) in a form that loops over sites vectorise: no
// branches, and e^{-dS} from inline_math.hpp, so a site gets the same decision in a SIMD lane
// of any width as in scalar code, and on every decomposition.
#pragma once

#include "samplers/inline_math.hpp"

namespace latdiff {

// Accept a change dS of the action with the uniform u in (0, 1)? Below e^{-708} every u is
// larger, so clamping there decides exactly as e^{-dS} would; dS = +inf or NaN (an action that
// overflowed) is rejected.
inline bool metropolis_accepts(double ds, double u) {
  constexpr double kLargest = 708;
  const double bounded = ds < kLargest ? ds : kLargest;  // NaN -> kLargest
  const double t = bounded > 0 ? bounded : 0;
  return (ds <= 0) | (u < inline_math::exp_nonpositive(-t));
}

}  // namespace latdiff
