// What a sampler needs from a model with a real field on the lattice. Samplers are templates
// over this concept, so hot loops see concrete model code and no virtual calls.
#pragma once

#include <concepts>
#include <cstddef>

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"

namespace latdiff {

template <class M>
concept LatticeModel = requires(const M& m, const Field& phi, Field& out, std::size_t site,
                                double value) {
  // This rank's part of the action S (no communication). Halos of phi must be current.
  { m.action(phi) } -> std::same_as<ExactSum>;
  // out = -dS/dphi on the interior sites. Halos of phi must be current.
  m.force(phi, out);
  // S(phi with phi[site] = value) - S(phi), for a padded interior index. Halos must be current.
  { m.local_action_change(phi, site, value) } -> std::same_as<double>;
};

}  // namespace latdiff
