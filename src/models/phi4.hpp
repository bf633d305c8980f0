// Lattice phi^4 theory in either parametrisation of DESIGN.md §1. Both are brought to
//   S = sum_x [ -beta phi_x sum_mu phi_{x+mu} + a phi_x^2 + b phi_x^4 + c ]
// hopping: beta = 2 kappa, a = 1 - 2 lambda, b = lambda, c = lambda;
// mass:    beta = 1,       a = d + m2/2,     b = g/4,    c = 0.
#pragma once

#include <span>

#include "io/config.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "lattice/halo_exchange.hpp"

namespace latdiff {

struct Phi4Couplings {
  double beta = 0, a = 0, b = 0, c = 0;
  static Phi4Couplings from(const ActionConfig& action, int dim);
};

class Phi4Model {
 public:
  Phi4Model(const Geometry& g, const Phi4Couplings& k) : g_(g), k_(k) {}
  Phi4Model(const Geometry& g, const ActionConfig& action)
      : Phi4Model(g, Phi4Couplings::from(action, g.dim())) {}

  const Phi4Couplings& couplings() const { return k_; }
  // This rank's part of S, without communication (models/model.hpp). Halos must be current.
  ExactSum action(const Field& phi) const;
  // This rank's part of S + sum_x pi_x^2 / 2 as one term s_x + pi_x^2 / 2 per site (which
  // rounds differently from summing S and the kinetic term apart); no communication.
  ExactSum action_plus_kinetic(const Field& phi, const Field& pi) const;
  // out = -dS/dphi on the interior sites; no communication. Halos must be current.
  void force(const Field& phi, Field& out) const;
  // pi += dt F on the sites of the segments, F as force() gives it, reading phi on those sites
  // and their nearest neighbours only; no communication.
  void add_force(const Field& phi, Field& pi, double dt,
                 std::span<const RowSegment> segments) const;
  // Neighbour sums of a colour run (models/model.hpp); a loop per direction with unit-stride
  // lanes, so it vectorises for any dimension.
  void local_environments(const Field& phi, std::size_t first, int count,
                          double* environment) const {
    const double* p = phi.data() + first;
    constexpr int s = Geometry::kColourRunStride;
    for (int k = 0; k < count; ++k) environment[k] = 0;
    for (int mu = 0; mu < g_.dim(); ++mu) {
      const std::ptrdiff_t step = g_.stride(mu);
      for (int k = 0; k < count; ++k) environment[k] += p[s * k + step] + p[s * k - step];
    }
  }
  double local_action_change(double neighbour_sum, double old_value, double value) const {
    const double old2 = old_value * old_value, new2 = value * value;
    return -k_.beta * (value - old_value) * neighbour_sum + k_.a * (new2 - old2) +
           k_.b * (new2 * new2 - old2 * old2);
  }

 private:
  const Geometry& g_;
  Phi4Couplings k_;
};

}  // namespace latdiff
