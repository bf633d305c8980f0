// The exact partition function of an RBM (models/rbm.hpp) by enumerating the smaller
// enumerable layer: the hidden layer (always binary or spin; the only choice for Gaussian
// visible units, whose integral is Gaussian and done in closed form) or a binary or spin
// visible layer, whichever has fewer units (the hidden one on a tie):
//   hidden:  log Z = logsumexp_h [ b.h + sum_i A_i((W h)_i) ],
//            A_i(w) = log sum_{v_i} e^{(a_i + w) v_i}, or for Gaussian units
//            log(sqrt(2 pi) s_i) + mu_i w / s_i^2 + w^2 / (2 s_i^2)
//   visible: log Z = logsumexp_v [ -F(v) ].
// The 2^k states are split into chunks of kRbmEnumerationChunk states in Gray-code order,
// dealt to the ranks in turn; each chunk starts from scratch, so every state's term, and with
// an exact final sum log Z itself, is bitwise independent of the number of ranks.
#pragma once

#include <cstdint>

#include "models/rbm.hpp"

namespace latdiff {

inline constexpr int kRbmMaxEnumerated = 30;  // 2^30 states: minutes on a few cores
inline constexpr std::int64_t kRbmEnumerationChunk = 1024;

// The layer enumerate_log_partition sums over, and its number of units.
struct EnumeratedLayer {
  bool hidden = true;
  std::int64_t units = 0;
};
EnumeratedLayer enumerated_layer(const RbmParameters& p);

// Collective over rbm.layout().comm. Throws std::invalid_argument when the enumerated layer has
// more than kRbmMaxEnumerated units.
double exact_log_partition(const Rbm& rbm);

}  // namespace latdiff
