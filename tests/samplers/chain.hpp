// Helpers for statistical sampler tests: run a chain, collect per-configuration series, and
// compare a Gamma-method estimate with an exact value.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <numbers>
#include <vector>

#include "lattice/exact_sum.hpp"
#include "lattice/halo_exchange.hpp"
#include "stats/autocorrelation.hpp"

namespace latdiff::testing {

// Runs `thermalize` + `n` updates from phi and calls observe(phi) after each of the last n.
template <class Sampler>
void run_chain(Sampler& sampler, Field& phi, int thermalize, int n,
               const std::function<void(const Field&)>& observe) {
  for (int i = 0; i < thermalize + n; ++i) {
    sampler.update(phi, static_cast<std::uint64_t>(i));
    if (i >= thermalize) observe(phi);
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

// Exact free-field <phi_x^2> = (1/V) sum_p 1 / (phat^2 + m2), mass form.
inline double free_field_phi2(const std::vector<int>& dims, double m2) {
  std::vector<int> n(dims.size(), 0);
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
    sum += 1 / (phat2 + m2);
  }
  return sum / static_cast<double>(volume);
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
