// Helpers for statistical sampler tests: run a chain, collect per-configuration series, and
// compare a Gamma-method estimate with an exact value.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numbers>
#include <type_traits>
#include <vector>

#include "lattice/exact_sum.hpp"
#include "lattice/halo_exchange.hpp"
#include "samplers/update_result.hpp"
#include "stats/autocorrelation.hpp"

namespace latdiff::testing {

// Runs `thermalize` + `n` updates from phi and calls observe(phi) — or observe(phi, result)
// when the observer also wants the UpdateResult — after each of the last n.
template <class Sampler, class Observe>
void run_chain(Sampler& sampler, Field& phi, int thermalize, int n, Observe&& observe) {
  for (int i = 0; i < thermalize + n; ++i) {
    const UpdateResult r = sampler.update(phi, static_cast<std::uint64_t>(i));
    if (i < thermalize) continue;
    if constexpr (std::is_invocable_v<Observe&, const Field&, const UpdateResult&>)
      observe(phi, r);
    else
      observe(phi);
  }
}

// Asserts |estimate - exact| < n_sigma * error and that the error is below max_rel_error of
// exact, so the test is sharp enough to see a wrong distribution.
// The comparison is also printed, so test logs document the agreement.
inline void expect_agrees(const stats::GammaResult& r, double exact, const char* what,
                          double n_sigma = 4.0, double max_rel_error = 0.05) {
  std::printf("  %s: %.6g +- %.2g (tau_int %.3g) vs exact %.6g, %.2f sigma\n", what, r.value,
              r.error, r.tau_int, exact, (r.value - exact) / r.error);
  EXPECT_LT(std::abs(r.value - exact), n_sigma * r.error)
      << what << ": " << r.value << " +- " << r.error << " (tau_int " << r.tau_int << ") vs exact "
      << exact;
  EXPECT_LT(r.error, max_rel_error * std::abs(exact)) << what << ": error too large to test";
}

// Asserts that the estimate excludes `value` by more than n_sigma errors: for checks that a
// biased sampler's bias is really resolved, not hidden in the errors. Printed like above.
inline void expect_excludes(const stats::GammaResult& r, double value, const char* what,
                            double n_sigma = 4.0) {
  std::printf("  %s: %.6g +- %.2g (tau_int %.3g) vs excluded %.6g, %.2f sigma\n", what, r.value,
              r.error, r.tau_int, value, (r.value - value) / r.error);
  EXPECT_GT(std::abs(r.value - value), n_sigma * r.error)
      << what << ": " << r.value << " +- " << r.error << " does not exclude " << value;
}

// (1/V) sum_p f(phat^2) over the momenta p_mu = 2 pi n_mu / L_mu of the lattice `dims`.
inline double momentum_average(const std::vector<int>& dims,
                               const std::function<double(double)>& f) {
  double sum = 0;
  long volume = 1;
  for (int l : dims) volume *= l;
  for (long i = 0; i < volume; ++i) {
    long rest = i;
    double phat2 = 0;
    for (std::size_t mu = 0; mu < dims.size(); ++mu) {
      const double p = 2 * std::numbers::pi * static_cast<double>(rest % dims[mu]) / dims[mu];
      rest /= dims[mu];
      phat2 += 4 * std::sin(p / 2) * std::sin(p / 2);
    }
    sum += f(phat2);
  }
  return sum / static_cast<double>(volume);
}

// Exact free-field <phi_x^2> = (1/V) sum_p 1 / (phat^2 + m2), mass form.
inline double free_field_phi2(const std::vector<int>& dims, double m2) {
  return momentum_average(dims, [m2](double phat2) { return 1 / (phat2 + m2); });
}

// Fourier-acceleration kernel K(phat^2) = (phat^2_max + M^2) / (phat^2 + M^2) of Langevin and
// MALA on the lattice `dims`, phat^2_max the largest lattice momentum squared.
inline std::function<double(double)> langevin_kernel(const std::vector<int>& dims,
                                                     double fa_mass2) {
  double max_phat2 = 0;
  momentum_average(dims, [&](double phat2) {
    max_phat2 = std::max(max_phat2, phat2);
    return 0.0;
  });
  return [=](double phat2) { return (max_phat2 + fa_mass2) / (phat2 + fa_mass2); };
}

// Stationary <phi_x^2> of unadjusted Euler-Maruyama Langevin at step eps on the free field,
// mass form, with kernel K (1 without Fourier acceleration): each mode
// x' = (1 - eps K w) x + sqrt(2 eps K) eta, w = phat^2 + m2, has variance
// 2 eps K / (1 - (1 - eps K w)^2) = 1 / (w (1 - eps K w / 2)) (needs eps K w < 2 for every
// mode).
inline double euler_langevin_phi2(
    const std::vector<int>& dims, double m2, double eps,
    const std::function<double(double)>& kernel = [](double) { return 1.0; }) {
  return momentum_average(dims, [&](double phat2) {
    const double w = phat2 + m2, kw = kernel(phat2) * w;
    return 1 / (w * (1 - eps * kw / 2));
  });
}

// <phi^k> for the one-site weight exp(-phi^2 - lambda (phi^2 - 1)^2) (hopping form at
// kappa = 0), composite Simpson on [-6, 6]; outside, the weight is below exp(-36 - 1225 lambda).
inline double one_site_moment(int k, double lambda) {
  const int n = 20000;
  const double a = -6, h = 12.0 / n;
  double num = 0, den = 0;
  for (int i = 0; i <= n; ++i) {
    const double x = a + i * h;
    const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    const double weight = w * std::exp(-x * x - lambda * (x * x - 1) * (x * x - 1));
    num += weight * std::pow(x, k);
    den += weight;
  }
  return num / den;
}

// (1/V) sum_x f(phi_x) over the lattice. Collective.
inline double site_average(const Geometry& g, const Field& phi,
                           const std::function<double(double)>& f) {
  ExactSum s;
  for_each_site(g, [&](std::size_t p, std::int64_t) { s.add(f(phi[p])); });
  s.allreduce(g.comm());
  return s.value() / static_cast<double>(g.global_volume());
}

}  // namespace latdiff::testing
