// White-noise test fields from the counter-based RNG.
#pragma once

#include <cstdint>

#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "random/counter_rng.hpp"

namespace latdiff::testing {

// Interior of a fresh field: at global site gi, normal number `component` (0 ... 3) of the
// hot-start stream's draw (gi, counter) with `seed`, so the field is the same on every
// decomposition. Local, not collective.
inline Field white_field(const Geometry& g, std::uint64_t seed, std::uint64_t counter,
                         int component = 0) {
  const CounterRng rng(seed, Stream::hot_start);
  Field f = make_field(g);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    f[p] = rng.normal4(static_cast<std::uint64_t>(gi), counter)[component];
  });
  return f;
}

}  // namespace latdiff::testing
