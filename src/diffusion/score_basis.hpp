// The basis of the linear physics score (linear_score.hpp): hat functions of u = phat^2 for
// the momentum kernel, and the block sizes of the local terms with their filters K_b(p).
// Nothing here is collective.
#pragma once

#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

// The hat functions of u = phat^2 on `knots` equal intervals of [0, 4d].
class HatBasis {
 public:
  // Throws std::invalid_argument unless knots >= 2 and 1 <= dim.
  HatBasis(int dim, int knots);
  int knots() const { return knots_; }
  double knot(int j) const { return spacing_ * j; }
  // u (clamped to [0, 4d]) lies in [knot(j), knot(j + 1)], j = 0 ... knots - 2, and
  // hat_j(u) = 1 - t, hat_{j+1}(u) = t, every other hat vanishes.
  void locate(double u, int& j, double& t) const;

 private:
  int knots_;
  double spacing_, top_;
};

// One local term of the effective action: (c / (power + 1)) sum_x B_s(x)^(power + 1) of the
// field of scale s (0: the site field; s >= 1: block size block_sizes[s - 1]).
struct LocalTerm {
  int scale;
  int power;  // of the term's score, -c B^power: 3 (phi^4 term), 5 (phi^6), 1 (mass term)
};

// The basis terms of a LinearScore: the knots of the momentum kernel and the block sizes of
// the block terms (b >= 2, or 0 for the zero mode; the site field b = 1 is always present).
// Local terms, in parameter order after the knots: phi^4 and phi^6 of every scale, and for the
// zero mode also a mass term c1 m^2 / 2 (V times): the zero mode's own quadratic coupling,
// which the kernel h(phat^2) shares with the nearby momenta, and which must turn negative
// before the noised magnetisation can be bimodal. (A mass term of a block size b >= 2 would be
// a smooth function of phat^2, which the kernel already spans.)
struct ScoreBasis {
  int knots = 9;
  std::vector<int> block_sizes;

  int scales() const { return 1 + static_cast<int>(block_sizes.size()); }
  std::vector<LocalTerm> local_terms() const;
  int parameters() const { return knots + static_cast<int>(local_terms().size()); }
  // Index in theta_i of the term (scale, power), or -1 when the basis has none.
  int index(int scale, int power) const;
  // Throws std::invalid_argument naming the offending value unless knots >= 2 and every
  // block size is 0 or >= 2, each listed once.
  void check() const;
};

// Per local momentum of g (the layout of DistributedFft), the filter of block size b:
// K_b(p) = exp(-(b^2 - 1) phat^2 / 24), and K_0(p) = [p = 0] (the zero mode); K_1 = 1.
std::vector<double> block_filter(const Geometry& g, int block_size);

}  // namespace latdiff
