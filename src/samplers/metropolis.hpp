// Checkerboard local Metropolis: each site proposes phi' = phi + step * (2u - 1), `hits` times
// per sweep, accepted with min(1, exp(-dS)). Sites of one colour are independent, so the
// sweep is exact and, with per-site counter-based random numbers, independent of the
// decomposition.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/site_colouring.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct MetropolisParams {
  double step = 1.0;
  int hits = 1;
};

template <LocalLatticeModel Model>
class Metropolis {
 public:
  Metropolis(const Model& model, const Geometry& g, MetropolisParams params, std::uint64_t seed)
      : model_(model),
        g_(g),
        halo_(g),
        params_(params),
        rng_(seed, Stream::metropolis),
        colours_(colour_sites(g)) {}

  // Collective. One sweep; halos of phi must be current on entry and are current on exit.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    std::int64_t accepted = 0;
    for (const auto& sites : colours_) {
      for (const ColouredSite& s : sites) {
        for (int hit = 0; hit < params_.hits; ++hit) {
          const auto u = rng_.uniform4(static_cast<std::uint64_t>(s.global), update_index,
                                       static_cast<std::uint64_t>(hit));
          const double proposal = phi[s.padded] + params_.step * (2 * u[0] - 1);
          const double ds = model_.local_action_change(phi, s.padded, proposal);
          // A proposal that overflows the action (ds = +inf, or NaN from inf - inf) fails both
          // tests and is rejected.
          if (ds <= 0 || u[1] < std::exp(-ds)) {
            phi[s.padded] = proposal;
            ++accepted;
          }
        }
      }
      halo_.exchange(phi);
    }
    MPI_Allreduce(MPI_IN_PLACE, &accepted, 1, MPI_INT64_T, MPI_SUM, g_.comm());
    return {static_cast<double>(accepted) /
            (static_cast<double>(g_.global_volume()) * params_.hits)};
  }

 private:
  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  MetropolisParams params_;
  CounterRng rng_;
  std::vector<std::vector<ColouredSite>> colours_;
};

}  // namespace latdiff
