// The end-of-run summary printed by latdiff: acceptance, <|m|>, susceptibilities and the
// Binder cumulant with Gamma-method errors (DESIGN.md §1 definitions), and timing; then a
// warning line for each sign of a failed chain: proposals rejected for a non-finite energy
// change, or no proposal accepted at all. The independence sampler adds the mean effective
// sample size of its proposal weights per block; sampler.type = generate says that it is biased.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/config.hpp"

namespace latdiff {

struct SummaryInput {
  std::vector<double> mag;      // m per measurement (whole chain, all segments)
  std::vector<double> accept;   // per update after thermalization
  std::vector<double> delta_h;  // per update after thermalization (HMC, MALA), else empty
  std::vector<double> ess;      // /sampler/ess rows after thermalization (diffusion), else empty
  // The sampler, so that warnings name the deck keys of its step size (generic advice without).
  std::optional<SamplerType> sampler;
  double volume = 1;
  double seconds = 0;                // wall time of this segment
  std::int64_t segment_updates = 0;  // updates done by this segment
};

std::string format_summary(const SummaryInput& in);

}  // namespace latdiff
