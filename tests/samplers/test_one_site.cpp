// At kappa = 0 every site is an independent one-site phi^4 integral, so each sampler must
// reproduce moments of exp(-phi^2 - lambda (phi^2 - 1)^2) computed by quadrature
// (DESIGN.md §7, rung 2).
#include <gtest/gtest.h>

#include "chain.hpp"
#include "models/phi4.hpp"
#include "samplers/hmc.hpp"
#include "samplers/metropolis.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;
using testing::site_average;

constexpr double kLambda = 1.5;

double one_site_moment(int k) {
  return testing::one_site_moment(k, kLambda);
}

template <class Sampler>
void check_one_site(Sampler& sampler, const Geometry& g, int n) {
  Field phi = make_field(g);
  std::vector<double> phi2, phi4;
  testing::run_chain(sampler, phi, 100, n, [&](const Field& f) {
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    phi4.push_back(site_average(g, f, [](double x) { return x * x * x * x; }));
  });
  expect_agrees(stats::gamma_method(phi2), one_site_moment(2), "<phi^2>", 4.0, 0.01);
  expect_agrees(stats::gamma_method(phi4), one_site_moment(4), "<phi^4>", 4.0, 0.01);
}

const ActionConfig kOneSite{ActionForm::hopping, 0.0, kLambda, 0, 0};

TEST(OneSite, QuadratureIsSane) {
  EXPECT_NEAR(one_site_moment(0), 1.0, 1e-15);
  EXPECT_NEAR(one_site_moment(1), 0.0, 1e-12);
  EXPECT_GT(one_site_moment(2), 0.5);
}

TEST(OneSite, Metropolis) {
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, kOneSite);
  Metropolis sampler(model, g, {1.5, 1}, 201);
  check_one_site(sampler, g, 10000);
}

TEST(OneSite, HmcOmelyan) {
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, kOneSite);
  Hmc sampler(model, g, {Integrator::omelyan, 1.1, 5}, 202);
  check_one_site(sampler, g, 6000);
}

TEST(OneSite, HmcLeapfrog) {
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, kOneSite);
  Hmc sampler(model, g, {Integrator::leapfrog, 1.1, 10}, 203);
  check_one_site(sampler, g, 6000);
}

TEST(OneSite, FourierAcceleratedHmc) {
  // At kappa = 0 the action does not couple sites, but the kernel M~ = phat^2 + M^2 does: the
  // momenta are correlated between sites and the drift mixes them, and the chain must still
  // sample the product of one-site distributions exactly.
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, kOneSite);
  Hmc sampler(model, g, {Integrator::omelyan, 1.5, 6, true, 0.5}, 204);
  check_one_site(sampler, g, 6000);
}

}  // namespace
}  // namespace latdiff
