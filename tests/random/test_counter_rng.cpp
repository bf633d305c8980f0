#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "random/counter_rng.hpp"

namespace latdiff {
namespace {

TEST(CounterRng, SameCounterSameNumbers) {
  CounterRng a(42, Stream::hot_start), b(42, Stream::hot_start);
  EXPECT_EQ(a.uniform4(7, 3, 1), b.uniform4(7, 3, 1));
  EXPECT_EQ(a.normal4(7, 3), b.normal4(7, 3));
}

TEST(CounterRng, SeedPurposeAndCounterAllMatter) {
  const CounterRng base(42, Stream::hot_start);
  const double x = base.uniform(7, 3, 1);
  EXPECT_NE(CounterRng(43, Stream::hot_start).uniform(7, 3, 1), x);
  EXPECT_NE(CounterRng(42, Stream::hmc_momentum).uniform(7, 3, 1), x);
  EXPECT_NE(base.uniform(8, 3, 1), x);
  EXPECT_NE(base.uniform(7, 4, 1), x);
  EXPECT_NE(base.uniform(7, 3, 2), x);
}

TEST(CounterRng, UniformsInUnitIntervalWithRightMoments) {
  const CounterRng rng(1, Stream::hot_start);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i)
    for (double u : rng.uniform4(static_cast<std::uint64_t>(i), 0)) {
      ASSERT_GT(u, 0.0);
      ASSERT_LE(u, 1.0);
      sum += u;
      sum2 += u * u;
    }
  const double m = sum / (4.0 * n), var = sum2 / (4.0 * n) - m * m;
  // Standard errors: 1/sqrt(12 * 4n) for the mean, ~1/(sqrt(180 * 4n)) for the variance.
  EXPECT_NEAR(m, 0.5, 5 / std::sqrt(12.0 * 4 * n));
  EXPECT_NEAR(var, 1.0 / 12, 5 / std::sqrt(180.0 * 4 * n));
}

TEST(CounterRng, NormalsHaveGaussianMoments) {
  const CounterRng rng(2, Stream::hmc_momentum);
  const int n = 200000;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i)
    for (double z : rng.normal4(static_cast<std::uint64_t>(i), 5)) {
      s1 += z;
      s2 += z * z;
      s4 += z * z * z * z;
    }
  const double N = 4.0 * n;
  EXPECT_NEAR(s1 / N, 0.0, 5 / std::sqrt(N));
  EXPECT_NEAR(s2 / N, 1.0, 5 * std::sqrt(2 / N));
  EXPECT_NEAR(s4 / N, 3.0, 5 * std::sqrt(96 / N));
}

}  // namespace
}  // namespace latdiff
