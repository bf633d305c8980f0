// Standard normal noise fields from a counter-based stream, shared by every sampler that
// draws one Gaussian per site (HMC momenta, Langevin and MALA noise).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lattice/field.hpp"
#include "random/counter_rng.hpp"
#include "samplers/inline_math.hpp"

namespace latdiff {

// Box-Muller on n pairs of uniforms in (0, 1] (CounterRng::uniform4's): out[2i] and
// out[2i + 1] are the sine and cosine normals of pair i, as Random123's boxmuller of the same
// Philox words gives them up to rounding (the angle is the words' uneg11, rebuilt from u01).
// The transcendental functions are inline, so the loop vectorises.
inline void box_muller(const double* angle, const double* radius, double* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double u = angle[i] < 0.5 ? 2 * angle[i] : 2 * angle[i] - 2;
    const double r = std::sqrt(-2 * inline_math::log_unit(radius[i]));
    double s, c;
    inline_math::sincos_pi(u, s, c);
    out[2 * i] = s * r;
    out[2 * i + 1] = c * r;
  }
}

// out[x] = standard normal for global site x and `counter` (no communication).
// The value at global site gi is normal number gi % 4 of the Philox draw (gi / 4, counter,
// sub), sub a second counter for streams drawn several times per update (e.g. per level):
// one draw serves four consecutive sites, on whichever ranks they live, so the field does
// not depend on the decomposition. Halos of out are not touched.
inline void fill_normals(const Geometry& g, const CounterRng& rng, std::uint64_t counter,
                         Field& out, std::uint64_t sub = 0) {
  const auto n = static_cast<std::uint64_t>(g.row_length());
  // Per row: the draws of the blocks it touches, then Box-Muller on all their pairs at once.
  const std::size_t max_pairs = 2 * (n / 4 + 2);
  std::vector<double> angle(max_pairs), radius(max_pairs), normals(2 * max_pairs);
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    const auto first = static_cast<std::uint64_t>(g.row_global_start(r));
    const std::uint64_t block0 = first / 4, blocks = (first + n - 1) / 4 - block0 + 1;
    for (std::uint64_t b = 0; b < blocks; ++b) {
      const auto u = rng.uniform4(block0 + b, counter, sub);
      angle[2 * b] = u[0];
      radius[2 * b] = u[1];
      angle[2 * b + 1] = u[2];
      radius[2 * b + 1] = u[3];
    }
    box_muller(angle.data(), radius.data(), normals.data(), 2 * blocks);
    const double* src = normals.data() + first % 4;
    double* dst = out.data() + g.row_start(r);
    for (std::uint64_t j = 0; j < n; ++j) dst[j] = src[j];
  }
}

}  // namespace latdiff
