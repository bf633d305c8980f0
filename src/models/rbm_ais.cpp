#include "models/rbm_ais.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "random/counter_rng.hpp"

namespace latdiff {

AisResult ais_log_partition(const Rbm& rbm, int runs, int temperatures, std::uint64_t seed) {
  const RbmParameters& p = rbm.parameters();
  if (runs < 2 || temperatures < 1)
    throw std::invalid_argument(
        "rbm: annealed importance sampling needs >= 2 runs and >= 1 temperature");
  const RbmUnits vis = p.visible_units, hid = p.hidden_units;
  const bool gaussian = vis == RbmUnits::gaussian;
  const CounterRng visible_rng(seed, Stream::rbm_ais_visible),
      hidden_rng(seed, Stream::rbm_ais_hidden);
  double hidden_base = 0;  // L_b
  for (double b : p.hidden_bias) hidden_base += Rbm::log_partition(hid, b);
  // log Z_0 of F_0(v) = [visible part] - n_h L(0) - L_b: independent visible units, each
  // sum_v exp(a v) or, Gaussian, the integral sqrt(2 pi) s of exp(-(v - mu)^2 / (2 s^2)).
  double log_z0 = hidden_base + static_cast<double>(p.n_hidden) * Rbm::log_partition(hid, 0.0);
  if (gaussian)
    for (double s : p.visible_sigma) log_z0 += std::log(std::sqrt(2 * std::numbers::pi) * s);
  else
    for (double a : p.visible_bias) log_z0 += Rbm::log_partition(vis, a);

  auto draw = [](RbmUnits units, double x, double u) {
    return u < Rbm::probability_on(units, x) ? Rbm::on_value(units) : Rbm::off_value(units);
  };
  // Visible unit i given its input x (a_i + beta (W h)_i, or the Gaussian mean), draw k of run r.
  auto draw_visible = [&](std::size_t i, double x, int r, int k) {
    const auto gi = static_cast<std::uint64_t>(rbm.layout().global_index[i]);
    if (gaussian) return x + rbm.sigma(i) * visible_rng.normal4(gi, r, k)[0];
    return draw(vis, x, visible_rng.uniform(gi, r, k));
  };
  std::vector<double> log_w(static_cast<std::size_t>(runs), 0.0);
  // scaled_h = beta_k h, so that visible_input gives a_i + beta_k (W h)_i.
  std::vector<double> v(rbm.local_visible()), scaled_h(static_cast<std::size_t>(p.n_hidden));
  for (int r = 0; r < runs; ++r) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = draw_visible(i, rbm.bias(i), r, 0);  // p_0
    double previous_beta = 0;
    for (int k = 1; k <= temperatures; ++k) {
      const double beta = static_cast<double>(k) / temperatures;
      const std::vector<double> c = rbm.hidden_input(v);
      double step = -(beta - previous_beta) * hidden_base;  // F_{k-1}(v) - F_k(v)
      for (double x : c)
        step += Rbm::log_partition(hid, beta * x) - Rbm::log_partition(hid, previous_beta * x);
      log_w[r] += step;
      previous_beta = beta;
      if (k == temperatures) break;  // the last state is not used
      // One Gibbs sweep of p_k: h_j ~ p(h_j | v) with input beta c_j, v_i with a_i + beta (W h)_i.
      for (std::size_t j = 0; j < scaled_h.size(); ++j)
        scaled_h[j] = beta * draw(hid, beta * c[j], hidden_rng.uniform(j, r, k));
      const std::vector<double> x = rbm.visible_input(scaled_h);
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = draw_visible(i, x[i], r, k);
    }
  }
  const double top = *std::max_element(log_w.begin(), log_w.end());
  double sum = 0, sum2 = 0;
  for (double lw : log_w) {
    const double w = std::exp(lw - top);
    sum += w;
    sum2 += w * w;
  }
  const double n = static_cast<double>(runs), mean = sum / n;
  const double variance = std::max(0.0, (sum2 - n * mean * mean) / (n - 1));
  return {log_z0 + top + std::log(mean), std::sqrt(variance / n) / mean, log_z0,
          sum * sum / (n * sum2)};
}

}  // namespace latdiff
