// Every sampler must reproduce the exact Gaussian free field (DESIGN.md §7, rung 1).
#include <gtest/gtest.h>

#include <numbers>

#include "chain.hpp"
#include "models/phi4.hpp"
#include "samplers/hmc.hpp"
#include "samplers/metropolis.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;
using testing::site_average;

constexpr double kM2 = 0.5;
const std::vector<int> kDims = {8, 8};

struct Series {
  std::vector<double> phi2, chi;
};

// <phi_x^2> and chi' = V m^2 after each of `n` updates.
template <class Sampler>
Series free_field_series(Sampler& sampler, const Geometry& g, int n) {
  Field phi = make_field(g);
  Series s;
  testing::run_chain(sampler, phi, 200, n, [&](const Field& f) {
    s.phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    const double m = site_average(g, f, [](double x) { return x; });
    s.chi.push_back(static_cast<double>(g.global_volume()) * m * m);
  });
  return s;
}

// Checks <phi_x^2> and chi' = V <m^2> = 1/m^2 on a chain of `n` updates; returns chi'.
template <class Sampler>
stats::GammaResult check_free_field(Sampler& sampler, const Geometry& g, int n, double m2 = kM2) {
  const Series s = free_field_series(sampler, g, n);
  expect_agrees(stats::gamma_method(s.phi2), testing::free_field_phi2(kDims, m2), "<phi^2>");
  const stats::GammaResult chi = stats::gamma_method(s.chi);
  expect_agrees(chi, 1 / m2, "chi'", 4.0, 0.06);
  return chi;
}

ActionConfig free_mass_form(double m2 = kM2) {
  return {ActionForm::mass, 0, 0, m2, 0};
}

TEST(FreeField, Metropolis) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, free_mass_form());
  Metropolis sampler(model, g, {1.6, 2}, 101);
  check_free_field(sampler, g, 20000);
}

TEST(FreeField, HmcLeapfrog) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, free_mass_form());
  Hmc sampler(model, g, {Integrator::leapfrog, 1.3, 8}, 102);
  check_free_field(sampler, g, 8000);
}

TEST(FreeField, HmcOmelyan) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, free_mass_form());
  Hmc sampler(model, g, {Integrator::omelyan, 1.3, 4}, 103);
  check_free_field(sampler, g, 8000);
}

TEST(FreeField, FourierAcceleratedHmcLeapfrog) {
  // Kernel mass away from m^2: exact all the same.
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, free_mass_form());
  Hmc sampler(model, g, {Integrator::leapfrog, 1.3, 6, true, 2.0}, 107);
  check_free_field(sampler, g, 8000);
}

TEST(FreeField, FourierAcceleratedHmcMovesEveryModeAtOnce) {
  // With M^2 = m^2 the molecular dynamics gives every mode phi~(p) frequency 1, so a
  // trajectory of length pi/2 turns (phi, M^{-1} pi) by a quarter period: phi' is (up to the
  // integrator's error) the fresh momentum's M^{-1} pi, and chi' decorrelates in one
  // trajectory, tau_int ~ 0.5. Without acceleration the zero mode turns by m pi/2 = 0.35 rad
  // only: corr(chi'_t, chi'_{t+1}) = cos^2(0.35) = 0.88 and tau_int ~ 8.
  constexpr double kLight = 0.05;
  const double quarter = std::numbers::pi / 2;
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, free_mass_form(kLight));
  Hmc accelerated(model, g, {Integrator::omelyan, quarter, 3, true, kLight}, 105);
  const stats::GammaResult fa = check_free_field(accelerated, g, 8000, kLight);
  Hmc plain(model, g, {Integrator::omelyan, quarter, 6}, 106);
  const stats::GammaResult unaccelerated =
      stats::gamma_method(free_field_series(plain, g, 8000).chi);
  std::printf("  tau_int(chi'): %.3f +- %.3f accelerated, %.3f +- %.3f without\n", fa.tau_int,
              fa.tau_int_error, unaccelerated.tau_int, unaccelerated.tau_int_error);
  EXPECT_LT(fa.tau_int, 0.7);
  EXPECT_GT(unaccelerated.tau_int, 5 * fa.tau_int);
}

TEST(FreeField, HoppingFormMetropolis) {
  // Hopping form at lambda = 0: G(p) = 1 / (2 - 4 kappa sum_mu cos p_mu), i.e. the mass form
  // with phi_mass = sqrt(2 kappa) phi and m^2 = 1/kappa - 2d.
  const double kappa = 0.2;
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::hopping, kappa, 0, 0, 0});
  Metropolis sampler(model, g, {1.2, 2}, 104);
  Field phi = make_field(g);
  std::vector<double> phi2;
  testing::run_chain(sampler, phi, 200, 20000, [&](const Field& f) {
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
  });
  const double m2 = 1 / kappa - 4;
  expect_agrees(stats::gamma_method(phi2), testing::free_field_phi2(kDims, m2) / (2 * kappa),
                "<phi_hop^2>");
}

}  // namespace
}  // namespace latdiff
