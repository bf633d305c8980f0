#include "diffusion/generators.hpp"

#include <cmath>
#include <vector>

#include "lattice/exact_sum.hpp"

namespace latdiff {

double drift_rate(const NoiseProcess& noise, int i) {
  return 1 - noise.a(i) * noise.a(i);
}

void euler_maruyama_step(const Geometry& g, const NoiseProcess& noise, int i, const Field& x_i,
                         const Field& score, const Field& eta, Field& out) {
  const double grow = 1 + drift_rate(noise, i) / 2, v = noise.v(i), c = std::sqrt(v);
  for_each_site(
      g, [&](std::size_t p, std::int64_t) { out[p] = grow * x_i[p] + v * score[p] + c * eta[p]; });
}

void probability_flow_step(const Geometry& g, const NoiseProcess& noise, int i, const Field& x_i,
                           const Field& score, Field& out) {
  const double grow = 1 + drift_rate(noise, i) / 2, half_v = noise.v(i) / 2;
  for_each_site(g,
                [&](std::size_t p, std::int64_t) { out[p] = grow * x_i[p] + half_v * score[p]; });
}

double corrector_step(const Geometry& g, double snr, const Field& score, const Field& z, Field& x) {
  std::vector<ExactSum> norms(2);  // sum z^2, sum s^2
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    norms[0].add(z[p] * z[p]);
    norms[1].add(score[p] * score[p]);
  });
  allreduce_each(norms, g.comm());
  const double ss = norms[1].value();
  if (ss == 0) return 0;
  const double eps = 2 * snr * snr * norms[0].value() / ss, c = std::sqrt(2 * eps);
  for_each_site(g, [&](std::size_t p, std::int64_t) { x[p] += eps * score[p] + c * z[p]; });
  return eps;
}

}  // namespace latdiff
