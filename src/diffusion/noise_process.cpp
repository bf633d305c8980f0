#include "diffusion/noise_process.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace latdiff {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("noise process: " + what);
}

}  // namespace

ReverseKernel default_reverse_kernel(NoiseKind kind) {
  return kind == NoiseKind::ve ? ReverseKernel::posterior : ReverseKernel::ancestral;
}

NoiseProcess::NoiseProcess(const NoiseSchedule& s)
    : NoiseProcess(s, default_reverse_kernel(s.kind)) {}

NoiseProcess::NoiseProcess(const NoiseSchedule& s, ReverseKernel kernel)
    : schedule_(s), kernel_(kernel) {
  const int n = s.levels;
  require(n >= 1, "levels must be >= 1");
  a_.assign(n + 1, 1.0);
  v_.assign(n + 1, 0.0);
  abar_.assign(n + 1, 1.0);
  sbar2_.assign(n + 1, 0.0);
  r_.assign(n + 1, 0.0);
  // Position of level i in [0, 1] along the schedule (level 1 at 0, level N at 1).
  auto t = [n](int i) { return n == 1 ? 1.0 : static_cast<double>(i - 1) / (n - 1); };
  if (s.kind == NoiseKind::ve) {
    require(s.sigma_min > 0 && s.sigma_max > s.sigma_min, "needs 0 < sigma_min < sigma_max");
    double prev2 = 0;
    for (int i = 1; i <= n; ++i) {
      const double sigma = s.sigma_min * std::pow(s.sigma_max / s.sigma_min, t(i));
      v_[i] = sigma * sigma - prev2;
      prev2 = sigma * sigma;
    }
  } else {
    require(s.beta_min > 0 && s.beta_max >= s.beta_min && s.beta_max < n,
            "needs 0 < beta_min <= beta_max < levels");
    double abar2 = 1;  // abar_{i-1}^2
    for (int i = 1; i <= n; ++i) {
      const double beta = (s.beta_min + (s.beta_max - s.beta_min) * t(i)) / n;
      a_[i] = std::sqrt(1 - beta);
      v_[i] = s.kind == NoiseKind::vp ? beta : beta * (1 - (1 - beta) * abar2 * abar2);
      abar2 *= 1 - beta;
    }
  }
  for (int i = 1; i <= n; ++i) {
    abar_[i] = abar_[i - 1] * a_[i];
    sbar2_[i] = a_[i] * a_[i] * sbar2_[i - 1] + v_[i];
    r_[i] = kernel == ReverseKernel::posterior && i > 1 ? v_[i] * sbar2_[i - 1] / sbar2_[i] : v_[i];
  }
}

void NoiseProcess::forward_step(const Geometry& g, int i, const Field& x_prev, const Field& eta,
                                Field& out) const {
  const double a = a_[i], c = std::sqrt(v_[i]);
  for_each_site(g, [&](std::size_t p, std::int64_t) { out[p] = a * x_prev[p] + c * eta[p]; });
}

void NoiseProcess::reverse_step(const Geometry& g, int i, const Field& x_i, const Field& score,
                                const Field& eta, Field& out) const {
  const double inv_a = 1 / a_[i], v = v_[i], c = std::sqrt(r_[i]);
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    out[p] = (x_i[p] + v * score[p]) * inv_a + c * eta[p];
  });
}

ExactSum NoiseProcess::log_forward(const Geometry& g, int i, const Field& x_i,
                                   const Field& x_prev) const {
  return log_gaussian(g, x_i, &x_prev, a_[i], v_[i]);
}

ExactSum NoiseProcess::log_marginal(const Geometry& g, int i, const Field& x_i,
                                    const Field& x_0) const {
  return log_gaussian(g, x_i, &x_0, abar_[i], sbar2_[i]);
}

ExactSum NoiseProcess::log_reverse(const Geometry& g, int i, const Field& x_prev, const Field& x_i,
                                   const Field& score) const {
  const double inv_a = 1 / a_[i], v = v_[i], r = r_[i];
  const double norm = -0.5 * std::log(2 * std::numbers::pi * r);
  ExactSum sum;
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    const double d = x_prev[p] - (x_i[p] + v * score[p]) * inv_a;
    sum.add(-d * d / (2 * r));
  });
  sum.add_times(norm, g.local_volume());
  return sum;
}

ExactSum log_gaussian(const Geometry& g, const Field& y, const Field* x, double scale, double var) {
  const double norm = -0.5 * std::log(2 * std::numbers::pi * var);
  ExactSum sum;
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    const double d = y[p] - (x ? scale * (*x)[p] : 0.0);
    sum.add(-d * d / (2 * var));
  });
  sum.add_times(norm, g.local_volume());
  return sum;
}

}  // namespace latdiff
