#include <gtest/gtest.h>

#include "samplers/site_colouring.hpp"

namespace latdiff {
namespace {

// Every site of the rank lies in exactly one run; the runs' padded and global indices agree
// with the geometry; a site is boundary exactly when it is on a face along a split dimension;
// and no two nearest neighbours share a colour.
void check_proper(const std::vector<int>& dims, std::size_t expected_colours,
                  const std::vector<int>& procs = {}) {
  Geometry g(dims, procs, MPI_COMM_WORLD);
  const auto colours = colour_runs(g);
  EXPECT_EQ(colours.size(), expected_colours);
  std::vector<int> colour_of(g.global_volume(), 0);
  std::vector<std::size_t> padded_of(g.global_volume(), 0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { padded_of[gi] = p; });
  for (std::size_t c = 0; c < colours.size(); ++c) {
    for (const bool boundary : {true, false}) {
      for (const ColourRun& run : boundary ? colours[c].boundary : colours[c].interior) {
        ASSERT_GE(run.count, 1);
        for (int k = 0; k < run.count; ++k) {
          const std::int64_t gi = run.global + Geometry::kColourRunStride * k;
          EXPECT_EQ(padded_of[gi], run.padded + Geometry::kColourRunStride * k) << "site " << gi;
          colour_of[gi] += static_cast<int>(c) + 1;
          const std::vector<int> x = g.global_coords(gi);
          bool on_face = false;
          for (int mu = 0; mu < g.dim(); ++mu) {
            const int local = x[mu] - g.offset()[mu];
            on_face =
                on_face || (g.procs()[mu] > 1 && (local == 0 || local == g.local_dims()[mu] - 1));
          }
          EXPECT_EQ(boundary, on_face) << "site " << gi;
        }
      }
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, colour_of.data(), static_cast<int>(colour_of.size()), MPI_INT,
                MPI_SUM, g.comm());
  const int d = g.dim();
  for (std::int64_t i = 0; i < g.global_volume(); ++i) {
    ASSERT_GE(colour_of[i], 1);
    ASSERT_LE(colour_of[i], static_cast<int>(expected_colours));
    const std::vector<int> x = g.global_coords(i);
    for (int mu = 0; mu < d; ++mu) {
      std::vector<int> y = x;
      y[mu] += 1;
      EXPECT_NE(colour_of[i], colour_of[g.global_index(y)]) << "site " << i << " mu " << mu;
    }
  }
}

TEST(SiteColouring, EvenExtentsUseTwoColours) {
  check_proper({8}, 2);
  check_proper({4, 6}, 2);
  check_proper({2, 4, 2, 2}, 2);
}

TEST(SiteColouring, OddExtentsUseThreeColours) {
  // Odd extents are never split over ranks here; the even ones carry the decomposition.
  check_proper({4, 5}, 3);
  check_proper({4, 3}, 3);
  check_proper({4, 5, 4}, 3);
  check_proper({4, 4, 3, 2}, 3);
}

TEST(SiteColouring, SplitLastDimensionMakesRowEndsBoundary) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  check_proper({4, 8 * size}, 2, {1, size});
  check_proper({8 * size, 6}, 2, {size, 1});
}

TEST(SiteColouring, RunsAreLongOnOneRank) {
  Geometry g({16, 16}, {1, 1}, MPI_COMM_SELF);
  for (const ColourClass& c : colour_runs(g)) {
    EXPECT_TRUE(c.boundary.empty());
    ASSERT_EQ(c.interior.size(), 16u);
    for (const ColourRun& run : c.interior) EXPECT_EQ(run.count, 8);
  }
}

}  // namespace
}  // namespace latdiff
