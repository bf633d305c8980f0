// Per-configuration observables of DESIGN.md §1: m = (1/V) sum phi, phi2 = (1/V) sum phi^2,
// the action density S/V, and nn = (1/(d V)) sum_{x, mu} phi_x phi_{x+mu}, the hopping term
// (S is linear in kappa with coefficient -2 d V nn, which is what single-histogram reweighting
// in kappa needs). Sums are exact, so values do not depend on the decomposition.
#pragma once

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "models/model.hpp"

namespace latdiff {

struct Measurement {
  double mag = 0, phi2 = 0, action_density = 0, nn = 0;
};

// Collective. Halos of phi must be current.
template <LatticeModel Model>
Measurement measure(const Geometry& g, const Model& model, const Field& phi) {
  ExactSum sum, sum2, hopping;
  const int d = g.dim();
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    const double x = phi[p];
    double forward = 0;
    for (int mu = 0; mu < d; ++mu) forward += phi[p + g.stride(mu)];
    sum.add(x);
    sum2.add(x * x);
    hopping.add(x * forward);
  });
  ExactSum action = model.action(phi);
  sum.allreduce(g.comm());
  sum2.allreduce(g.comm());
  hopping.allreduce(g.comm());
  action.allreduce(g.comm());
  const double v = static_cast<double>(g.global_volume());
  return {sum.value() / v, sum2.value() / v, action.value() / v, hopping.value() / (d * v)};
}

}  // namespace latdiff
