// An RBM (models/rbm.hpp) whose visible units are the interior sites of a lattice field
// (VisibleLayout::lattice): the LatticeModel of p(v) ~ exp(-F(v)), action S = F. Its action
// and force are collective (F couples every site through the hidden inputs), so HMC,
// Langevin/MALA and the diffusion samplers act on Gaussian visible units unchanged; the
// discrete samplers of binary and spin units (samplers/rbm_field_samplers.hpp) use the RBM
// itself. Bitwise independent of the decomposition, like Rbm.
#pragma once

#include <string>
#include <vector>

#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "models/rbm.hpp"

namespace latdiff {

class RbmFieldModel {
 public:
  // Throws std::invalid_argument when p is inconsistent or its n_visible is not g's volume.
  RbmFieldModel(const Geometry& g, const RbmParameters& p)
      : g_(g), rbm_(p, VisibleLayout::lattice(g)), v_(rbm_.local_visible()), f_(v_.size()) {}

  const Rbm& rbm() const { return rbm_; }

  // Collective. F(v) on rank 0, zero elsewhere (models/model.hpp).
  ExactSum action(const Field& phi) const;
  // Collective. out = -dF/dv on the interior sites.
  void force(const Field& phi, Field& out) const;

  // Local. The interior values of phi in the RBM's local order, and back (halos untouched).
  void gather(const Field& phi, std::vector<double>& v) const;
  void scatter(const std::vector<double>& v, Field& phi) const;

  // Start values of a chain: cold (every unit off; 0 for Gaussian units) and hot (on or off
  // with probability 1/2; uniform in [-1, 1] for Gaussian units), from u uniform in [0, 1).
  double cold_value() const;
  double hot_value(double u) const;
  // Whether x is a state of a visible unit: its on or off value, or any finite real (Gaussian).
  bool admissible(double x) const;
  // "binary (0 or 1)", "spin (-1 or +1)" or "gaussian (finite)", for messages.
  std::string admissible_text() const;

 private:
  const Geometry& g_;
  Rbm rbm_;
  mutable std::vector<double> v_, f_;  // scratch: the visible values and forces in local order
};

}  // namespace latdiff
