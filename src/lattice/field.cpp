#include "lattice/field.hpp"

#include <algorithm>

namespace latdiff {

std::vector<double> pack_interior(const Geometry& g, const Field& f) {
  std::vector<double> out(static_cast<std::size_t>(g.local_volume()));
  const int n = g.row_length();
  for (std::size_t r = 0; r < g.row_count(); ++r)
    std::copy_n(f.begin() + g.row_start(r), n, out.begin() + r * n);
  return out;
}

void unpack_interior(const Geometry& g, const std::vector<double>& packed, Field& f) {
  const int n = g.row_length();
  for (std::size_t r = 0; r < g.row_count(); ++r)
    std::copy_n(packed.begin() + r * n, n, f.begin() + g.row_start(r));
}

}  // namespace latdiff
