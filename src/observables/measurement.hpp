// Per-configuration observables of DESIGN.md §1: m = (1/V) sum phi, phi2 = (1/V) sum phi^2
// and the action density S/V. Sums are exact, so values do not depend on the decomposition.
#pragma once

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "models/model.hpp"

namespace latdiff {

struct Measurement {
  double mag = 0, phi2 = 0, action_density = 0;
};

// Collective. Halos of phi must be current.
template <LatticeModel Model>
Measurement measure(const Geometry& g, const Model& model, const Field& phi) {
  ExactSum sum, sum2;
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    sum.add(phi[p]);
    sum2.add(phi[p] * phi[p]);
  });
  ExactSum action = model.action(phi);
  sum.allreduce(g.comm());
  sum2.allreduce(g.comm());
  action.allreduce(g.comm());
  const double v = static_cast<double>(g.global_volume());
  return {sum.value() / v, sum2.value() / v, action.value() / v};
}

}  // namespace latdiff
