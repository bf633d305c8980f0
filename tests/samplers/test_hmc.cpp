// HMC checks of DESIGN.md §7 rung 4: reversibility, <exp(-dH)> = 1, dH step-size scaling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "chain.hpp"
#include "models/phi4.hpp"
#include "random/counter_rng.hpp"
#include "samplers/hmc.hpp"

namespace latdiff {
namespace {

const ActionConfig kInteracting{ActionForm::hopping, 0.18, 0.9, 0, 0};

void fill(const Geometry& g, Field& f, std::uint64_t seed) {
  CounterRng rng(seed, Stream::hot_start);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    f[p] = rng.normal4(static_cast<std::uint64_t>(gi), 0)[0];
  });
}

// Fourier acceleration with a kernel mass unrelated to the action's.
constexpr double kFaMass2 = 0.7;

TEST(Hmc, IntegratorIsReversible) {
  Geometry g({6, 4, 4}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, kInteracting);
  for (auto [integrator, fa] : {std::pair{Integrator::leapfrog, false},
                                {Integrator::omelyan, false},
                                {Integrator::leapfrog, true},
                                {Integrator::omelyan, true}}) {
    Hmc hmc(model, g, {integrator, 1.0, 7, fa, kFaMass2}, 1);
    Field phi = make_field(g), pi = make_field(g);
    fill(g, phi, 1);
    fill(g, pi, 2);
    HaloExchange(g).exchange(phi);
    const Field phi0 = phi, pi0 = pi;
    hmc.integrate(phi, pi);
    double moved = 0;
    for_each_site(g, [&](std::size_t p, std::int64_t) { moved += std::abs(phi[p] - phi0[p]); });
    EXPECT_GT(global_sum(moved, g.comm()), 1.0);
    for (double& v : pi) v = -v;
    hmc.integrate(phi, pi);
    double err = 0;
    for_each_site(g, [&](std::size_t p, std::int64_t) {
      err = std::max({err, std::abs(phi[p] - phi0[p]), std::abs(pi[p] + pi0[p])});
    });
    MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPI_DOUBLE, MPI_MAX, g.comm());
    EXPECT_LT(err, 1e-10);
    std::printf("  reversibility%s: max deviation %.3g after forward, flip, forward\n",
                fa ? " (Fourier accelerated)" : "", err);
  }
}

TEST(Hmc, MomentaAreRandom123BoxMullerUpToRounding) {
  // Row starts at every offset within a Philox block of four sites.
  Geometry g({6, 7}, {}, MPI_COMM_WORLD);
  const CounterRng rng(9, Stream::hmc_momentum);
  Field pi = make_field(g, -7.0);
  fill_normals(g, rng, 3, pi, 1);
  double max_error = 0;
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const auto site = static_cast<std::uint64_t>(gi);
    const double expected = rng.normal4(site / 4, 3, 1)[site % 4];
    max_error = std::max(max_error, std::abs(pi[p] - expected) / std::max(1.0, std::abs(expected)));
  });
  EXPECT_LT(max_error, 1e-14);
  // Halos untouched.
  EXPECT_EQ(pi[0], -7.0);
}

// Phi4Model through the plain LatticeModel interface only, which takes HMC's generic path.
struct PlainModel {
  const Phi4Model& model;
  ExactSum action(const Field& phi) const { return model.action(phi); }
  void force(const Field& phi, Field& out) const { model.force(phi, out); }
};
static_assert(SiteHamiltonianModel<Phi4Model> && SegmentForceModel<Phi4Model>);
static_assert(!SiteHamiltonianModel<PlainModel> && !SegmentForceModel<PlainModel>);

bool same_bits(const Field& a, const Field& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(Hmc, ModelCapabilitiesAgreeWithTheGenericPath) {
  // On several ranks the capability path overlaps the halo exchange with the inner kick.
  for (const std::vector<int>& dims : {std::vector<int>{6, 8, 4}, std::vector<int>{16, 10}}) {
    Geometry g(dims, {}, MPI_COMM_WORLD);
    Phi4Model model(g, kInteracting);
    const PlainModel plain{model};
    Hmc fast(model, g, {Integrator::omelyan, 1.0, 7}, 1);
    Hmc generic(plain, g, {Integrator::omelyan, 1.0, 7}, 1);
    Field phi = make_field(g), pi = make_field(g);
    fill(g, phi, 1);
    fill(g, pi, 2);
    HaloExchange(g).exchange(phi);
    Field phi_generic = phi, pi_generic = pi;
    fast.integrate(phi, pi);
    generic.integrate(phi_generic, pi_generic);
    // Bitwise the same molecular dynamics, halos included.
    EXPECT_TRUE(same_bits(phi, phi_generic));
    EXPECT_TRUE(same_bits(pi, pi_generic));
    // The fused Hamiltonian rounds once per site instead of twice.
    ExactSum h_fast = fast.hamiltonian(phi, pi), h_generic = generic.hamiltonian(phi, pi);
    h_fast.allreduce(g.comm());
    h_generic.allreduce(g.comm());
    EXPECT_NEAR(h_fast.value(), h_generic.value(), 1e-13 * std::abs(h_generic.value()));
    // Whole trajectories: the same momenta, and the same decisions away from a dH tie.
    for (std::uint64_t i = 0; i < 5; ++i) {
      const UpdateResult a = fast.update(phi, i), b = generic.update(phi_generic, i);
      EXPECT_NEAR(a.delta_h, b.delta_h, 1e-9);
      EXPECT_EQ(a.acceptance, b.acceptance);
      EXPECT_TRUE(same_bits(phi, phi_generic)) << "trajectory " << i;
    }
  }
}

// dH series of an equilibrium HMC chain.
std::vector<double> delta_h_series(const Geometry& g, const HmcParams& params, int n) {
  Phi4Model model(g, kInteracting);
  Hmc hmc(model, g, params, 7);
  Field phi = make_field(g);
  std::vector<double> dh;
  testing::run_chain(hmc, phi, 200, n,
                     [&](const Field&, const UpdateResult& r) { dh.push_back(r.delta_h); });
  return dh;
}

TEST(Hmc, ExpMinusDeltaHAveragesToOne) {
  Geometry g({8, 8}, {}, MPI_COMM_WORLD);
  // Steps coarse enough that <dH> is clearly non-zero, fine enough that exp(-dH) is not
  // heavy-tailed, so the identity is tested to better than a percent.
  // Accelerated Omelyan with a lower kernel mass (faster IR modes): at M^2 = kFaMass2 its
  // <dH> is unresolved at 2 steps and exp(-dH) heavy-tailed at 1.
  for (const HmcParams& params :
       {HmcParams{Integrator::leapfrog, 1.0, 6}, HmcParams{Integrator::omelyan, 1.0, 3},
        HmcParams{Integrator::leapfrog, 1.0, 3, true, kFaMass2},
        HmcParams{Integrator::omelyan, 1.0, 2, true, 0.3}}) {
    const bool fa = params.fourier_acceleration;
    std::vector<double> dh = delta_h_series(g, params, 8000);
    std::vector<double> w(dh.size());
    for (std::size_t i = 0; i < dh.size(); ++i) w[i] = std::exp(-dh[i]);
    const auto r = stats::gamma_method(w);
    std::printf("  <exp(-dH)> = %.5f +- %.5f, <dH> = %.4g%s\n", r.value, r.error,
                stats::gamma_method(dh).value, fa ? " (Fourier accelerated)" : "");
    EXPECT_LT(std::abs(r.value - 1), 4 * r.error) << r.value << " +- " << r.error;
    EXPECT_LT(r.error, 0.01) << "too noisy to test the identity";
    const auto mean_dh = stats::gamma_method(dh);
    EXPECT_GT(mean_dh.value, 10 * mean_dh.error);
  }
}

TEST(Hmc, LeapfrogEnergyViolationScalesAsStepSquared) {
  // Second-order integrator: dH = O(eps^2) per trajectory, so sqrt<dH^2> drops by 4 when the
  // step halves and <dH> = <dH^2>/2 + ... by 16.
  Geometry g({8, 8}, {}, MPI_COMM_WORLD);
  auto rms = [&](int steps) {
    std::vector<double> dh = delta_h_series(g, {Integrator::leapfrog, 1.0, steps}, 1500);
    double s = 0;
    for (double x : dh) s += x * x;
    return std::sqrt(s / static_cast<double>(dh.size()));
  };
  const double coarse = rms(8), fine = rms(16);
  std::printf("  rms dH: %.4g (eps = 1/8), %.4g (eps = 1/16), ratio %.3f\n", coarse, fine,
              coarse / fine);
  EXPECT_NEAR(coarse / fine, 4.0, 0.4) << coarse << " " << fine;
}

}  // namespace
}  // namespace latdiff
