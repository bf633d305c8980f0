// Kish's effective sample size of importance weights (stats/importance_weights.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "stats/importance_weights.hpp"

namespace latdiff::stats {
namespace {

TEST(ImportanceWeights, EqualWeightsGiveOne) {
  EXPECT_DOUBLE_EQ(normalised_ess(std::vector<double>(10, -3.5)), 1.0);
  // Huge log-weights do not overflow.
  EXPECT_DOUBLE_EQ(normalised_ess(std::vector<double>(4, 1e6)), 1.0);
}

TEST(ImportanceWeights, KnownValues) {
  // Weights 1 and 3: (1 + 3)^2 / (2 (1 + 9)) = 0.8.
  EXPECT_NEAR(normalised_ess(std::vector<double>{0.0, std::log(3.0)}), 0.8, 1e-15);
  // One dominant weight of n: ESS / n -> 1 / n.
  EXPECT_NEAR(normalised_ess(std::vector<double>{0.0, -800, -800, -800}), 0.25, 1e-15);
}

TEST(ImportanceWeights, NonFiniteWeightsCountAsZero) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Weights 1, 1, 0, 0: 4 / (4 * 2) = 0.5.
  EXPECT_DOUBLE_EQ(normalised_ess(std::vector<double>{2.0, 2.0, -inf, nan}), 0.5);
  EXPECT_TRUE(std::isnan(normalised_ess(std::vector<double>{nan, inf})));
  EXPECT_TRUE(std::isnan(normalised_ess(std::vector<double>{})));
}

}  // namespace
}  // namespace latdiff::stats
