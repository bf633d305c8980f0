#include "samplers/site_colouring.hpp"

#include <algorithm>

namespace latdiff {

std::vector<std::vector<ColouredSite>> colour_sites(const Geometry& g) {
  const auto& L = g.global_dims();
  const bool all_even = std::all_of(L.begin(), L.end(), [](int l) { return l % 2 == 0; });
  const int colours = all_even ? 2 : 3;
  // Per dimension a proper colouring of the cycle C_L: 0,1,0,1,... and, for odd L, 2 on the
  // last site. Neighbours differ in one coordinate by 1 or 2, hence in the sum mod 3 (or 2).
  auto cycle_colour = [&](int mu, int x) { return (L[mu] % 2 == 1 && x == L[mu] - 1) ? 2 : x % 2; };
  std::vector<std::vector<ColouredSite>> out(colours);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const std::vector<int> x = g.global_coords(gi);
    int c = 0;
    for (int mu = 0; mu < g.dim(); ++mu) c += cycle_colour(mu, x[mu]);
    out[c % colours].push_back({p, gi});
  });
  return out;
}

}  // namespace latdiff
