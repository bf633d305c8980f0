// Colouring of lattice sites such that nearest neighbours never share a colour, so all sites
// of one colour can be updated independently (checkerboard). Even extents give the usual
// 2-colour checkerboard; any odd extent needs 3 colours.
//
// A colour's sites are listed as runs along the local rows: same-coloured sites two apart in
// memory and in global index, which is how a vectorised sweep reads them. Each colour's runs
// are split into boundary sites, whose values a neighbouring rank holds in its halo (local
// coordinate 0 or l - 1 along a split dimension), and interior ones, so that a sweep can send
// the boundary while it updates the interior.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

// `count` sites at padded indices padded + Geometry::kColourRunStride k, global indices
// global + Geometry::kColourRunStride k, k = 0..count-1, all in one local row.
struct ColourRun {
  std::size_t padded;
  std::int64_t global;
  int count;
};

struct ColourClass {
  std::vector<ColourRun> boundary, interior;  // each in row-major order
};

// This rank's interior sites grouped by colour (local; no communication).
std::vector<ColourClass> colour_runs(const Geometry& g);

}  // namespace latdiff
