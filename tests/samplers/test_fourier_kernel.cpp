// The Fourier-acceleration operators M~^s (fourier_kernel.hpp) against position space:
// M~ = -Laplacian + M^2 site by site, powers compose, the momentum-space quadratic form equals
// the position-space one, and results are bitwise independent of the decomposition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "lattice/halo_exchange.hpp"
#include "samplers/fourier_kernel.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/white_field.hpp"

namespace latdiff {
namespace {

// d = 1..4, with an odd extent; every one splits over 1, 2 and 4 ranks.
const std::vector<std::vector<int>> kLattices = {{12}, {6, 10}, {4, 5, 6}, {4, 2, 6, 4}};
constexpr double kMass2 = 0.37;

Field normal_field(const Geometry& g, std::uint64_t counter) {
  return testing::white_field(g, 11, counter);
}

// Collective: max_x |a_x - b_x| over the interior.
double max_difference(const Geometry& g, const Field& a, const Field& b) {
  double d = 0;
  for_each_site(g, [&](std::size_t p, std::int64_t) { d = std::max(d, std::abs(a[p] - b[p])); });
  MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPI_DOUBLE, MPI_MAX, g.comm());
  return d;
}

// Collective: factor * sum_x a_x b_x.
double dot(const Geometry& g, const Field& a, const Field& b, double factor = 1) {
  ExactSum s;
  for_each_site(g, [&](std::size_t p, std::int64_t) { s.add(factor * a[p] * b[p]); });
  s.allreduce(g.comm());
  return s.value();
}

double global_value(ExactSum s, MPI_Comm comm) {
  s.allreduce(comm);
  return s.value();
}

TEST(FourierKernel, MassIsMinusLaplacianPlusMassSquared) {
  for (const auto& dims : kLattices) {
    SCOPED_TRACE(dims.size());
    Geometry g(dims, {}, MPI_COMM_WORLD);
    FourierKernel k(g, kMass2);
    Field x = normal_field(g, 0), y = make_field(g);
    HaloExchange(g).exchange(x);
    k.apply(KernelPower::one, x, y);
    Field expected = make_field(g);
    for_each_site(g, [&](std::size_t p, std::int64_t) {
      double v = kMass2 * x[p];
      for (int mu = 0; mu < g.dim(); ++mu)
        v += 2 * x[p] - x[p + g.stride(mu)] - x[p - g.stride(mu)];
      expected[p] = v;
    });
    EXPECT_LT(max_difference(g, y, expected), 1e-12);
  }
}

TEST(FourierKernel, PowersCompose) {
  for (const auto& dims : kLattices) {
    SCOPED_TRACE(dims.size());
    Geometry g(dims, {}, MPI_COMM_WORLD);
    FourierKernel k(g, kMass2);
    const Field x = normal_field(g, 1);
    Field a = make_field(g), b = make_field(g);
    // M~^{-1} M~ = 1, and in place.
    k.apply(KernelPower::one, x, a);
    k.apply(KernelPower::minus_one, a, a);
    EXPECT_LT(max_difference(g, a, x), 1e-12);
    // M~^{-1/2} M~^{1/2} = 1.
    k.apply(KernelPower::half, x, a);
    k.apply(KernelPower::minus_half, a, b);
    EXPECT_LT(max_difference(g, b, x), 1e-12);
    // (M~^{1/2})^2 = M~, with factors 2 * 1.5.
    k.apply(KernelPower::half, x, a, 2.0);
    k.apply(KernelPower::half, a, b, 1.5);
    k.apply(KernelPower::one, x, a, 3.0);
    EXPECT_LT(max_difference(g, a, b), 1e-12);
  }
}

TEST(FourierKernel, QuadraticFormIsParseval) {
  for (const auto& dims : kLattices) {
    SCOPED_TRACE(dims.size());
    Geometry g(dims, {}, MPI_COMM_WORLD);
    FourierKernel k(g, kMass2);
    const Field x = normal_field(g, 2);
    Field y = make_field(g);
    for (KernelPower s :
         {KernelPower::minus_one, KernelPower::minus_half, KernelPower::half, KernelPower::one}) {
      k.apply(s, x, y);
      const double expected = dot(g, x, y, 0.75);
      const double got = global_value(k.quadratic_form(s, x, 0.75), g.comm());
      EXPECT_NEAR(got, expected, 1e-12 * std::abs(expected));
    }
  }
}

TEST(FourierKernel, MaxMassIsTheLargestMomentum) {
  for (const auto& dims : kLattices) {
    SCOPED_TRACE(dims.size());
    Geometry g(dims, {}, MPI_COMM_WORLD);
    FourierKernel k(g, kMass2);
    double largest = 0;
    for (double m : k.mass()) largest = std::max(largest, m);
    MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_DOUBLE, MPI_MAX, g.comm());
    EXPECT_DOUBLE_EQ(k.max_mass(), largest);
    double smallest = largest;
    for (double m : k.mass()) smallest = std::min(smallest, m);
    MPI_Allreduce(MPI_IN_PLACE, &smallest, 1, MPI_DOUBLE, MPI_MIN, g.comm());
    EXPECT_DOUBLE_EQ(smallest, kMass2);  // p = 0
  }
}

TEST(FourierKernel, LangevinKernelIsNormalisedAtTheHighestMomentum) {
  // A plane wave at p = (pi, ..., pi) is an eigenvector of K with eigenvalue 1, the zero
  // mode one with eigenvalue M~_max / M^2.
  Geometry g({6, 4}, {}, MPI_COMM_WORLD);
  LangevinKernel k(g, kMass2);
  Field stagger = make_field(g), constant = make_field(g, 1.0), y = make_field(g);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    const std::vector<int> x = g.global_coords(gi);
    stagger[p] = (x[0] + x[1]) % 2 ? -1.0 : 1.0;
  });
  y = stagger;
  k.apply(y);
  EXPECT_LT(max_difference(g, y, stagger), 1e-12);
  y = constant;
  k.apply(y);
  const double zero_mode = (8 + kMass2) / kMass2;
  for_each_site(g, [&](std::size_t p, std::int64_t) { EXPECT_NEAR(y[p], zero_mode, 1e-12); });
  // K^{1/2} K^{1/2} = K, and (K x)^T K^{-1} (K x) = x^T K x.
  const Field x = normal_field(g, 3);
  Field a = make_field(g), b = make_field(g);
  k.apply_sqrt(x, a);
  k.apply_sqrt(a, b);
  a = x;
  k.apply(a);
  EXPECT_LT(max_difference(g, a, b), 1e-12);
  const double xkx = dot(g, x, a);
  EXPECT_NEAR(global_value(k.inverse_form(a, 0.5), g.comm()), 0.5 * xkx, 1e-12 * xkx);
}

TEST(FourierKernel, RejectsNonPositiveMass) {
  Geometry g({4, 4}, {}, MPI_COMM_WORLD);
  EXPECT_THROW(FourierKernel(g, 0.0), std::invalid_argument);
  EXPECT_THROW(FourierKernel(g, -1.0), std::invalid_argument);
}

// Collective: M~^{-1/2} x and 0.5 x^T M~^{-1} x on the grid `procs` of comm.
std::pair<std::vector<double>, double> results(const std::vector<int>& dims,
                                               const std::vector<int>& procs, MPI_Comm comm) {
  Geometry g(dims, procs, comm);
  FourierKernel k(g, kMass2);
  const Field x = normal_field(g, 4);
  Field y = make_field(g);
  k.apply(KernelPower::minus_half, x, y);
  return {testing::gather_global(g, y),
          global_value(k.quadratic_form(KernelPower::minus_one, x, 0.5), comm)};
}

TEST(FourierKernel, BitwiseIndependentOfTheDecomposition) {
  for (const auto& dims : kLattices) {
    SCOPED_TRACE(dims.size());
    std::pair<std::vector<double>, double> serial;
    if (testing::world_rank() == 0) serial = results(dims, {}, MPI_COMM_SELF);
    for (const auto& procs : testing::process_grids(dims, testing::world_size())) {
      const auto parallel = results(dims, procs, MPI_COMM_WORLD);
      if (testing::world_rank() != 0) continue;
      ASSERT_EQ(parallel.first.size(), serial.first.size());
      EXPECT_EQ(std::memcmp(parallel.first.data(), serial.first.data(),
                            serial.first.size() * sizeof(double)),
                0);
      EXPECT_EQ(std::memcmp(&parallel.second, &serial.second, sizeof(double)), 0);
    }
  }
}

}  // namespace
}  // namespace latdiff
