// MALA is exact at any step size: the free field (DESIGN.md §7 rung 1), at a step where
// unadjusted Langevin is visibly biased, and one-site phi^4 by quadrature (rung 2); in both,
// <exp(-delta_h)> = 1 for the reported delta_h = -log(Metropolis ratio). Each with and without
// Fourier acceleration (kernel K of fourier_kernel.hpp).
#include <gtest/gtest.h>

#include "chain.hpp"
#include "models/phi4.hpp"
#include "samplers/mala.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;
using testing::site_average;

// Mean acceptance, and <exp(-delta_h)> checked against 1.
void check_accept_step(const std::vector<double>& acceptance, const std::vector<double>& dh,
                       double min_acceptance) {
  double acc = 0;
  for (double a : acceptance) acc += a;
  acc /= static_cast<double>(acceptance.size());
  std::printf("  acceptance %.3f\n", acc);
  // Both branches of the accept step must really be exercised.
  EXPECT_GT(acc, min_acceptance);
  EXPECT_LT(acc, 0.995);
  std::vector<double> w(dh.size());
  for (std::size_t i = 0; i < dh.size(); ++i) w[i] = std::exp(-dh[i]);
  expect_agrees(stats::gamma_method(w), 1.0, "<exp(-delta_h)>", 4.0, 0.05);
}

// Free field, mass form, m^2 = 1 on 8 x 8. `biased` is the stationary <phi^2> of the
// unadjusted Langevin update that MALA uses as its proposal, which the chain must exclude.
void check_free_field(const MalaParams& params, std::uint64_t seed, int n, double biased) {
  constexpr double kM2 = 1.0;
  const std::vector<int> dims = {8, 8};
  Geometry g(dims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::mass, 0, 0, kM2, 0});
  Mala sampler(model, g, params, seed);
  Field phi = make_field(g);
  std::vector<double> phi2, chi, acceptance, dh;
  testing::run_chain(sampler, phi, 200, n, [&](const Field& f, const UpdateResult& r) {
    acceptance.push_back(r.acceptance);
    dh.push_back(r.delta_h);
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    const double m = site_average(g, f, [](double x) { return x; });
    chi.push_back(static_cast<double>(g.global_volume()) * m * m);
  });
  const auto r_phi2 = stats::gamma_method(phi2);
  expect_agrees(r_phi2, testing::free_field_phi2(dims, kM2), "<phi^2>", 4.0, 0.01);
  testing::expect_excludes(r_phi2, biased, "<phi^2> vs unadjusted Langevin's", 6.0);
  expect_agrees(stats::gamma_method(chi), 1 / kM2, "chi'", 4.0, 0.03);
  check_accept_step(acceptance, dh, 0.3);
}

TEST(Mala, FreeField) {
  // Unadjusted Langevin at this step is biased by 8% in <phi^2>; the accept step removes it.
  constexpr double kEps = 0.05;
  check_free_field({kEps}, 401, 80000, testing::euler_langevin_phi2({8, 8}, 1.0, kEps));
}

TEST(Mala, FourierAcceleratedFreeField) {
  // Kernel mass M^2 = m^2: K_p omega_p = phat^2_max + m^2 = 9 for every mode, so the proposal
  // moves all modes alike; unadjusted it would be biased by 1 / (1 - 9 eps / 2) = 1.25.
  constexpr double kEps = 0.045, kFaMass2 = 1.0;
  const std::vector<int> dims = {8, 8};
  check_free_field(
      {kEps, true, kFaMass2}, 403, 20000,
      testing::euler_langevin_phi2(dims, 1.0, kEps, testing::langevin_kernel(dims, kFaMass2)));
}

// One-site phi^4 (hopping form, kappa = 0) on 4^3 sites against quadrature.
void check_one_site(const MalaParams& params, std::uint64_t seed, int n) {
  constexpr double kLambda = 1.5;
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::hopping, 0.0, kLambda, 0, 0});
  Mala sampler(model, g, params, seed);
  Field phi = make_field(g);
  std::vector<double> phi2, phi4, acceptance, dh;
  testing::run_chain(sampler, phi, 200, n, [&](const Field& f, const UpdateResult& r) {
    acceptance.push_back(r.acceptance);
    dh.push_back(r.delta_h);
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    phi4.push_back(site_average(g, f, [](double x) { return x * x * x * x; }));
  });
  expect_agrees(stats::gamma_method(phi2), testing::one_site_moment(2, kLambda), "<phi^2>", 4.0,
                0.01);
  expect_agrees(stats::gamma_method(phi4), testing::one_site_moment(4, kLambda), "<phi^4>", 4.0,
                0.01);
  check_accept_step(acceptance, dh, 0.3);
}

TEST(Mala, OneSitePhi4) {
  check_one_site({0.02}, 402, 40000);
}

TEST(Mala, FourierAcceleratedOneSitePhi4) {
  // The kernel couples the otherwise independent sites (and, tuned for none of them, makes the
  // chain slower than without it: this is an exactness test).
  check_one_site({0.01, true, 1.0}, 404, 20000);
}

}  // namespace
}  // namespace latdiff
