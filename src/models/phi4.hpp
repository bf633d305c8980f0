// Lattice phi^4 theory in either parametrisation of DESIGN.md §1. Both are brought to
//   S = sum_x [ -beta phi_x sum_mu phi_{x+mu} + a phi_x^2 + b phi_x^4 + c ]
// hopping: beta = 2 kappa, a = 1 - 2 lambda, b = lambda, c = lambda;
// mass:    beta = 1,       a = d + m2/2,     b = g/4,    c = 0.
#pragma once

#include "io/config.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

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
  ExactSum action(const Field& phi) const;
  void force(const Field& phi, Field& out) const;
  double local_action_change(const Field& phi, std::size_t site, double value) const {
    const double old = phi[site];
    const double old2 = old * old, new2 = value * value;
    return -k_.beta * (value - old) * neighbour_sum(phi, site) + k_.a * (new2 - old2) +
           k_.b * (new2 * new2 - old2 * old2);
  }

 private:
  double neighbour_sum(const Field& phi, std::size_t site) const {
    double s = 0;
    for (int mu = 0; mu < g_.dim(); ++mu)
      s += phi[site + g_.stride(mu)] + phi[site - g_.stride(mu)];
    return s;
  }
  const Geometry& g_;
  Phi4Couplings k_;
};

}  // namespace latdiff
