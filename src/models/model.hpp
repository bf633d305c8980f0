// What a sampler needs from a model with a real field on the lattice. Samplers are templates
// over these concepts, so hot loops see concrete model code and no virtual calls.
//
// action and force are collective: every rank calls them together. A model whose action is a
// sum over sites (phi^4) returns its rank's part without communicating; one whose action
// couples all sites (an RBM's free energy) reduces inside and returns the whole action on rank
// 0 and zero elsewhere. Either way the parts sum to S over the ranks, which is how callers use
// them (ExactSum::allreduce).
#pragma once

#include <concepts>
#include <cstddef>

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"

namespace latdiff {

template <class M>
concept LatticeModel = requires(const M& m, const Field& phi, Field& out) {
  // This rank's part of the action S. Halos of phi must be current.
  { m.action(phi) } -> std::same_as<ExactSum>;
  // out = -dS/dphi on the interior sites. Halos of phi must be current.
  m.force(phi, out);
};

// A model whose action changes locally when one site does: what local Metropolis needs.
template <class M>
concept LocalLatticeModel = LatticeModel<M> &&
    requires(const M& m, const Field& phi, std::size_t site, double value) {
  // S(phi with phi[site] = value) - S(phi), for a padded interior index; no communication.
  // Halos must be current.
  { m.local_action_change(phi, site, value) } -> std::same_as<double>;
};

}  // namespace latdiff
