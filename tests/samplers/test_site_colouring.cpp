#include <gtest/gtest.h>

#include "samplers/site_colouring.hpp"

namespace latdiff {
namespace {

// No two nearest neighbours share a colour, and every site has exactly one colour.
void check_proper(const std::vector<int>& dims, std::size_t expected_colours) {
  Geometry g(dims, {}, MPI_COMM_WORLD);
  const auto colours = colour_sites(g);
  EXPECT_EQ(colours.size(), expected_colours);
  std::vector<int> colour_of(g.global_volume(), 0);
  for (std::size_t c = 0; c < colours.size(); ++c)
    for (const ColouredSite& s : colours[c]) colour_of[s.global] += static_cast<int>(c) + 1;
  MPI_Allreduce(MPI_IN_PLACE, colour_of.data(), static_cast<int>(colour_of.size()), MPI_INT,
                MPI_SUM, g.comm());
  const int d = g.dim();
  for (std::int64_t i = 0; i < g.global_volume(); ++i) {
    ASSERT_GE(colour_of[i], 1);
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

}  // namespace
}  // namespace latdiff
