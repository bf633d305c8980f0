// Every sampler must reproduce the exact Gaussian free field (DESIGN.md §7, rung 1).
#include <gtest/gtest.h>

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

// Checks <phi_x^2> and chi' = V <m^2> = 1/m^2 on a chain of `n` updates.
template <class Sampler>
void check_free_field(Sampler& sampler, const Geometry& g, int n) {
  Field phi = make_field(g);
  std::vector<double> phi2, chi;
  testing::run_chain(sampler, phi, 200, n, [&](const Field& f) {
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    const double m = site_average(g, f, [](double x) { return x; });
    chi.push_back(static_cast<double>(g.global_volume()) * m * m);
  });
  expect_agrees(stats::gamma_method(phi2), testing::free_field_phi2(kDims, kM2), "<phi^2>");
  expect_agrees(stats::gamma_method(chi), 1 / kM2, "chi'", 4.0, 0.06);
}

ActionConfig free_mass_form() {
  return {ActionForm::mass, 0, 0, kM2, 0};
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
