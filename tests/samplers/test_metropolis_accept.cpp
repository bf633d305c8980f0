#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "samplers/metropolis_accept.hpp"

namespace latdiff {
namespace {

TEST(MetropolisAccept, DecidesLikeMinOneExp) {
  const double inf = std::numeric_limits<double>::infinity();
  const double e1 = std::exp(-1.0);
  EXPECT_TRUE(metropolis_accepts(1.0, e1 * (1 - 1e-12)));
  EXPECT_FALSE(metropolis_accepts(1.0, e1 * (1 + 1e-12)));
  EXPECT_TRUE(metropolis_accepts(0.0, 1 - 1e-16));
  EXPECT_TRUE(metropolis_accepts(-5.0, 1 - 1e-16));
  EXPECT_TRUE(metropolis_accepts(-inf, 0.5));
  // Beyond the clamp every uniform of philox_lanes.hpp (>= 2^-53) rejects, as e^{-dS} would.
  EXPECT_FALSE(metropolis_accepts(708.5, 0x1p-53));
  EXPECT_FALSE(metropolis_accepts(1e300, 0x1p-53));
  EXPECT_FALSE(metropolis_accepts(inf, 0x1p-53));
  EXPECT_FALSE(metropolis_accepts(std::numeric_limits<double>::quiet_NaN(), 0x1p-53));
}

}  // namespace
}  // namespace latdiff
