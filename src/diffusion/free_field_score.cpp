#include "diffusion/free_field_score.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace latdiff {

FreeFieldScore::FreeFieldScore(const Geometry& g, const Phi4Couplings& k, const NoiseProcess& noise)
    : g_(g), noise_(noise), fft_(g), kernel_(lattice_momentum_squared(g)) {
  for (double& p2 : kernel_) p2 = 2 * k.a - 2 * k.beta * g.dim() + k.beta * p2;
  // K is smallest at p = 0 (beta >= 0) or at the largest momentum (beta < 0); both are
  // computed from the couplings alone, so every rank decides alike.
  const double k_zero = 2 * k.a - 2 * k.beta * g.dim();
  const double k_min = std::min(k_zero, k_zero + k.beta * max_lattice_momentum_squared(g));
  if (!(k_min > 0))
    throw std::invalid_argument(
        "the quadratic part of the action is not positive definite (smallest K(p) = " +
        std::to_string(k_min) + ")");
}

void FreeFieldScore::score(const Field& x, int level, Field& out) {
  fft_.forward(x, spectrum_);
  for (std::size_t p = 0; p < kernel_.size(); ++p) spectrum_[p] *= -1 / variance(level, p);
  fft_.inverse(spectrum_, out);
}

ExactSum FreeFieldScore::log_density(const Field& x, int level) {
  fft_.forward(x, spectrum_);
  const double inv_v = 1 / static_cast<double>(g_.global_volume());
  ExactSum sum;
  for (std::size_t p = 0; p < kernel_.size(); ++p) {
    const double lambda = variance(level, p);
    sum.add(-0.5 * std::norm(spectrum_[p]) * inv_v / lambda);
    sum.add(-0.5 * std::log(2 * std::numbers::pi * lambda));
  }
  return sum;
}

void FreeFieldScore::sample(const Field& eta, int level, Field& out) {
  fft_.forward(eta, spectrum_);
  for (std::size_t p = 0; p < kernel_.size(); ++p) spectrum_[p] *= std::sqrt(variance(level, p));
  fft_.inverse(spectrum_, out);
}

void sample_prior(const Geometry& g, const NoiseProcess& noise, FreeFieldScore* gaussian,
                  const Field& eta, Field& out) {
  const int n = noise.levels();
  if (gaussian) return gaussian->sample(eta, n, out);
  const double c = std::sqrt(noise.sbar2(n));
  for_each_site(g, [&](std::size_t p, std::int64_t) { out[p] = c * eta[p]; });
}

ExactSum log_prior(const Geometry& g, const NoiseProcess& noise, FreeFieldScore* gaussian,
                   const Field& x) {
  const int n = noise.levels();
  return gaussian ? gaussian->log_density(x, n) : log_gaussian(g, x, nullptr, 0, noise.sbar2(n));
}

}  // namespace latdiff
