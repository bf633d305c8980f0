#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "lattice/geometry.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using testing::world_size;

TEST(ProcessGrid, ProductIsRankCountAndDividesExtents) {
  for (const auto& dims : std::vector<std::vector<int>>{{8}, {8, 12}, {6, 4, 10}, {4, 4, 4, 8}}) {
    for (int n : {1, 2, 4, 8}) {
      auto grid = choose_process_grid(dims, n);
      ASSERT_EQ(grid.size(), dims.size());
      EXPECT_EQ(std::accumulate(grid.begin(), grid.end(), 1, std::multiplies<>()), n);
      for (std::size_t mu = 0; mu < dims.size(); ++mu) EXPECT_EQ(dims[mu] % grid[mu], 0);
    }
  }
}

TEST(ProcessGrid, PrefersSmallSurface) {
  // Splitting the long dimension of a 4 x 64 lattice gives the smallest faces.
  EXPECT_EQ(choose_process_grid({4, 64}, 4), (std::vector<int>{1, 4}));
  EXPECT_EQ(choose_process_grid({32, 8}, 2), (std::vector<int>{2, 1}));
  // Equal surfaces: keep rows (the last dimension) whole.
  EXPECT_EQ(choose_process_grid({16, 16}, 4), (std::vector<int>{4, 1}));
}

TEST(ProcessGrid, NoFittingGridIsAnError) {
  EXPECT_THROW(choose_process_grid({5, 7}, 2), GeometryError);
  EXPECT_THROW(choose_process_grid({6}, 4), GeometryError);
}

TEST(Geometry, RejectsGridsThatDoNotFit) {
  EXPECT_THROW(Geometry({8, 8}, {world_size(), 3}, MPI_COMM_WORLD), GeometryError);
  EXPECT_THROW(Geometry({8, 8}, {world_size() + 1, 1}, MPI_COMM_WORLD), GeometryError);
}

TEST(Geometry, RowsCoverEveryGlobalSiteExactlyOnce) {
  const std::vector<int> dims = {4, 6, 2};
  Geometry g(dims, {}, MPI_COMM_WORLD);
  EXPECT_EQ(g.global_volume(), 48);
  std::vector<int> seen(g.global_volume(), 0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    ASSERT_LT(p, g.storage_size());
    seen[gi] += 1;
  });
  MPI_Allreduce(MPI_IN_PLACE, seen.data(), static_cast<int>(seen.size()), MPI_INT, MPI_SUM,
                g.comm());
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(Geometry, GlobalCoordsInvertGlobalIndex) {
  Geometry g({4, 4, 5}, {}, MPI_COMM_WORLD);
  for (std::int64_t i = 0; i < g.global_volume(); ++i)
    EXPECT_EQ(g.global_index(g.global_coords(i)), i);
  EXPECT_EQ(g.global_coords(1 * 20 + 2 * 5 + 3), (std::vector<int>{1, 2, 3}));
}

TEST(Geometry, PaddedIndexMatchesStrides) {
  Geometry g({4, 6}, {}, MPI_COMM_WORLD);
  const auto& l = g.local_dims();
  EXPECT_EQ(g.padded_index({0, 0}), static_cast<std::size_t>(g.stride(0) + g.stride(1)));
  EXPECT_EQ(g.padded_index({-1, -1}), 0u);
  EXPECT_EQ(g.storage_size(), static_cast<std::size_t>((l[0] + 2) * (l[1] + 2)));
  EXPECT_EQ(g.global_index({-1, 0}), 3 * 6);
  EXPECT_EQ(g.global_index({1, 7}), 6 + 1);
}

}  // namespace
}  // namespace latdiff
