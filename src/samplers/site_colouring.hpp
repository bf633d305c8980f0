// Colouring of lattice sites such that nearest neighbours never share a colour, so all sites
// of one colour can be updated independently (checkerboard). Even extents give the usual
// 2-colour checkerboard; any odd extent needs 3 colours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

struct ColouredSite {
  std::size_t padded;
  std::int64_t global;
};

// Interior sites of this rank grouped by colour, each group in row-major order.
std::vector<std::vector<ColouredSite>> colour_sites(const Geometry& g);

}  // namespace latdiff
