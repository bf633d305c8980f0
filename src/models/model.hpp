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
#include <span>

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/halo_exchange.hpp"

namespace latdiff {

template <class M>
concept LatticeModel = requires(const M& m, const Field& phi, Field& out) {
  // This rank's part of the action S. Halos of phi must be current.
  { m.action(phi) } -> std::same_as<ExactSum>;
  // out = -dS/dphi on the interior sites. Halos of phi must be current.
  m.force(phi, out);
};

// A model whose action is a sum of per-site terms s_x, so that HMC sums its Hamiltonian as
// one term s_x + pi_x^2 / 2 per site instead of two sums (samplers/hmc.hpp).
template <class M>
concept SiteHamiltonianModel = LatticeModel<M> &&
    requires(const M& m, const Field& phi, const Field& pi) {
  // This rank's part of S + sum_x pi_x^2 / 2; no communication. Halos of phi must be current.
  { m.action_plus_kinetic(phi, pi) } -> std::same_as<ExactSum>;
};

// A model whose force at a site reads phi only there and at the nearest neighbours, so that
// HMC kicks the sites away from the halo while the halo exchange is in flight
// (lattice/halo_exchange.hpp's split_by_halo).
template <class M>
concept SegmentForceModel = LatticeModel<M> &&
    requires(const M& m, const Field& phi, Field& pi, double dt,
             std::span<const RowSegment> segments) {
  // pi += dt F on the segments' sites, F as force() gives it; no communication. phi must be
  // current on those sites and their neighbours.
  m.add_force(phi, pi, dt, segments);
};

// A model whose action changes locally when one site does: what local Metropolis needs. The
// action's dependence on one site is through the site's value and its "environment", a number
// computed from the other sites (for phi^4 the neighbour sum), so a sweep computes the
// environments of a run of sites once and tries any number of values against them.
template <class M>
concept LocalLatticeModel = LatticeModel<M> &&
    requires(const M& m, const Field& phi, std::size_t first, int count, double* environment,
             double e, double old_value, double value) {
  // environment[k] of the sites first + Geometry::kColourRunStride k, k < count: padded
  // interior indices of one colour (samplers/site_colouring.hpp), whose neighbours are other
  // colours. No communication; halos must be current.
  m.local_environments(phi, first, count, environment);
  // S after minus S before a site with environment e changes from old_value to value.
  { m.local_action_change(e, old_value, value) } -> std::same_as<double>;
};

}  // namespace latdiff
