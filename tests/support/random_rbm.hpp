// Small random RBMs and helpers for the RBM tests (models, samplers).
#pragma once

#include <cstdint>
#include <vector>

#include "models/rbm.hpp"
#include "random/counter_rng.hpp"

namespace latdiff::testing {

// Weights and biases uniform in [-scale, scale]; Gaussian sigmas in [sigma_min, sigma_min +
// sigma_width). The same model on every rank.
inline RbmParameters random_rbm(RbmUnits visible, RbmUnits hidden, int nv, int nh,
                                std::uint64_t seed, double scale = 1.0, double sigma_min = 0.5,
                                double sigma_width = 1.0) {
  CounterRng rng(seed, Stream::hot_start);
  RbmParameters p;
  p.visible_units = visible;
  p.hidden_units = hidden;
  p.n_visible = nv;
  p.n_hidden = nh;
  auto draw = [&](std::uint64_t a, std::uint64_t b) { return scale * (2 * rng.uniform(a, b) - 1); };
  for (int i = 0; i < nv * nh; ++i) p.weights.push_back(draw(i, 0));
  for (int i = 0; i < nv; ++i) p.visible_bias.push_back(draw(i, 1));
  for (int j = 0; j < nh; ++j) p.hidden_bias.push_back(draw(j, 2));
  if (visible == RbmUnits::gaussian)
    for (int i = 0; i < nv; ++i)
      p.visible_sigma.push_back(sigma_min + sigma_width * rng.uniform(i, 3));
  return p;
}

// This rank's part of a visible configuration given in global order.
inline std::vector<double> local_part(const Rbm& rbm, const std::vector<double>& global) {
  std::vector<double> v;
  for (std::int64_t gi : rbm.layout().global_index) v.push_back(global[gi]);
  return v;
}

}  // namespace latdiff::testing
