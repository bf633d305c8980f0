// Block-spin coarse-graining with b = 2: phi_B(X) = 2^{-d} sum_{c in {0,1}^d} phi_{2X + c}
// on a lattice of extents L_mu / 2, applied repeatedly, and the observables recorded at every
// level (DESIGN.md §1 conventions).
//
// Distribution of the levels: while every local extent of a level is even, the next level
// keeps the same process grid (a rank's coarse block is its fine block halved, blocking is
// local). When some local extent is odd, blocks would straddle ranks: the level is then
// gathered whole onto every rank (exact copy) and this and all further levels are computed
// replicated, on a Geometry over MPI_COMM_SELF. The lattice at that point is usually small
// (local extent 1 with power-of-two extents and grids); in the worst case (odd local extents
// at level 0) every rank holds one copy of the level-0 field.
//
// Bitwise decomposition independence: each blocked value sums its 2^d fine values in a fixed
// corner order and scales by 2^{-d} (exact), whichever rank computes it; the per-level sums
// are exact.
#pragma once

#include <limits>
#include <memory>
#include <vector>

#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "lattice/halo_exchange.hpp"
#include "observables/correlators.hpp"

namespace latdiff {

// Observables of one level.
struct LevelMeasurement {
  double mag = 0;     // m = (1/V) sum_x phi_x
  double phi2 = 0;    // (1/V) sum_x phi_x^2
  double nn = 0;      // (1/(d V)) sum_{x, mu} phi_x phi_{x + mu}
  LowestMomenta low;  // G(0), G(p_min e_mu)
};

// Collective. Halos of phi must be current.
LevelMeasurement measure_level(const Geometry& g, const Field& phi);

// Local: out = the b = 2 block average of phi on `coarse`, which must have extents L_mu / 2 and
// the same process grid as `fine` (whose local extents must be even, so that every block lies
// on one rank). Throws std::invalid_argument otherwise. Halos of out are not touched.
void block_average(const Geometry& fine, const Field& phi, const Geometry& coarse, Field& out);

class BlockSpin {
 public:
  // Collective over g.comm(), and so is the destructor (it frees the levels' communicators).
  // Level 0 is g itself; level k + 1 exists while every extent of level k is even and at
  // least 4 (coarse extents >= 2) and k + 1 <= max_level. `g` must outlive the object.
  explicit BlockSpin(const Geometry& g, int max_level = std::numeric_limits<int>::max());

  int levels() const { return static_cast<int>(levels_.size()) + 1; }  // including level 0
  const Geometry& geometry(int level) const { return level == 0 ? g_ : *levels_[level - 1].g; }

  // Collective. Blocks phi (on level 0's geometry) into every level >= 1; their halos are
  // exchanged. Halos of phi are not needed.
  void block(const Field& phi);
  // The field of level >= 1 after block(): on the process grid of geometry(level).
  const Field& field(int level) const { return levels_[level - 1].phi; }

  // Collective. block(phi), then measure_level at every level, level 0 first. Halos of phi
  // must be current.
  std::vector<LevelMeasurement> measure(const Field& phi);

 private:
  struct Level {
    // Set when the previous level cannot be blocked locally: that level replicated.
    std::unique_ptr<Geometry> replica_g;
    Field replica_phi;
    std::unique_ptr<Geometry> g;
    std::unique_ptr<HaloExchange> halo;  // after g: destroyed first
    Field phi;
  };
  const Geometry& g_;
  std::vector<Level> levels_;
};

}  // namespace latdiff
