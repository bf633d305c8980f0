// Unadjusted Langevin on the free field, where the stationary distribution of both schemes is
// known exactly at finite step size (DESIGN.md §3, §7 rung 1).
//
// Mass form, g = 0: each momentum mode is an independent linear recursion with
// omega_p = phat^2 + m^2 and a = 1 - eps omega_p.
//   Euler: x' = a x + sqrt(2 eps) eta  =>  var = 2 eps / (1 - a^2) = 1 / (omega (1 - eps omega/2)),
//     so <phi_x^2>_eps = (1/V) sum_p 1 / (omega_p (1 - eps omega_p / 2)) and
//     chi'_eps = 1 / (m^2 (1 - eps m^2 / 2)): an O(eps) bias.
//   Leimkuhler-Matthews: x_{n+1} = a x_n + c (eta_n + eta_{n+1}), c = sqrt(eps/2). With
//     cov(x_n, eta_n) = c, var = a^2 var + 2 c^2 + 2 a c^2, so var = 2 c^2 / (1 - a) = 1/omega:
//     no bias at all for a linear force.
// Both need |a| < 1, i.e. eps omega_max = eps (4d + m^2) < 2.
// Fourier acceleration puts the kernel K_p in front of eps (a = 1 - eps K_p omega_p, noise
// sqrt(2 eps K_p)): Euler's variance becomes 1 / (omega (1 - eps K omega / 2)), and
// Leimkuhler-Matthews stays exact.
#include <gtest/gtest.h>

#include <cstring>

#include "chain.hpp"
#include "models/phi4.hpp"
#include "samplers/langevin.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;
using testing::expect_excludes;
using testing::site_average;

constexpr double kM2 = 1.0;
// Large enough that Euler's bias (8% in chi', 50% in <phi^2>) is many errors, small enough
// that eps omega_max = 1.35 < 2 keeps every mode stable.
constexpr double kEps = 0.15;
const std::vector<int> kDims = {8, 8};

double euler_phi2(double eps) {
  return testing::euler_langevin_phi2(kDims, kM2, eps);
}
double euler_chi(double eps) {
  return 1 / (kM2 * (1 - eps * kM2 / 2));
}

struct FreeFieldEstimates {
  stats::GammaResult phi2, chi;
};

FreeFieldEstimates run_free_field(const LangevinParams& params, std::uint64_t seed, int n) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::mass, 0, 0, kM2, 0});
  Langevin sampler(model, g, params, seed);
  Field phi = make_field(g);
  std::vector<double> phi2, chi;
  testing::run_chain(sampler, phi, 200, n, [&](const Field& f) {
    phi2.push_back(site_average(g, f, [](double x) { return x * x; }));
    const double m = site_average(g, f, [](double x) { return x; });
    chi.push_back(static_cast<double>(g.global_volume()) * m * m);
  });
  return {stats::gamma_method(phi2), stats::gamma_method(chi)};
}

TEST(Langevin, EulerFreeFieldHasTheExactStepSizeBias) {
  const FreeFieldEstimates r = run_free_field({LangevinScheme::euler, kEps}, 301, 200000);
  expect_agrees(r.phi2, euler_phi2(kEps), "<phi^2> vs eps-exact", 4.0, 0.01);
  expect_excludes(r.phi2, testing::free_field_phi2(kDims, kM2), "<phi^2> vs continuum", 6.0);
  expect_agrees(r.chi, euler_chi(kEps), "chi' vs eps-exact", 4.0, 0.01);
  expect_excludes(r.chi, 1 / kM2, "chi' vs continuum", 4.0);
}

TEST(Langevin, LeimkuhlerMatthewsFreeFieldIsExact) {
  const FreeFieldEstimates r =
      run_free_field({LangevinScheme::leimkuhler_matthews, kEps}, 302, 200000);
  expect_agrees(r.phi2, testing::free_field_phi2(kDims, kM2), "<phi^2> vs continuum", 4.0, 0.01);
  expect_excludes(r.phi2, euler_phi2(kEps), "<phi^2> vs Euler's eps value", 6.0);
  expect_agrees(r.chi, 1 / kM2, "chi' vs continuum", 4.0, 0.01);
}

// Kernel mass of the accelerated runs: not m^2, so that K_p omega_p = 10 (phat^2 + 1) /
// (phat^2 + 2) varies from 5 (p = 0) to 9 (UV) and eps K omega from 0.75 to 1.35 < 2.
constexpr double kFaMass2 = 2.0;

TEST(Langevin, FourierAcceleratedEulerHasTheExactStepSizeBias) {
  const FreeFieldEstimates r =
      run_free_field({LangevinScheme::euler, kEps, true, kFaMass2}, 303, 40000);
  const auto kernel = testing::langevin_kernel(kDims, kFaMass2);
  const double k0 = kernel(0);  // p = 0: chi' = 1 / (m^2 (1 - eps K_0 m^2 / 2))
  expect_agrees(r.phi2, testing::euler_langevin_phi2(kDims, kM2, kEps, kernel),
                "<phi^2> vs eps-exact", 4.0, 0.01);
  expect_excludes(r.phi2, euler_phi2(kEps), "<phi^2> vs unaccelerated Euler's", 6.0);
  expect_agrees(r.chi, 1 / (kM2 * (1 - kEps * k0 * kM2 / 2)), "chi' vs eps-exact", 4.0, 0.01);
  expect_excludes(r.chi, euler_chi(kEps), "chi' vs unaccelerated Euler's", 6.0);
}

TEST(Langevin, FourierAcceleratedLeimkuhlerMatthewsFreeFieldIsExact) {
  const FreeFieldEstimates r =
      run_free_field({LangevinScheme::leimkuhler_matthews, kEps, true, kFaMass2}, 304, 40000);
  expect_agrees(r.phi2, testing::free_field_phi2(kDims, kM2), "<phi^2> vs continuum", 4.0, 0.01);
  expect_agrees(r.chi, 1 / kM2, "chi' vs continuum", 4.0, 0.01);
}

bool bitwise_equal(const Field& a, const Field& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(Langevin, ChainIsAFunctionOfTheUpdateIndexAlone) {
  // The non-Markovian scheme keeps no noise state: a fresh sampler continuing from the
  // configuration at update k (a restart) reproduces the uninterrupted chain bitwise.
  Geometry g({6, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::hopping, 0.18, 0.9, 0, 0});
  for (const LangevinParams& params :
       {LangevinParams{LangevinScheme::euler, 0.05},
        LangevinParams{LangevinScheme::leimkuhler_matthews, 0.05},
        LangevinParams{LangevinScheme::leimkuhler_matthews, 0.05, true, 3.0}}) {
    Field whole = make_field(g), restarted = make_field(g);
    Langevin a(model, g, params, 9);
    for (std::uint64_t i = 0; i < 20; ++i) a.update(whole, i);
    Langevin b(model, g, params, 9);
    for (std::uint64_t i = 0; i < 11; ++i) b.update(restarted, i);
    Langevin c(model, g, params, 9);
    for (std::uint64_t i = 11; i < 20; ++i) c.update(restarted, i);
    EXPECT_TRUE(bitwise_equal(whole, restarted));
    double moved = 0;
    for_each_site(g, [&](std::size_t p, std::int64_t) { moved += std::abs(whole[p]); });
    EXPECT_GT(global_sum(moved, g.comm()), 1.0);
  }
}

TEST(Langevin, ReportsFullAcceptance) {
  Geometry g({4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::mass, 0, 0, kM2, 0});
  Langevin sampler(model, g, {LangevinScheme::euler, 0.1}, 1);
  Field phi = make_field(g);
  const UpdateResult r = sampler.update(phi, 0);
  EXPECT_EQ(r.acceptance, 1.0);
  EXPECT_TRUE(std::isnan(r.delta_h));
}

}  // namespace
}  // namespace latdiff
