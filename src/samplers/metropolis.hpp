// Checkerboard local Metropolis: each site proposes phi' = phi + step * (2u - 1), `hits` times
// per sweep, accepted with min(1, exp(-dS)). Sites of one colour are independent, so the
// sweep is exact and, with per-site counter-based random numbers, independent of the
// decomposition.
//
// Vectorised: a colour is swept in runs of sites two apart along a row (site_colouring.hpp).
// For a block of a run the model computes the sites' environments once (their neighbours are
// other colours and do not change during the colour's update), then every hit draws its
// uniforms from Philox4x32-10 lanes (random/philox_lanes.hpp), counter (global site, hit,
// update), and applies the branch-free test of metropolis_accept.hpp, so extra hits cost
// neither the neighbour reads nor a halo exchange. The boundary of each colour is updated
// first and its halo exchange overlaps the update of the interior.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "io/config.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "random/philox_lanes.hpp"
#include "samplers/metropolis_accept.hpp"
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
  // The counter layout below holds global site indices below 2^44 and at most 4095 hits;
  // throws std::invalid_argument (on every rank alike) beyond.
  Metropolis(const Model& model, const Geometry& g, MetropolisParams params, std::uint64_t seed)
      : model_(model), g_(g), halo_(g), params_(params), key_(seed), colours_(colour_runs(g)) {
    if (g.global_volume() >= (std::int64_t{1} << kSiteBits))
      throw std::invalid_argument("Metropolis: the lattice has 2^44 sites or more");
    if (params.hits < 1 || params.hits > kMaxMetropolisHits)
      throw std::invalid_argument("Metropolis: hits must lie in 1..4095");
  }

  // Collective. One sweep; halos of phi must be current on entry and are current on exit.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    std::int64_t accepted = 0;
    for (const ColourClass& colour : colours_) {
      accepted += sweep(phi, colour.boundary, update_index);
      halo_.start(phi);
      accepted += sweep(phi, colour.interior, update_index);
      halo_.finish(phi);
    }
    MPI_Allreduce(MPI_IN_PLACE, &accepted, 1, MPI_INT64_T, MPI_SUM, g_.comm());
    return {static_cast<double>(accepted) /
            (static_cast<double>(g_.global_volume()) * params_.hits)};
  }

 private:
  // Counter words of a draw: (site bits 0-31), (site bits 32-43 | hit << 12 | purpose << 24),
  // (update bits 0-31), (update bits 32-63), under the key `seed`.
  static constexpr int kSiteBits = 44, kHitBits = 12;
  static constexpr std::uint32_t kPurpose = static_cast<std::uint32_t>(Stream::metropolis_sweep);
  static_assert(kPurpose < 256);
  static_assert((1 << kHitBits) - 1 == kMaxMetropolisHits);
  static constexpr int kBlock = 64;  // sites per vectorised block
  static constexpr int kStride = Geometry::kColourRunStride;

  // A block gathers up to kBlock sites from consecutive runs (pieces), so that the lane loops
  // run long even where rows are short.
  struct Piece {
    std::size_t padded;
    int lane, count;
  };
  struct Block {
    Piece piece[kBlock];
    int pieces = 0, lanes = 0;
    std::uint64_t global[kBlock];
    alignas(64) double environment[kBlock], value[kBlock];
    PhiloxLanes<kBlock> random;
  };

  std::int64_t sweep(Field& phi, const std::vector<ColourRun>& runs, std::uint64_t update) {
    std::int64_t accepted = 0;
    Block& b = block_;
    b.pieces = b.lanes = 0;
    for (const ColourRun& run : runs) {
      for (int done = 0; done < run.count;) {
        const int take = std::min(run.count - done, kBlock - b.lanes);
        b.piece[b.pieces++] = {run.padded + std::size_t{kStride} * done, b.lanes, take};
        for (int k = 0; k < take; ++k)
          b.global[b.lanes + k] = static_cast<std::uint64_t>(run.global + kStride * (done + k));
        b.lanes += take;
        done += take;
        if (b.lanes == kBlock) accepted += update_block(phi, update);
      }
    }
    if (b.lanes > 0) accepted += update_block(phi, update);
    return accepted;
  }

  // Updates the block's sites and empties it.
  int update_block(Field& phi, std::uint64_t update) {
    Block& b = block_;
    const int n = b.lanes;
    for (int i = 0; i < b.pieces; ++i) {
      const Piece& piece = b.piece[i];
      model_.local_environments(phi, piece.padded, piece.count, b.environment + piece.lane);
      const double* site = phi.data() + piece.padded;
      for (int k = 0; k < piece.count; ++k) b.value[piece.lane + k] = site[kStride * k];
    }
    int accepted = 0;
    for (int hit = 0; hit < params_.hits; ++hit) {
      auto& w = b.random.word;
      const std::uint32_t tag = static_cast<std::uint32_t>(hit) << (kSiteBits - 32) | kPurpose
                                                                                          << 24;
      for (int k = 0; k < n; ++k) {
        w[0][k] = static_cast<std::uint32_t>(b.global[k]);
        w[1][k] = static_cast<std::uint32_t>(b.global[k] >> 32) | tag;
        w[2][k] = static_cast<std::uint32_t>(update);
        w[3][k] = static_cast<std::uint32_t>(update >> 32);
      }
      philox4x32_10(b.random, key_, n);
      for (int k = 0; k < n; ++k) {
        const double x = b.value[k];
        const double proposal = x + params_.step * (2 * uniform_from_words(w[0][k], w[1][k]) - 1);
        const double ds = model_.local_action_change(b.environment[k], x, proposal);
        const bool accept = metropolis_accepts(ds, uniform_from_words(w[2][k], w[3][k]));
        b.value[k] = accept ? proposal : x;
        accepted += accept;
      }
    }
    for (int i = 0; i < b.pieces; ++i) {
      const Piece& piece = b.piece[i];
      double* site = phi.data() + piece.padded;
      for (int k = 0; k < piece.count; ++k) site[kStride * k] = b.value[piece.lane + k];
    }
    b.pieces = b.lanes = 0;
    return accepted;
  }

  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  MetropolisParams params_;
  std::uint64_t key_;
  std::vector<ColourClass> colours_;
  Block block_;
};

}  // namespace latdiff
