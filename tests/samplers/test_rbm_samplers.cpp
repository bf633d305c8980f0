// Block Gibbs and single-flip Metropolis of RBMs (samplers/rbm_samplers.hpp) reproduce the
// exact p(v) of small models (every visible state's frequency against exp(-F(v) - log Z)
// with Gamma-method errors, and their chi^2), Gibbs the exact moments of Gaussian visible
// units (summed over h), and every chain is bitwise the same on 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/rbm.hpp"
#include "models/rbm_partition.hpp"
#include "random/counter_rng.hpp"
#include "samplers/rbm_samplers.hpp"
#include "stats/autocorrelation.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/random_rbm.hpp"

namespace latdiff {
namespace {

using testing::local_part;

// Collective: the visible layer in global order on every rank.
std::vector<double> gather(const Rbm& rbm, const std::vector<double>& v) {
  std::vector<double> all(static_cast<std::size_t>(rbm.parameters().n_visible), 0.0);
  for (std::size_t i = 0; i < v.size(); ++i) all[rbm.layout().global_index[i]] = v[i];
  MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM,
                rbm.layout().comm);
  return all;
}

int state_index(const std::vector<double>& v, RbmUnits units) {
  int k = 0;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == Rbm::on_value(units)) k |= 1 << i;
  return k;
}

RbmState start(const Rbm& rbm) {
  const RbmUnits u = rbm.parameters().visible_units;
  RbmState s;
  s.v.assign(rbm.local_visible(), u == RbmUnits::gaussian ? 0.0 : Rbm::off_value(u));
  s.h.assign(static_cast<std::size_t>(rbm.parameters().n_hidden), 0.0);
  return s;
}

// Runs `sweeps` updates and checks every visible state's frequency against exact p(v).
template <class Sampler>
void expect_exact_distribution(const Rbm& rbm, const Sampler& sampler, int sweeps) {
  const RbmParameters& p = rbm.parameters();
  const int states = 1 << p.n_visible;
  std::vector<std::vector<double>> indicator(states, std::vector<double>(sweeps, 0.0));
  RbmState s = start(rbm);
  for (int t = 0; t < 200; ++t) sampler.update(s, static_cast<std::uint64_t>(t));
  for (int t = 0; t < sweeps; ++t) {
    sampler.update(s, static_cast<std::uint64_t>(200 + t));
    indicator[state_index(gather(rbm, s.v), p.visible_units)][t] = 1.0;
  }
  const double log_z = exact_log_partition(rbm);
  double chi2 = 0;
  for (int k = 0; k < states; ++k) {
    std::vector<double> v(static_cast<std::size_t>(p.n_visible));
    for (int i = 0; i < p.n_visible; ++i)
      v[i] = (k >> i) & 1 ? Rbm::on_value(p.visible_units) : Rbm::off_value(p.visible_units);
    const double exact = std::exp(-rbm.free_energy(local_part(rbm, v)) - log_z);
    const stats::GammaResult r = stats::gamma_method(indicator[k]);
    ASSERT_GT(r.error, 0) << "state " << k << " never or always visited";
    EXPECT_LT(std::abs(r.value - exact), 4.5 * r.error)
        << "state " << k << ": " << r.value << " +- " << r.error << ", exact " << exact;
    chi2 += (r.value - exact) * (r.value - exact) / (r.error * r.error);
  }
  // 2^n_v - 1 independent deviations: chi^2 far beyond its 99.9 % point means a wrong
  // distribution even when no single state is 4.5 sigma off.
  EXPECT_LT(chi2, 2.0 * states + 10) << "chi^2 " << chi2 << " over " << states << " states";
}

TEST(RbmGibbs, ReproducesExactVisibleDistribution) {
  for (RbmUnits units : {RbmUnits::binary, RbmUnits::spin}) {
    const Rbm rbm(testing::random_rbm(units, units, 4, 3, 21, 1.2),
                  VisibleLayout::blocks(4, MPI_COMM_WORLD));
    expect_exact_distribution(rbm, RbmGibbs(rbm, 3), 40000);
  }
}

TEST(RbmFlipMh, ReproducesExactVisibleDistribution) {
  for (RbmUnits units : {RbmUnits::binary, RbmUnits::spin}) {
    const Rbm rbm(testing::random_rbm(units, RbmUnits::binary, 4, 5, 23, 1.2),
                  VisibleLayout::blocks(4, MPI_COMM_WORLD));
    expect_exact_distribution(rbm, RbmFlipMh(rbm, 4), 40000);
  }
}

TEST(RbmGibbs, GaussianVisibleMomentsAreExact) {
  // p(h) ~ exp(b.h + sum_i [mu_i w_i + w_i^2 / 2] / s_i^2), w = W h; then v | h is
  // N(mu + W h, s^2): <v_i> = sum_h p(h) (mu + W h)_i, <v_i^2> = sum_h p(h) [(mu + W h)_i^2 +
  // s_i^2].
  const RbmParameters p =
      testing::random_rbm(RbmUnits::gaussian, RbmUnits::binary, 3, 3, 25, 1.0, 0.6, 0.5);
  const Rbm rbm(p, VisibleLayout::blocks(3, MPI_COMM_WORLD));
  std::vector<double> weight(8), m1(3, 0.0), m2(3, 0.0);
  double total = 0;
  for (int hb = 0; hb < 8; ++hb) {
    double t = 0;
    for (int j = 0; j < 3; ++j) t += p.hidden_bias[j] * ((hb >> j) & 1);
    for (int i = 0; i < 3; ++i) {
      double w = 0;
      for (int j = 0; j < 3; ++j) w += p.weights[i * 3 + j] * ((hb >> j) & 1);
      const double s2 = p.visible_sigma[i] * p.visible_sigma[i];
      t += (p.visible_bias[i] * w + 0.5 * w * w) / s2;
    }
    weight[hb] = std::exp(t);
    total += weight[hb];
  }
  for (int hb = 0; hb < 8; ++hb)
    for (int i = 0; i < 3; ++i) {
      double mean = p.visible_bias[i];
      for (int j = 0; j < 3; ++j) mean += p.weights[i * 3 + j] * ((hb >> j) & 1);
      m1[i] += weight[hb] / total * mean;
      m2[i] += weight[hb] / total * (mean * mean + p.visible_sigma[i] * p.visible_sigma[i]);
    }
  const RbmGibbs gibbs(rbm, 8);
  RbmState s = start(rbm);
  const int sweeps = 40000;
  std::vector<std::vector<double>> x(3, std::vector<double>(sweeps)), x2 = x;
  for (int t = 0; t < sweeps; ++t) {
    gibbs.update(s, static_cast<std::uint64_t>(t));
    const std::vector<double> v = gather(rbm, s.v);
    for (int i = 0; i < 3; ++i) {
      x[i][t] = v[i];
      x2[i][t] = v[i] * v[i];
    }
  }
  for (int i = 0; i < 3; ++i) {
    const auto a = stats::gamma_method(std::span<const double>(x[i]).subspan(100));
    const auto b = stats::gamma_method(std::span<const double>(x2[i]).subspan(100));
    EXPECT_LT(std::abs(a.value - m1[i]), 4.5 * a.error) << i << ": " << a.value << " vs " << m1[i];
    EXPECT_LT(std::abs(b.value - m2[i]), 4.5 * b.error) << i << ": " << b.value << " vs " << m2[i];
  }
}

TEST(RbmSamplers, ChainsAreBitwiseTheSameOnEveryNumberOfRanks) {
  for (RbmUnits units : {RbmUnits::binary, RbmUnits::gaussian}) {
    const RbmParameters p = testing::random_rbm(units, RbmUnits::binary, 29, 11, 27, 0.8, 0.6, 0.5);
    const Rbm split(p, VisibleLayout::blocks(29, MPI_COMM_WORLD));
    const Rbm whole(p, VisibleLayout::blocks(29, MPI_COMM_SELF));
    RbmState a = start(split), b = start(whole);
    const RbmGibbs ga(split, 5), gb(whole, 5);
    for (int t = 0; t < 30; ++t) {
      ga.update(a, t);
      gb.update(b, t);
    }
    if (units != RbmUnits::gaussian) {
      const RbmFlipMh ma(split, 6), mb(whole, 6);
      for (int t = 30; t < 60; ++t)
        EXPECT_EQ(ma.update(a, t).acceptance, mb.update(b, t).acceptance);
    }
    EXPECT_EQ(gather(split, a.v), b.v);
    EXPECT_EQ(a.h, b.h);
  }
}

}  // namespace
}  // namespace latdiff
