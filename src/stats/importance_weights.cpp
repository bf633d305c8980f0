#include "stats/importance_weights.hpp"

#include <cmath>
#include <limits>

namespace latdiff::stats {

double normalised_ess(std::span<const double> log_weights) {
  double top = -std::numeric_limits<double>::infinity();
  for (double l : log_weights)
    if (std::isfinite(l) && l > top) top = l;
  if (!std::isfinite(top)) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0, sum2 = 0;
  for (double l : log_weights) {
    if (!std::isfinite(l)) continue;
    const double w = std::exp(l - top);
    sum += w;
    sum2 += w * w;
  }
  return sum * sum / (static_cast<double>(log_weights.size()) * sum2);
}

}  // namespace latdiff::stats
