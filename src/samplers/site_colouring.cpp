#include "samplers/site_colouring.hpp"

#include <algorithm>

namespace latdiff {

namespace {

// Extends the last run by the site when it continues it, else starts a new one.
void append(std::vector<ColourRun>& runs, std::size_t padded, std::int64_t global) {
  if (!runs.empty()) {
    ColourRun& last = runs.back();
    const int next = Geometry::kColourRunStride * last.count;
    if (last.padded + next == padded && last.global + next == global) {
      ++last.count;
      return;
    }
  }
  runs.push_back({padded, global, 1});
}

}  // namespace

std::vector<ColourClass> colour_runs(const Geometry& g) {
  const auto& L = g.global_dims();
  const auto& l = g.local_dims();
  const int d = g.dim();
  const bool all_even = std::all_of(L.begin(), L.end(), [](int e) { return e % 2 == 0; });
  const int colours = all_even ? 2 : 3;
  // Per dimension a proper colouring of the cycle C_L: 0,1,0,1,... and, for odd L, 2 on the
  // last site. Neighbours differ in one coordinate by 1 or 2, hence in the sum mod 3 (or 2).
  auto cycle_colour = [&](int mu, int x) { return (L[mu] % 2 == 1 && x == L[mu] - 1) ? 2 : x % 2; };
  auto on_split_face = [&](int mu, int local_x) {
    return g.procs()[mu] > 1 && (local_x == 0 || local_x == l[mu] - 1);
  };
  std::vector<ColourClass> out(colours);
  const int n = g.row_length();
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    const std::int64_t first = g.row_global_start(r);
    const std::vector<int> x = g.global_coords(first);
    int row_colour = 0;
    bool row_on_face = false;
    for (int mu = 0; mu + 1 < d; ++mu) {
      row_colour += cycle_colour(mu, x[mu]);
      row_on_face = row_on_face || on_split_face(mu, x[mu] - g.offset()[mu]);
    }
    for (int j = 0; j < n; ++j) {
      const int c = (row_colour + cycle_colour(d - 1, x[d - 1] + j)) % colours;
      const bool boundary = row_on_face || on_split_face(d - 1, j);
      append(boundary ? out[c].boundary : out[c].interior, g.row_start(r) + j, first + j);
    }
  }
  return out;
}

}  // namespace latdiff
