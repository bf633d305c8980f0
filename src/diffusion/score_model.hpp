// The interface of every score model of the diffusion proposals (DESIGN.md §4): the score
// s(x, i) ~ grad_x log q_i(x) of the noised distribution at level i = 1 ... N of a
// NoiseProcess. Implementations: the exact score of a free field (free_field_score.hpp); the
// trainable physics score follows. One call per field, so a virtual call costs nothing next to
// the per-site work.
#pragma once

#include "lattice/field.hpp"

namespace latdiff {

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  // Collective over the communicator of the model's geometry. Interior of out = s(x, level);
  // x's halo is ignored, out's left alone. out may not be x.
  virtual void score(const Field& x, int level, Field& out) = 0;
};

}  // namespace latdiff
