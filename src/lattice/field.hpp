// A real scalar field on the local block of a Geometry, padded with one halo site per side.
// Contiguous storage; interior values are valid after updates, halo values after a halo
// exchange (halo_exchange.hpp).
#pragma once

#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

using Field = std::vector<double>;

inline Field make_field(const Geometry& g, double value = 0.0) {
  return Field(g.storage_size(), value);
}

// Interior values in local row-major order (the layout of an HDF5 hyperslab of this block).
std::vector<double> pack_interior(const Geometry& g, const Field& f);
void unpack_interior(const Geometry& g, const std::vector<double>& packed, Field& f);

}  // namespace latdiff
