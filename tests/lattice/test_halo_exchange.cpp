#include <gtest/gtest.h>

#include "lattice/halo_exchange.hpp"

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
  std::vector<int> x(d);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    std::int64_t rest = gi;
    for (int mu = d - 1; mu >= 0; --mu) {
      x[mu] = static_cast<int>(rest % dims[mu]);
      rest /= dims[mu];
    }
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
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  for (int a = 1; a <= n; ++a) {
    if (n % a != 0) continue;
    check_halos({4, 8}, {a, n / a});
    check_halos({8, 2, 4}, {a, 1, n / a});
  }
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
