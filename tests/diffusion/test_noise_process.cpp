// Noise processes: the chain algebra against the closed forms of VE, VP and sub-VP, the
// reverse-kernel variances, the log densities against direct evaluation of the Gaussian
// formula, and the draws against their definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "diffusion/noise_process.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/white_field.hpp"

namespace latdiff {
namespace {

NoiseSchedule schedule(NoiseKind kind, int levels) {
  NoiseSchedule s;
  s.kind = kind;
  s.levels = levels;
  s.sigma_min = 0.02;
  s.sigma_max = 7;
  s.beta_min = 0.1;
  s.beta_max = 12;
  return s;
}

TEST(NoiseProcess, VeMarginalIsTheGeometricSigma) {
  const NoiseProcess q(schedule(NoiseKind::ve, 20));
  for (int i = 1; i <= 20; ++i) {
    const double sigma = 0.02 * std::pow(7 / 0.02, (i - 1) / 19.0);
    EXPECT_NEAR(q.sbar2(i), sigma * sigma, 1e-12 * sigma * sigma) << i;
    EXPECT_EQ(q.abar(i), 1.0);
    EXPECT_GT(q.v(i), 0);
  }
  EXPECT_NEAR(std::sqrt(q.sbar2(1)), 0.02, 1e-15);
  EXPECT_NEAR(std::sqrt(q.sbar2(20)), 7, 1e-12);
}

TEST(NoiseProcess, VpPreservesUnitVariance) {
  const NoiseProcess q(schedule(NoiseKind::vp, 30));
  for (int i = 1; i <= 30; ++i) {
    EXPECT_NEAR(q.abar(i) * q.abar(i) + q.sbar2(i), 1.0, 1e-13) << i;
    EXPECT_NEAR(q.v(i), (0.1 + (12 - 0.1) * (i - 1) / 29.0) / 30, 1e-15) << i;
  }
  // The continuum alpha_1 = exp(-1/2 int_0^1 beta) = exp(-(0.1 + 12) / 4) within O(1/N).
  EXPECT_NEAR(q.abar(30), std::exp(-(0.1 + 12) / 4), 0.02);
}

TEST(NoiseProcess, SubVpMarginalVarianceIsOneMinusAlphaSquaredSquared) {
  const NoiseProcess q(schedule(NoiseKind::sub_vp, 30));
  const NoiseProcess vp(schedule(NoiseKind::vp, 30));
  for (int i = 1; i <= 30; ++i) {
    const double one_minus = 1 - q.abar(i) * q.abar(i);
    EXPECT_NEAR(q.sbar2(i), one_minus * one_minus, 1e-13) << i;
    EXPECT_EQ(q.abar(i), vp.abar(i));
    EXPECT_GT(q.v(i), 0);
    EXPECT_LT(q.sbar2(i), vp.sbar2(i));  // sub-VP: less noise than VP at every level
  }
}

TEST(NoiseProcess, ReverseVariances) {
  const NoiseProcess ve(schedule(NoiseKind::ve, 16));
  EXPECT_EQ(ve.reverse_kernel(), ReverseKernel::posterior);
  EXPECT_EQ(ve.reverse_variance(1), ve.v(1));
  for (int i = 2; i <= 16; ++i)
    EXPECT_NEAR(ve.reverse_variance(i), ve.sbar2(i - 1) * ve.v(i) / ve.sbar2(i),
                1e-15 * ve.sbar2(i));
  const NoiseProcess vp(schedule(NoiseKind::vp, 16));
  EXPECT_EQ(vp.reverse_kernel(), ReverseKernel::ancestral);
  for (int i = 1; i <= 16; ++i) EXPECT_EQ(vp.reverse_variance(i), vp.v(i));
  const NoiseProcess vp_post(schedule(NoiseKind::vp, 16), ReverseKernel::posterior);
  for (int i = 2; i <= 16; ++i) EXPECT_LT(vp_post.reverse_variance(i), vp.reverse_variance(i));
}

TEST(NoiseProcess, RefusesBadSchedules) {
  auto bad = [](NoiseSchedule s) { EXPECT_THROW(NoiseProcess{s}, std::invalid_argument); };
  NoiseSchedule s = schedule(NoiseKind::ve, 0);
  bad(s);
  s = schedule(NoiseKind::ve, 5);
  s.sigma_min = 0;
  bad(s);
  s.sigma_min = 8;  // above sigma_max
  bad(s);
  s = schedule(NoiseKind::vp, 5);
  s.beta_max = 5;  // beta_5 = 1: no noise-free part left
  bad(s);
  s.beta_max = 0.05;  // below beta_min
  bad(s);
}

// Collective. Random interior values from a stream of the counter RNG.
Field random_field(const Geometry& g, std::uint64_t counter, double scale) {
  Field f = testing::white_field(g, 99, counter);
  for_each_site(g, [&](std::size_t p, std::int64_t) { f[p] *= scale; });
  return f;
}

double direct_log_normal(double y, double mean, double var) {
  return -(y - mean) * (y - mean) / (2 * var) - 0.5 * std::log(2 * std::numbers::pi * var);
}

TEST(NoiseProcess, LogDensitiesMatchTheGaussianFormula) {
  const Geometry g({6, 10}, {}, MPI_COMM_WORLD);
  for (NoiseKind kind : {NoiseKind::ve, NoiseKind::vp, NoiseKind::sub_vp}) {
    const NoiseProcess q(schedule(kind, 16));
    const Field x0 = random_field(g, 1, 1.0), x1 = random_field(g, 2, 1.3),
                score = random_field(g, 3, 0.7);
    for (int i : {1, 4, 8}) {
      double fwd = 0, marg = 0, rev = 0;
      for_each_site(g, [&](std::size_t p, std::int64_t) {
        fwd += direct_log_normal(x1[p], q.a(i) * x0[p], q.v(i));
        marg += direct_log_normal(x1[p], q.abar(i) * x0[p], q.sbar2(i));
        rev +=
            direct_log_normal(x0[p], (x1[p] + q.v(i) * score[p]) / q.a(i), q.reverse_variance(i));
      });
      fwd = global_sum(fwd, g.comm());
      marg = global_sum(marg, g.comm());
      rev = global_sum(rev, g.comm());
      ExactSum f = q.log_forward(g, i, x1, x0), m = q.log_marginal(g, i, x1, x0),
               r = q.log_reverse(g, i, x0, x1, score);
      f.allreduce(g.comm());
      m.allreduce(g.comm());
      r.allreduce(g.comm());
      EXPECT_NEAR(f.value(), fwd, 1e-9 * std::abs(fwd)) << i;
      EXPECT_NEAR(m.value(), marg, 1e-9 * std::abs(marg)) << i;
      EXPECT_NEAR(r.value(), rev, 1e-9 * std::abs(rev)) << i;
    }
  }
}

TEST(NoiseProcess, StepsDrawFromTheirKernels) {
  // With the draw's own noise, the step's log density is that of a standard normal: the
  // Gaussian exponent is -|eta|^2 / 2 exactly.
  const Geometry g({6, 10}, {}, MPI_COMM_WORLD);
  const NoiseProcess q(schedule(NoiseKind::vp, 16));
  const Field x = random_field(g, 4, 1.0), eta = random_field(g, 5, 1.0),
              score = random_field(g, 6, 0.5);
  Field y = make_field(g), back = make_field(g);
  q.forward_step(g, 3, x, eta, y);
  q.reverse_step(g, 3, y, score, eta, back);
  double eta2 = 0;
  for_each_site(g, [&](std::size_t p, std::int64_t) { eta2 += eta[p] * eta[p]; });
  eta2 = global_sum(eta2, g.comm());
  const double volume = static_cast<double>(g.global_volume());
  ExactSum f = q.log_forward(g, 3, y, x), r = q.log_reverse(g, 3, back, y, score);
  f.allreduce(g.comm());
  r.allreduce(g.comm());
  EXPECT_NEAR(f.value(), -eta2 / 2 - volume / 2 * std::log(2 * std::numbers::pi * q.v(3)), 1e-9);
  EXPECT_NEAR(r.value(),
              -eta2 / 2 - volume / 2 * std::log(2 * std::numbers::pi * q.reverse_variance(3)),
              1e-9);
}

}  // namespace
}  // namespace latdiff
