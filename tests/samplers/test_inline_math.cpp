// The inline elementary functions against libm over the ranges they state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "samplers/inline_math.hpp"

namespace latdiff {
namespace {

using namespace inline_math;

TEST(InlineMath, ExpOfNonPositive) {
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> wide(-708, 0), narrow(-2, 0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? wide(gen) : narrow(gen);
    worst = std::max(worst, std::abs(exp_nonpositive(x) / std::exp(x) - 1));
  }
  EXPECT_LT(worst, 1e-15);
  EXPECT_EQ(exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-0.0), 1.0);
  EXPECT_NEAR(exp_nonpositive(-708) / std::exp(-708.0), 1, 1e-15);
  EXPECT_NEAR(exp_nonpositive(-std::log(2.0) / 2) / std::sqrt(0.5), 1, 1e-15);
}

TEST(InlineMath, LogOfUnitInterval) {
  for (int i = 0; i <= 100000; ++i) {
    const double x = std::ldexp(1.0 + i * 1e-5, -1 - i % 64);
    ASSERT_NEAR(log_unit(x), std::log(x), 1e-15 * std::abs(std::log(x))) << x;
  }
  EXPECT_EQ(log_unit(1.0), 0.0);
  EXPECT_NEAR(log_unit(0x1p-1022), std::log(0x1p-1022), 1e-13);
}

TEST(InlineMath, SinCosOfPiU) {
  for (int i = 0; i <= 100000; ++i) {
    const double u = -1 + i * 2e-5;
    double s, c;
    sincos_pi(u, s, c);
    ASSERT_NEAR(s, std::sin(M_PI * u), 1e-15) << u;
    ASSERT_NEAR(c, std::cos(M_PI * u), 1e-15) << u;
  }
}

TEST(InlineMath, IntegerConversions) {
  for (const double q : {0.0, 1.0, -1.0, 1022.0, -1022.0, 0x1p50, -0x1p50}) {
    EXPECT_EQ(to_int(q), static_cast<std::int64_t>(q));
    EXPECT_EQ(to_double(static_cast<std::int64_t>(q)), q);
  }
  EXPECT_EQ(round_to_integer(2.5), 2.0);  // ties to even, as the FPU rounds
  EXPECT_EQ(round_to_integer(-3.7), -4.0);
}

}  // namespace
}  // namespace latdiff
