#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "lattice/exact_sum.hpp"

namespace latdiff {
namespace {

TEST(ExactSum, AddTimesEqualsRepeatedAdds) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double x : {0.918938533204672742, -0.1, 3e-310, -1.7e300, 1e-300, 0.0, inf, -inf}) {
    for (std::int64_t n : {0, 1, 7, 1000, 123457}) {
      ExactSum once, repeated;
      once.add_times(x, n);
      for (std::int64_t i = 0; i < n; ++i) repeated.add(x);
      // Against a term that shows any difference in the low bits.
      once.add(1e-17);
      repeated.add(1e-17);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(once.value()),
                std::bit_cast<std::uint64_t>(repeated.value()))
          << x << " times " << n;
      if (std::isfinite(x)) {
        once -= repeated;
        EXPECT_EQ(once.value(), 0.0) << x << " times " << n;
      }
    }
  }
}

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

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

ExactSum sum_of(const std::vector<double>& terms) {
  ExactSum s;
  for (double x : terms) s.add(x);
  return s;
}

TEST(ExactSum, NonFiniteTermsDecideTheValue) {
  EXPECT_TRUE(same_bits(sum_of({1.0, kInf, 2.0}).value(), kInf));
  EXPECT_TRUE(same_bits(sum_of({1.0, -kInf, -kInf}).value(), -kInf));
  // inf - inf and NaN give the one canonical quiet NaN, whatever the NaN's sign or payload.
  EXPECT_TRUE(same_bits(sum_of({kInf, 1.0, -kInf}).value(), kNan));
  EXPECT_TRUE(same_bits(sum_of({1.0, -kNan}).value(), kNan));
  EXPECT_TRUE(same_bits(
      sum_of({std::bit_cast<double>(std::uint64_t{0x7ff8dead00000001}), kInf}).value(), kNan));
}

TEST(ExactSum, NonFiniteResultIsOrderIndependent) {
  // Floating-point addition of the same terms gives NaNs of different bits in different
  // orders; the sum must not.
  auto by_bits = [](double a, double b) {
    return std::bit_cast<std::uint64_t>(a) < std::bit_cast<std::uint64_t>(b);
  };
  std::vector<double> x = {kInf, -kNan, 3.0, -kInf, kNan, -2.0};
  std::sort(x.begin(), x.end(), by_bits);
  do ASSERT_TRUE(same_bits(sum_of(x).value(), kNan));
  while (std::next_permutation(x.begin(), x.end(), by_bits));
}

TEST(ExactSum, DifferenceOfNonFiniteSums) {
  ExactSum inf = sum_of({kInf}), finite = sum_of({1.0});
  ExactSum a = finite;
  a -= inf;
  EXPECT_TRUE(same_bits(a.value(), -kInf));
  ExactSum b = inf;
  b -= finite;
  EXPECT_TRUE(same_bits(b.value(), kInf));
  ExactSum c = inf;
  c -= inf;  // inf - inf
  EXPECT_TRUE(same_bits(c.value(), kNan));
  ExactSum d = sum_of({-kInf});
  d += inf;
  EXPECT_TRUE(same_bits(d.value(), kNan));
}

TEST(ExactSum, FiniteTermsOverflowOnlyInTheRoundedValue) {
  const double big = std::numeric_limits<double>::max();
  EXPECT_TRUE(same_bits(sum_of({big, big}).value(), kInf));
  EXPECT_TRUE(same_bits(sum_of({-big, -big}).value(), -kInf));
  // The accumulator itself does not overflow: the excess cancels exactly.
  EXPECT_EQ(sum_of({big, big, -big}).value(), big);
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

// add_range against add() term by term: the same value, and a difference of exactly zero.
void expect_range_matches_add(const std::vector<double>& x, const char* what) {
  ExactSum bulk, single;
  bulk.add_range(x);
  for (double v : x) single.add(v);
  ASSERT_TRUE(same_bits(bulk.value(), single.value()))
      << what << ": " << bulk.value() << " vs " << single.value() << " (" << x.size() << " terms)";
  bulk -= single;
  if (std::isfinite(single.value())) {
    EXPECT_EQ(bulk.value(), 0.0) << what;
  }
}

TEST(ExactSum, AddRangeEqualsAddOnRandomTerms) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  // Block edges (add_range splits 2048 terms at a time) and magnitude spreads from one binade
  // to the whole double range, where the terms far below a block's largest take add().
  for (std::size_t n : {0, 1, 2, 7, 2047, 2048, 2049, 5000}) {
    for (double decades : {0.0, 4.0, 30.0, 60.0, 300.0}) {
      std::vector<double> x(n);
      for (double& v : x) v = u(rng) * std::pow(10.0, decades * u(rng));
      expect_range_matches_add(x, "random");
    }
  }
}

TEST(ExactSum, AddRangeSpecialTerms) {
  const double big = std::numeric_limits<double>::max();
  const double tiny = std::numeric_limits<double>::denorm_min();
  const double min_normal = std::numeric_limits<double>::min();
  const std::vector<std::vector<double>> cases = {
      {1e300, 1.0, -1e300, 1e-300},  // cancellation over the whole range
      {0.1, 0.2, -0.3},
      {tiny, -tiny, 3 * tiny, min_normal, -0.5 * min_normal},  // subnormals alone
      {1.0, tiny, -1.0},                                       // a subnormal below a normal
      {big, big, -big},                                        // beyond the fast path's range
      {0x1p1021, -0x1p1020, 0x1p-1000},
      {0x1.fffffffffffffp1020, 1.0, -0x1.fffffffffffffp1020},  // just inside it
      {0.0, -0.0, -0.0},
      {-0.0},
      {1.0, kInf, 2.0},
      {1.0, -kInf, kInf},
      {kNan, 1.0},
      {-kNan, tiny},
      {1.0, 0x1p-52, 0x1p-53, 0x1p-104, 0x1p-105, 0x1p-200},  // bits at the grid edges
      {0x1.8p51, -0x1p0, 0x1p-99, -0x1p-100, 0x1p-101}};
  for (const auto& x : cases) expect_range_matches_add(x, "special");
  // The same terms inside a long block of ordinary ones.
  std::vector<double> filler(3000, 0.37);
  for (const auto& x : cases) {
    std::vector<double> y = filler;
    for (std::size_t i = 0; i < x.size(); ++i) y[1000 + 401 * i] = x[i];
    expect_range_matches_add(y, "special in a block");
  }
}

TEST(ExactSum, AddRangeHalfwayCasesRoundExactly) {
  // Terms that sit halfway between grid points of the coarse grids (ties to even) and sums
  // whose rounded value depends on the last of many small terms.
  std::vector<double> x;
  for (int k = 0; k < 1000; ++k) {
    x.push_back(0x1p50 + 0.5);
    x.push_back(-0x1p50);
    x.push_back(std::ldexp(1.5, -k % 150));
  }
  expect_range_matches_add(x, "halfway");
  std::vector<double> y(4000, 1.0);
  y.push_back(0x1p-60);
  expect_range_matches_add(y, "sticky bit");
}

TEST(ExactSum, AddRowsEqualsAdd) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int n : {1, 3, 64, 2048, 3000}) {
    const std::size_t rows = 5;
    std::vector<double> x(rows * static_cast<std::size_t>(n));
    for (double& v : x) v = u(rng) * std::pow(10.0, 10 * u(rng));
    ExactSum by_rows, single;
    by_rows.add_rows(rows, n, [&](std::size_t r, double* out) {
      for (int j = 0; j < n; ++j) out[j] = x[r * static_cast<std::size_t>(n) + j];
    });
    for (double v : x) single.add(v);
    EXPECT_TRUE(same_bits(by_rows.value(), single.value())) << n;
    by_rows -= single;
    EXPECT_EQ(by_rows.value(), 0.0) << n;
  }
}

// The bits of x on rank 0, on every rank.
double rank0_value(double x) {
  MPI_Bcast(&x, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return x;
}

TEST(ExactSum, NonFiniteTermOnOneRankIsSeenByAll) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int last = size - 1;
  // +inf on the last rank only, then also -inf on rank 0 (NaN), in allreduce and
  // allreduce_each alike.
  for (auto [on_last, on_first, expected] :
       {std::tuple{kInf, 0.0, kInf}, std::tuple{kInf, -kInf, kNan}}) {
    ExactSum s;
    s.add(1.0);
    if (rank == last) s.add(on_last);
    if (rank == 0) s.add(on_first);
    std::vector<ExactSum> each = {s, sum_of({2.0})};
    s.allreduce(MPI_COMM_WORLD);
    allreduce_each(each, MPI_COMM_WORLD);
    EXPECT_TRUE(same_bits(s.value(), expected)) << s.value();
    EXPECT_TRUE(same_bits(each[0].value(), expected)) << each[0].value();
    EXPECT_EQ(each[1].value(), 2.0 * size);
    EXPECT_TRUE(same_bits(rank0_value(s.value()), s.value()));
  }
}

}  // namespace
}  // namespace latdiff
