// Observables of exact, independent free-field samples (mass form, g = 0) against their exact
// values: G(p), C(t), xi_2, and the block-spin observables at every level.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>

#include "fft/distributed_fft.hpp"
#include "lattice/halo_exchange.hpp"
#include "observables/block_spin.hpp"
#include "observables/correlators.hpp"
#include "random/counter_rng.hpp"
#include "samplers/chain.hpp"
#include "samplers/gaussian_noise.hpp"

namespace latdiff {
namespace {

using testing::expect_agrees;

constexpr double kM2 = 0.25;  // xi = 1/m = 2
const std::vector<int> kDims = {16, 16};
constexpr int kSamples = 20000;

// Exact free-field G at momentum index n of the lattice `dims`: 1 / (phat^2 + m^2).
double free_g(const std::vector<int>& n, const std::vector<int>& dims) {
  double phat2 = 0;
  for (std::size_t mu = 0; mu < dims.size(); ++mu)
    phat2 += std::pow(2 * std::sin(std::numbers::pi * n[mu] / dims[mu]), 2);
  return 1 / (phat2 + kM2);
}

std::vector<int> level_dims(int level) {
  std::vector<int> out;
  for (int l : kDims) out.push_back(l >> level);
  return out;
}

// Exact G of the free field blocked `level` times, at momentum index N of the level's lattice.
// One b = 2 step (block_spin.hpp; the aliasing is checked exactly in test_block_spin):
//   phi~_B(P) = 2^{-d} sum_c B(p_c) phi~(p_c),  B(p) = prod_mu (1 + e^{i p_mu}) / 2,
// over the 2^d fine momenta p_c = P/2 + pi c aliasing to P. Different p_c are uncorrelated, so
//   G_B(P) = <|phi~_B(P)|^2> / V_B = 2^{-d} sum_c prod_mu cos^2(p_c,mu / 2) G(p_c).
// (Unrolled: G_k(P) = 2^{-kd} sum_{p: 2^k p = P} prod_mu [sin(2^{k-1} p_mu) / (2^k sin(p_mu/2))]^2
// G(p).)
double blocked_g(int level, const std::vector<int>& N) {
  if (level == 0) return free_g(N, kDims);
  const std::vector<int> fine = level_dims(level - 1);
  const int d = static_cast<int>(fine.size());
  double sum = 0;
  for (int c = 0; c < (1 << d); ++c) {
    std::vector<int> n = N;
    double kernel = 1;
    for (int mu = 0; mu < d; ++mu) {
      n[mu] += ((c >> mu) & 1) * fine[mu] / 2;
      kernel *= std::pow(std::cos(std::numbers::pi * n[mu] / fine[mu]), 2);
    }
    sum += kernel * blocked_g(level - 1, n);
  }
  return sum / (1 << d);
}

// Exact values of a level's observables from G_k: <phi^2> = (1/V_k) sum_P G_k(P),
// <nn> = (1/(d V_k)) sum_P G_k(P) sum_mu cos P_mu, G(0) and G(p_min e_mu).
struct ExactLevel {
  double phi2 = 0, nn = 0, g0 = 0;
  std::vector<double> gmin;
};

ExactLevel exact_level(int level) {
  const std::vector<int> dims = level_dims(level);
  const int d = static_cast<int>(dims.size());
  long v = 1;
  for (int l : dims) v *= l;
  ExactLevel e;
  for (long i = 0; i < v; ++i) {
    std::vector<int> N(d);
    long rest = i;
    double cos_sum = 0;
    for (int mu = d - 1; mu >= 0; --mu) {
      N[mu] = static_cast<int>(rest % dims[mu]);
      rest /= dims[mu];
      cos_sum += std::cos(2 * std::numbers::pi * N[mu] / dims[mu]);
    }
    const double G = blocked_g(level, N);
    e.phi2 += G / v;
    e.nn += G * cos_sum / (d * v);
  }
  e.g0 = blocked_g(level, std::vector<int>(d, 0));
  for (int mu = 0; mu < d; ++mu) {
    std::vector<int> N(d, 0);
    N[mu] = 1;
    e.gmin.push_back(blocked_g(level, N));
  }
  return e;
}

// Exact C(t) = (1/L_0) sum_{p_0} cos(p_0 t) G(p_0, 0).
double exact_timeslice(int t) {
  const int L = kDims[0];
  double sum = 0;
  for (int n = 0; n < L; ++n)
    sum += std::cos(2 * std::numbers::pi * n * t / L) * free_g({n, 0}, kDims);
  return sum / L;
}

// Exact independent samples: phi = F^{-1}[sqrt(G) F[eta]] with fresh white noise eta, so
// phi~(p) = sqrt(G(p)) eta~(p) is Gaussian with <|phi~(p)|^2> / V = G(p), real because
// G(-p) = G(p), and there is no autocorrelation between samples.
class FreeFieldSampler {
 public:
  explicit FreeFieldSampler(const Geometry& g)
      : g_(g), fft_(g), halo_(g), rng_(20240611, Stream::hot_start), eta_(make_field(g)) {
    for (double p2 : lattice_momentum_squared(g)) sqrt_g_.push_back(1 / std::sqrt(p2 + kM2));
  }
  // Collective. Sample i into phi, halos exchanged.
  void draw(std::uint64_t i, Field& phi) {
    fill_normals(g_, rng_, i, eta_);
    fft_.forward(eta_, spectrum_);
    for (std::size_t k = 0; k < spectrum_.size(); ++k) spectrum_[k] *= sqrt_g_[k];
    fft_.inverse(spectrum_, phi);
    halo_.exchange(phi);
  }

 private:
  const Geometry& g_;
  DistributedFft fft_;
  HaloExchange halo_;
  CounterRng rng_;
  Field eta_;
  ComplexField spectrum_;
  std::vector<double> sqrt_g_;
};

TEST(FreeFieldObservables, ExactTimesliceHasTheClosedForm) {
  // Lattice propagator: C(t) = cosh(E (L/2 - t)) / (2 sinh E sinh(E L/2)), 2 sinh(E/2) = m.
  const double E = 2 * std::asinh(std::sqrt(kM2) / 2), L = kDims[0];
  for (int t = 0; t < kDims[0]; ++t)
    EXPECT_NEAR(exact_timeslice(t),
                std::cosh(E * (L / 2 - t)) / (2 * std::sinh(E) * std::sinh(E * L / 2)), 1e-13);
}

TEST(FreeFieldObservables, TwoPointTimesliceAndXi2) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  FreeFieldSampler sampler(g);
  Correlators corr(g);
  const std::vector<std::vector<int>> momenta = {{0, 0}, {1, 0},  {0, 1}, {1, 1},
                                                 {2, 3}, {15, 4}, {8, 8}};
  std::vector<std::vector<double>> G(momenta.size()), C(kDims[0]);
  std::vector<double> g0, gpmin;
  Field phi = make_field(g);
  for (int i = 0; i < kSamples; ++i) {
    sampler.draw(static_cast<std::uint64_t>(i), phi);
    const std::vector<double> all = corr.two_point(phi);
    for (std::size_t k = 0; k < momenta.size(); ++k)
      G[k].push_back(all[g.global_index(momenta[k])]);
    const std::vector<double> c = timeslice_correlator(g, phi);
    for (int t = 0; t < kDims[0]; ++t) C[t].push_back(c[t]);
    const LowestMomenta low = lowest_momenta(g, phi);
    g0.push_back(low.g0);
    gpmin.push_back((low.gmin[0] + low.gmin[1]) / 2);  // second_moment_xi's estimator
  }
  char what[64];
  for (std::size_t k = 0; k < momenta.size(); ++k) {
    std::snprintf(what, sizeof what, "G(%d,%d)", momenta[k][0], momenta[k][1]);
    expect_agrees(stats::gamma_method(G[k]), free_g(momenta[k], kDims), what);
  }
  // The tails of C(t) are small against its fluctuations (of order C(0) / sqrt(L_0)).
  for (int t = 0; t < kDims[0]; ++t) {
    std::snprintf(what, sizeof what, "C(%d)", t);
    expect_agrees(stats::gamma_method(C[t]), exact_timeslice(t), what, 4.0, 0.15);
  }
  // Free field: G(0)/G(p_min) - 1 = phat_min^2 / m^2 with phat_min = 2 sin(pi/L), so xi_2 = 1/m.
  const auto xi = stats::gamma_method_derived({g0, gpmin}, [](std::span<const double> a) {
    return second_moment_xi(a[0], a[1], kDims[0]);
  });
  expect_agrees(xi, 1 / std::sqrt(kM2), "xi_2");
}

TEST(FreeFieldObservables, BlockedLevelsMatchTheExactBlockedCorrelator) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  FreeFieldSampler sampler(g);
  BlockSpin blocks(g);
  ASSERT_EQ(blocks.levels(), 4);  // 16^2, 8^2, 4^2, 2^2
  std::vector<std::vector<std::vector<double>>> series(blocks.levels(),
                                                       std::vector<std::vector<double>>(5));
  Field phi = make_field(g);
  for (int i = 0; i < kSamples; ++i) {
    sampler.draw(static_cast<std::uint64_t>(1000000 + i), phi);
    const std::vector<LevelMeasurement> levels = blocks.measure(phi);
    for (int k = 0; k < blocks.levels(); ++k) {
      const LevelMeasurement& m = levels[k];
      for (const auto& [j, x] :
           {std::pair{0, m.phi2}, {1, m.nn}, {2, m.low.g0}, {3, m.low.gmin[0]}, {4, m.low.gmin[1]}})
        series[k][j].push_back(x);
    }
  }
  for (int k = 0; k < blocks.levels(); ++k) {
    const ExactLevel e = exact_level(k);
    std::printf(" level %d (%dx%d):\n", k, kDims[0] >> k, kDims[1] >> k);
    expect_agrees(stats::gamma_method(series[k][0]), e.phi2, "<phi^2>");
    expect_agrees(stats::gamma_method(series[k][1]), e.nn, "<nn>");
    expect_agrees(stats::gamma_method(series[k][2]), e.g0, "G(0)");
    expect_agrees(stats::gamma_method(series[k][3]), e.gmin[0], "G(p_min e_0)");
    expect_agrees(stats::gamma_method(series[k][4]), e.gmin[1], "G(p_min e_1)");
  }
  // Level 0 of the exact formula is the plain free field.
  EXPECT_NEAR(exact_level(0).phi2, testing::free_field_phi2(kDims, kM2), 1e-14);
}

}  // namespace
}  // namespace latdiff
