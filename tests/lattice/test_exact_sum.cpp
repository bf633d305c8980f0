#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "lattice/exact_sum.hpp"

namespace latdiff {
namespace {

TEST(ExactSum, CancellationIsExact) {
  ExactSum s;
  s.add(1e300);
  s.add(1.0);
  s.add(-1e300);
  s.add(1e-300);
  EXPECT_EQ(s.value(), 1.0);
  ExactSum t;
  t.add(0.1);
  t.add(0.2);
  t.add(-0.3);
  // The doubles nearest 0.1, 0.2 and 0.3 sum to exactly 2^-55; naive summation gives 2^-54.
  EXPECT_EQ(t.value(), std::ldexp(1.0, -55));
}

TEST(ExactSum, NegativeAndSubnormal) {
  ExactSum s;
  s.add(-2.5);
  s.add(std::numeric_limits<double>::denorm_min());
  s.add(-std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(s.value(), -2.5);
  ExactSum tiny;
  tiny.add(-std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(tiny.value(), -std::numeric_limits<double>::denorm_min());
}

TEST(ExactSum, OrderIndependent) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(20000);
  for (double& v : x) v = u(rng) * std::pow(10.0, 8 * u(rng));
  ExactSum forward, backward;
  for (double v : x) forward.add(v);
  for (auto it = x.rbegin(); it != x.rend(); ++it) backward.add(*it);
  EXPECT_EQ(forward.value(), backward.value());
  long double reference = 0;
  for (double v : x) reference += v;
  EXPECT_NEAR(forward.value(), static_cast<double>(reference), 1e-6);
}

TEST(ExactSum, DifferenceOfSums) {
  ExactSum a, b;
  a.add(1e20);
  a.add(3.0);
  b.add(1e20);
  b.add(1.0);
  a -= b;
  EXPECT_EQ(a.value(), 2.0);
}

TEST(ExactSum, NonFinitePropagates) {
  ExactSum s;
  s.add(1.0);
  s.add(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isinf(s.value()));
  s.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(std::isnan(s.value()));
}

TEST(ExactSum, GlobalSumIndependentOfSplit) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(4096);
  for (double& v : x) v = u(rng) * std::pow(10.0, 6 * u(rng));
  ExactSum all;
  for (double v : x) all.add(v);
  ExactSum mine;
  for (std::size_t i = rank; i < x.size(); i += size) mine.add(x[i]);
  mine.allreduce(MPI_COMM_WORLD);
  EXPECT_EQ(mine.value(), all.value());
}

}  // namespace
}  // namespace latdiff
