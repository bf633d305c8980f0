// Standard normal noise fields from a counter-based stream, shared by every sampler that
// draws one Gaussian per site (HMC momenta, Langevin and MALA noise).
#pragma once

#include <array>
#include <cstdint>

#include "lattice/field.hpp"
#include "random/counter_rng.hpp"

namespace latdiff {

// out[x] = standard normal for global site x and `counter` (no communication).
// The value at global site gi is normal number gi % 4 of the Philox draw (gi / 4, counter,
// sub), sub a second counter for streams drawn several times per update (e.g. per level):
// one draw serves four consecutive sites, on whichever ranks they live, so the field does
// not depend on the decomposition. Halos of out are not touched.
inline void fill_normals(const Geometry& g, const CounterRng& rng, std::uint64_t counter,
                         Field& out, std::uint64_t sub = 0) {
  std::uint64_t block = ~std::uint64_t{0};
  std::array<double, 4> normals{};
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const auto site = static_cast<std::uint64_t>(gi);
    if (site / 4 != block) {
      block = site / 4;
      normals = rng.normal4(block, counter, sub);
    }
    out[p] = normals[site % 4];
  });
}

}  // namespace latdiff
