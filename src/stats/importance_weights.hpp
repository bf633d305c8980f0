// Effective sample size of importance weights (Kish): for weights w_j = exp(l_j),
// ESS / n = (sum w)^2 / (n sum w^2), in [1/n, 1], 1 when every weight is equal. The diffusion
// independence sampler reports it per block of proposals (/sampler/ess): with a perfect score
// every path weight is the same and the ratio is 1.
#pragma once

#include <span>

namespace latdiff::stats {

// ESS / n of the weights exp(log_weights[j]), computed relative to the largest log-weight so
// that nothing overflows. A non-finite log-weight (a proposal rejected as non-finite) counts
// as weight 0; NaN when no weight is finite or the span is empty.
double normalised_ess(std::span<const double> log_weights);

}  // namespace latdiff::stats
