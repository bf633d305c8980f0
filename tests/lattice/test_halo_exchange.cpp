#include <gtest/gtest.h>

#include "lattice/halo_exchange.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

// Each interior site holds its global index; after the exchange every neighbour slot must
// hold the global index of the periodic neighbour.
void check_halos(const std::vector<int>& dims, const std::vector<int>& procs) {
  Geometry g(dims, procs, MPI_COMM_WORLD);
  Field f = make_field(g, -1.0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { f[p] = static_cast<double>(gi); });
  HaloExchange halo(g);
  halo.exchange(f);
  const int d = g.dim();
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const std::vector<int> x = g.global_coords(gi);
    for (int mu = 0; mu < d; ++mu) {
      for (int dir : {+1, -1}) {
        std::vector<int> y = x;
        y[mu] += dir;
        EXPECT_EQ(f[p + dir * g.stride(mu)], static_cast<double>(g.global_index(y)))
            << "site " << gi << " mu " << mu << " dir " << dir;
      }
    }
  });
}

TEST(HaloExchange, AutomaticGrids) {
  check_halos({8}, {});
  check_halos({4, 6}, {});
  check_halos({4, 4, 6}, {});
  check_halos({2, 4, 2, 4}, {});
}

TEST(HaloExchange, EveryGridOfTheRankCount) {
  const int n = testing::world_size();
  for (const auto& procs : testing::process_grids({4, 8}, n)) check_halos({4, 8}, procs);
  // Grids {a, 1, b}: the middle extent is never split.
  for (const auto& procs : testing::process_grids({8, 1, 4}, n)) check_halos({8, 2, 4}, procs);
}

TEST(HaloExchange, StartFinishAllowsWorkInBetween) {
  Geometry g({8, 8}, {}, MPI_COMM_WORLD);
  Field f = make_field(g);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { f[p] = static_cast<double>(gi); });
  HaloExchange halo(g);
  halo.start(f);
  double interior = 0;
  for_each_site(g, [&](std::size_t p, std::int64_t) { interior += f[p]; });
  halo.finish(f);
  EXPECT_GT(interior + 1, 0);
  EXPECT_EQ(f[g.padded_index({-1, 0})],
            static_cast<double>(g.global_index({g.offset()[0] - 1, g.offset()[1]})));
}

}  // namespace
}  // namespace latdiff
