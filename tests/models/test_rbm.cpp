// RBM energies, free energies and the exact partition function (models/rbm.hpp,
// models/rbm_partition.hpp) against brute-force sums over every (v, h) of small models, for
// binary and spin layers and Gaussian visible units (by quadrature); the seed-000 example;
// and bitwise identity of every result with the visible layer split over any number of ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "models/rbm.hpp"
#include "models/rbm_partition.hpp"
#include "random/counter_rng.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/random_rbm.hpp"

namespace latdiff {
namespace {

using testing::local_part;

// The local part of a global visible configuration.

std::vector<double> state_of(std::int64_t bits, int n, RbmUnits units) {
  std::vector<double> s(n);
  for (int k = 0; k < n; ++k) s[k] = (bits >> k) & 1 ? 1.0 : Rbm::off_value(units);
  return s;
}

double log_sum_exp(const std::vector<double>& x) {
  double top = x[0];
  for (double y : x) top = std::max(top, y);
  double s = 0;
  for (double y : x) s += std::exp(y - top);
  return top + std::log(s);
}

struct Kinds {
  RbmUnits visible, hidden;
  int nv, nh;
};

class DiscreteRbm : public ::testing::TestWithParam<Kinds> {};

TEST_P(DiscreteRbm, PartitionFunctionAndFreeEnergyAgainstBruteForce) {
  const Kinds k = GetParam();
  const RbmParameters p = testing::random_rbm(k.visible, k.hidden, k.nv, k.nh, 7);
  const Rbm rbm(p, VisibleLayout::blocks(k.nv, MPI_COMM_WORLD));
  std::vector<double> all_terms;
  for (std::int64_t vb = 0; vb < (1 << k.nv); ++vb) {
    const std::vector<double> v = state_of(vb, k.nv, k.visible);
    const std::vector<double> lv = local_part(rbm, v);
    std::vector<double> terms;
    for (std::int64_t hb = 0; hb < (1 << k.nh); ++hb) {
      const std::vector<double> h = state_of(hb, k.nh, k.hidden);
      // E from its definition on the global configuration.
      double e = 0;
      for (int i = 0; i < k.nv; ++i) e -= p.visible_bias[i] * v[i];
      for (int j = 0; j < k.nh; ++j) e -= p.hidden_bias[j] * h[j];
      for (int i = 0; i < k.nv; ++i)
        for (int j = 0; j < k.nh; ++j) e -= v[i] * p.weights[i * k.nh + j] * h[j];
      EXPECT_NEAR(rbm.energy(lv, h), e, 1e-12);
      terms.push_back(-e);
      all_terms.push_back(-e);
    }
    // F(v) = -log sum_h exp(-E(v, h)).
    EXPECT_NEAR(rbm.free_energy(lv), -log_sum_exp(terms), 1e-12) << "v bits " << vb;
  }
  EXPECT_NEAR(exact_log_partition(rbm), log_sum_exp(all_terms), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, DiscreteRbm,
    ::testing::Values(Kinds{RbmUnits::binary, RbmUnits::binary, 5, 3},  // enumerates h
                      Kinds{RbmUnits::binary, RbmUnits::binary, 3, 5},  // enumerates v
                      Kinds{RbmUnits::spin, RbmUnits::spin, 4, 4},      // tie: h
                      Kinds{RbmUnits::spin, RbmUnits::binary, 3, 6},    // enumerates v
                      Kinds{RbmUnits::binary, RbmUnits::spin, 6, 2}));

TEST(GaussianRbm, PartitionFunctionAgainstQuadrature) {
  // Two Gaussian visible units: Z = sum_h int dv exp(-E(v, h)) on a fine grid (the integrand
  // is a Gaussian in v, so the trapezoid rule on +-12 s is exact to rounding).
  const RbmParameters p = testing::random_rbm(RbmUnits::gaussian, RbmUnits::binary, 2, 3, 11);
  const Rbm rbm(p, VisibleLayout::blocks(2, MPI_COMM_WORLD));
  const int n = 200;
  std::vector<double> terms;
  double z = 0;
  const double lo0 = -14, lo1 = -14, step = 28.0 / n;
  for (int a = 0; a <= n; ++a)
    for (int b = 0; b <= n; ++b) {
      const std::vector<double> v{lo0 + a * step, lo1 + b * step};
      // exp(-F(v)) summed with trapezoid weights.
      const double wgt = (a == 0 || a == n ? 0.5 : 1.0) * (b == 0 || b == n ? 0.5 : 1.0);
      z += wgt * std::exp(-rbm.free_energy(local_part(rbm, v)));
    }
  EXPECT_NEAR(exact_log_partition(rbm), std::log(z * step * step), 1e-9);
}

TEST(GaussianRbm, FreeEnergyAndConditionalsFromTheirDefinitions) {
  const RbmParameters p = testing::random_rbm(RbmUnits::gaussian, RbmUnits::spin, 3, 2, 13);
  const Rbm rbm(p, VisibleLayout::blocks(3, MPI_COMM_WORLD));
  const std::vector<double> v{0.3, -1.2, 2.0};
  std::vector<double> terms;
  for (int hb = 0; hb < 4; ++hb) {
    const std::vector<double> h = state_of(hb, 2, RbmUnits::spin);
    double e = -(p.hidden_bias[0] * h[0] + p.hidden_bias[1] * h[1]);
    for (int i = 0; i < 3; ++i) {
      const double s2 = p.visible_sigma[i] * p.visible_sigma[i];
      e += (v[i] - p.visible_bias[i]) * (v[i] - p.visible_bias[i]) / (2 * s2);
      for (int j = 0; j < 2; ++j) e -= v[i] / s2 * p.weights[i * 2 + j] * h[j];
    }
    EXPECT_NEAR(rbm.energy(local_part(rbm, v), h), e, 1e-12);
    terms.push_back(-e);
    // p(v | h) = N(mu + W h, s^2): the mean is visible_input.
    const std::vector<double> mean = rbm.visible_input(h);
    for (std::size_t li = 0; li < rbm.local_visible(); ++li) {
      const std::int64_t i = rbm.layout().global_index[li];
      EXPECT_NEAR(mean[li],
                  p.visible_bias[i] + p.weights[i * 2] * h[0] + p.weights[i * 2 + 1] * h[1], 1e-14);
    }
  }
  EXPECT_NEAR(rbm.free_energy(local_part(rbm, v)), -log_sum_exp(terms), 1e-12);
}

TEST(Rbm, SeedExample) {
  // DESIGN.md / issue 9: W = [[2, -3, 0], [-1, 2, 0]], a = [1, 1], b = [0, -1, 2].
  RbmParameters p;
  p.n_visible = 2;
  p.n_hidden = 3;
  p.weights = {2, -3, 0, -1, 2, 0};
  p.visible_bias = {1, 1};
  p.hidden_bias = {0, -1, 2};
  const Rbm rbm(p, VisibleLayout::blocks(2, MPI_COMM_WORLD));
  std::vector<double> terms;
  for (int vb = 0; vb < 4; ++vb)
    for (int hb = 0; hb < 8; ++hb)
      terms.push_back(-rbm.energy(local_part(rbm, state_of(vb, 2, RbmUnits::binary)),
                                  state_of(hb, 3, RbmUnits::binary)));
  EXPECT_NEAR(exact_log_partition(rbm), log_sum_exp(terms), 1e-13);
}

TEST(Rbm, BitwiseTheSameOnEveryNumberOfRanks) {
  // The visible layer split over the world's ranks against the whole layer on each rank.
  for (RbmUnits visible : {RbmUnits::binary, RbmUnits::gaussian}) {
    const RbmParameters p = testing::random_rbm(visible, RbmUnits::binary, 37, 14, 17, 0.7);
    const Rbm split(p, VisibleLayout::blocks(37, MPI_COMM_WORLD));
    const Rbm whole(p, VisibleLayout::blocks(37, MPI_COMM_SELF));
    std::vector<double> v(37);
    CounterRng rng(5, Stream::hot_start);
    for (int i = 0; i < 37; ++i)
      v[i] = visible == RbmUnits::binary ? std::floor(2 * rng.uniform(i, 9)) : rng.uniform(i, 9);
    EXPECT_EQ(split.free_energy(local_part(split, v)), whole.free_energy(v));
    EXPECT_EQ(split.hidden_input(local_part(split, v)), whole.hidden_input(v));
    EXPECT_EQ(exact_log_partition(split), exact_log_partition(whole));
  }
}

TEST(Rbm, RefusesInconsistentModels) {
  RbmParameters p = testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 3, 2, 1);
  p.weights.pop_back();
  EXPECT_THROW(p.check(), std::invalid_argument);
  p = testing::random_rbm(RbmUnits::binary, RbmUnits::gaussian, 3, 2, 1);
  EXPECT_THROW(p.check(), std::invalid_argument);
  p = testing::random_rbm(RbmUnits::gaussian, RbmUnits::binary, 3, 2, 1);
  p.visible_sigma[1] = 0;
  EXPECT_THROW(p.check(), std::invalid_argument);
  p = testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 3, 2, 1);
  EXPECT_THROW(Rbm(p, VisibleLayout::blocks(4, MPI_COMM_WORLD)), std::invalid_argument);
  p = testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 40, 40, 1);
  EXPECT_THROW(exact_log_partition(Rbm(p, VisibleLayout::blocks(40, MPI_COMM_WORLD))),
               std::invalid_argument);
}

}  // namespace
}  // namespace latdiff
