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

// Marks every site of the segments in `count`; every site must be interior.
void mark(const std::vector<RowSegment>& segments, std::vector<int>& count) {
  for (const RowSegment& s : segments) {
    EXPECT_GT(s.length, 0);
    for (int j = 0; j < s.length; ++j) ++count[s.start + static_cast<std::size_t>(j)];
  }
}

void check_split(const std::vector<int>& dims, const std::vector<int>& procs) {
  Geometry g(dims, procs, MPI_COMM_WORLD);
  std::vector<int> interior(g.storage_size(), 0);
  for_each_site(g, [&](std::size_t p, std::int64_t) { interior[p] = 1; });
  const HaloSplit split = split_by_halo(g);
  std::vector<int> inner(g.storage_size(), 0), boundary(g.storage_size(), 0);
  mark(split.inner, inner);
  mark(split.boundary, boundary);
  std::vector<int> rows(g.storage_size(), 0);
  mark(interior_rows(g), rows);
  for (std::size_t p = 0; p < g.storage_size(); ++p) {
    EXPECT_EQ(inner[p] + boundary[p], interior[p]) << "site " << p;
    EXPECT_EQ(rows[p], interior[p]) << "site " << p;
    if (interior[p] == 0) continue;
    bool touches_halo = false;
    for (int mu = 0; mu < g.dim(); ++mu)
      touches_halo |= interior[p + g.stride(mu)] == 0 || interior[p - g.stride(mu)] == 0;
    EXPECT_EQ(boundary[p] == 1, touches_halo) << "site " << p;
  }
}

TEST(HaloSplit, InnerSitesReadNoHaloAndTogetherCoverTheInterior) {
  check_split({8}, {});
  check_split({4, 6}, {});
  check_split({4, 4, 6}, {});
  check_split({2, 4, 4, 4}, {});
  // Extents of 1 and 2 have no inner sites; odd ones fit a single rank only.
  check_split({4, 1, 4}, {});
  if (testing::world_size() == 1) check_split({3, 2, 5}, {});
  for (const auto& procs : testing::process_grids({8, 6, 4}, testing::world_size()))
    check_split({8, 6, 4}, procs);
}

}  // namespace
}  // namespace latdiff
