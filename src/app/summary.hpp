// The end-of-run summary printed by latdiff: acceptance, <|m|>, susceptibilities and the
// Binder cumulant with Gamma-method errors (DESIGN.md §1 definitions), and timing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace latdiff {

struct SummaryInput {
  std::vector<double> mag;      // m per measurement (whole chain, all segments)
  std::vector<double> accept;   // per update after thermalization
  std::vector<double> delta_h;  // per update after thermalization (HMC), else empty
  double volume = 1;
  double seconds = 0;                // wall time of this segment
  std::int64_t segment_updates = 0;  // updates done by this segment
};

std::string format_summary(const SummaryInput& in);

}  // namespace latdiff
