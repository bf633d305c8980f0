// Deterministic checks of the correlators against direct computations on the gathered field,
// on every process grid, and bitwise decomposition independence.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <map>
#include <numbers>

#include "observables/correlators.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using testing::gather_global;
using testing::process_grids;
using testing::world_size;

const std::vector<std::vector<int>> kLattices = {{12}, {6, 10}, {4, 6, 8}, {4, 2, 6, 4}};

// A fixed irregular field, the same on every grid; the halo holds junk the results must ignore.
Field irregular_field(const Geometry& g) {
  Field f = make_field(g, 7.25);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    f[p] = std::sin(1.3 * gi) + 0.3 * std::cos(0.37 * gi * gi) + 0.2;
  });
  return f;
}

// Direct O(V^2) DFT: G(n) = |sum_x e^{-ip.x} phi_x|^2 / V for every momentum index n.
std::vector<double> naive_two_point(const std::vector<int>& dims, const std::vector<double>& phi) {
  const auto v = static_cast<std::int64_t>(phi.size());
  std::vector<double> out(phi.size());
  for (std::int64_t n = 0; n < v; ++n) {
    const std::vector<int> p = testing::row_major_coords(n, dims);
    std::complex<double> a = 0;
    for (std::int64_t i = 0; i < v; ++i) {
      const std::vector<int> x = testing::row_major_coords(i, dims);
      double phase = 0;
      for (std::size_t mu = 0; mu < dims.size(); ++mu)
        phase += 2 * std::numbers::pi * p[mu] * x[mu] / dims[mu];
      a += phi[i] * std::polar(1.0, -phase);
    }
    out[n] = std::norm(a) / static_cast<double>(v);
  }
  return out;
}

std::vector<std::uint64_t> bits(const std::vector<double>& v) {
  std::vector<std::uint64_t> out;
  for (double x : v) out.push_back(std::bit_cast<std::uint64_t>(x));
  return out;
}

TEST(Correlators, TwoPointOfAPlaneWave) {
  // phi = 0.5 + 2 cos(q.x): phi~ = V/2 at p = 0 and V at p = +-q, so G(0) = V/4, G(+-q) = V.
  const std::vector<int> q = {1, 2, 3};
  for (const auto& dims : kLattices) {
    if (dims.size() > 3) continue;
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      Field phi = make_field(g);
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        const std::vector<int> x = g.global_coords(gi);
        double phase = 0;
        for (int mu = 0; mu < g.dim(); ++mu)
          phase += 2 * std::numbers::pi * q[mu] * x[mu] / dims[mu];
        phi[p] = 0.5 + 2 * std::cos(phase);
      });
      Correlators corr(g);
      const std::vector<double> G = corr.two_point(phi);
      const double v = static_cast<double>(g.global_volume());
      std::vector<int> plus(q.begin(), q.begin() + g.dim()), minus = plus;
      for (int mu = 0; mu < g.dim(); ++mu) minus[mu] = dims[mu] - plus[mu];
      ASSERT_EQ(G.size(), static_cast<std::size_t>(g.global_volume()));
      for (std::int64_t n = 0; n < g.global_volume(); ++n) {
        double expected = 0;
        if (n == 0) expected = v / 4;
        if (n == g.global_index(plus) || n == g.global_index(minus)) expected = v;
        EXPECT_NEAR(G[n], expected, 1e-12 * v) << "momentum " << n;
      }
    }
  }
}

TEST(Correlators, TwoPointMatchesDirectDft) {
  for (const auto& dims : kLattices)
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      Correlators corr(g);
      const std::vector<double> G = corr.two_point(phi);
      const std::vector<double> expected = naive_two_point(dims, gather_global(g, phi));
      for (std::size_t n = 0; n < G.size(); ++n) EXPECT_NEAR(G[n], expected[n], 1e-11) << n;
    }
}

TEST(Correlators, RadialBinsCountTheMomenta) {
  for (const std::vector<int>& dims : {std::vector<int>{4, 4, 4}, {4, 6, 8}, {5, 4, 3}, {12}}) {
    Geometry g(dims, {}, MPI_COMM_WORLD);
    Correlators corr(g);
    // Brute force: n^2 of every momentum with signed indices in (-L/2, L/2].
    std::map<std::int64_t, std::int64_t> count;
    for (std::int64_t n = 0; n < g.global_volume(); ++n) {
      const std::vector<int> x = testing::row_major_coords(n, dims);
      std::int64_t n2 = 0;
      for (std::size_t mu = 0; mu < dims.size(); ++mu) {
        const int s = 2 * x[mu] > dims[mu] ? x[mu] - dims[mu] : x[mu];
        n2 += s * s;
      }
      ++count[n2];
    }
    std::vector<std::int64_t> n2s, counts;
    for (const auto& [n2, c] : count) {
      n2s.push_back(n2);
      counts.push_back(c);
    }
    EXPECT_EQ(corr.radial_n2(), n2s);
    EXPECT_EQ(corr.radial_count(), counts);
  }
  // By hand, 4^3: s_mu in {-1, 0, 1, 2}, so s_mu^2 in {0, 1 (twice), 4}; 7, 10, 11 cannot occur.
  Geometry g({4, 4, 4}, {}, MPI_COMM_WORLD);
  Correlators corr(g);
  EXPECT_EQ(corr.radial_n2(), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 8, 9, 12}));
  EXPECT_EQ(corr.radial_count(), (std::vector<std::int64_t>{1, 6, 12, 8, 3, 12, 12, 3, 6, 1}));
}

TEST(Correlators, RadialIsTheBinMeanOfG) {
  for (const std::vector<int>& dims : {std::vector<int>{4, 6, 8}, {4, 2, 6, 4}, {6, 10}})
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      Correlators corr(g);
      const std::vector<double> G = corr.two_point(phi);
      const std::vector<double> radial = corr.two_point_radial(phi);
      std::map<std::int64_t, double> sum;
      for (std::int64_t n = 0; n < g.global_volume(); ++n) {
        const std::vector<int> x = testing::row_major_coords(n, dims);
        std::int64_t n2 = 0;
        for (std::size_t mu = 0; mu < dims.size(); ++mu) {
          const int s = std::min(x[mu], dims[mu] - x[mu]);
          n2 += s * s;
        }
        sum[n2] += G[n];
      }
      ASSERT_EQ(radial.size(), sum.size());
      for (std::size_t b = 0; b < radial.size(); ++b)
        EXPECT_NEAR(radial[b], sum[corr.radial_n2()[b]] / corr.radial_count()[b], 1e-13);
    }
}

TEST(Correlators, TimesliceMatchesDirectSumAndSpectrum) {
  for (const auto& dims : kLattices)
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      const std::vector<double> C = timeslice_correlator(g, phi);
      const std::vector<double> all = gather_global(g, phi);
      const int L = dims[0];
      const auto v = static_cast<std::int64_t>(all.size());
      const std::int64_t slice = v / L;  // sites per time slice, contiguous in row-major order
      ASSERT_EQ(C.size(), static_cast<std::size_t>(L));
      // Direct: C(t) = (1/V) sum_x phi_x sum_{y: y_0 = x_0 + t} phi_y.
      for (int t = 0; t < L; ++t) {
        double direct = 0;
        for (std::int64_t i = 0; i < v; ++i) {
          const std::int64_t t1 = (i / slice + t) % L;
          for (std::int64_t j = 0; j < slice; ++j) direct += all[i] * all[t1 * slice + j];
        }
        EXPECT_NEAR(C[t], direct / static_cast<double>(v), 1e-12) << "t = " << t;
      }
      // From the spectrum: C(t) = (1/L_0) sum_{p_0} e^{i p_0 t} G(p_0, 0, ..., 0).
      Correlators corr(g);
      const std::vector<double> G = corr.two_point(phi);
      double total = 0;
      for (int t = 0; t < L; ++t) {
        double from_g = 0;
        for (int n = 0; n < L; ++n)
          from_g += std::cos(2 * std::numbers::pi * n * t / L) * G[n * slice];
        EXPECT_NEAR(C[t], from_g / L, 1e-12) << "t = " << t;
        total += C[t];
      }
      EXPECT_NEAR(total, G[0], 1e-12);  // sum_t C(t) = G(0)
    }
}

TEST(Correlators, LowestMomentaMatchTheSpectrum) {
  for (const auto& dims : kLattices)
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      const LowestMomenta low = lowest_momenta(g, phi);
      Correlators corr(g);
      const std::vector<double> G = corr.two_point(phi);
      EXPECT_NEAR(low.g0, G[0], 1e-12);
      ASSERT_EQ(low.gmin.size(), dims.size());
      for (int mu = 0; mu < g.dim(); ++mu) {
        std::vector<int> n(dims.size(), 0);
        n[mu] = 1;
        EXPECT_NEAR(low.gmin[mu], G[g.global_index(n)], 1e-12) << "mu = " << mu;
      }
    }
}

TEST(Correlators, SecondMomentXi) {
  const double s = 2 * std::sin(std::numbers::pi / 8);
  EXPECT_DOUBLE_EQ(second_moment_xi(5.0, 1.0, 8), 2 / s);
  EXPECT_DOUBLE_EQ(second_moment_xi(1.0, 1.0, 8), 0.0);
  EXPECT_TRUE(std::isnan(second_moment_xi(1.0, 2.0, 8)));
  // Free field: G(0)/G(p_min) - 1 = phat_min^2 / m^2 with phat_min = 2 sin(pi/L): xi_2 = 1/m.
  const double m2 = 0.3, L = 10, phat2 = std::pow(2 * std::sin(std::numbers::pi / L), 2);
  EXPECT_NEAR(second_moment_xi(1 / m2, 1 / (phat2 + m2), 10), 1 / std::sqrt(m2), 1e-14);
  // The estimator averages G(p_min) over the directions with the extent of dimension 0.
  const LowestMomenta low{5.0, {1.0, 3.0, 100.0}};
  EXPECT_DOUBLE_EQ(second_moment_xi(low, {8, 8, 4}), second_moment_xi(5.0, 2.0, 8));
}

TEST(Correlators, BitwiseIndependentOfTheProcessGrid) {
  for (const auto& dims : kLattices) {
    std::vector<std::vector<std::uint64_t>> reference;
    for (const auto& procs : process_grids(dims, world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      Correlators corr(g);
      const LowestMomenta low = lowest_momenta(g, phi);
      std::vector<double> lowest = low.gmin;
      lowest.push_back(low.g0);
      const std::vector<std::vector<std::uint64_t>> values = {
          bits(corr.two_point(phi)), bits(corr.two_point_radial(phi)),
          bits(timeslice_correlator(g, phi)), bits(lowest)};
      if (reference.empty()) reference = values;
      EXPECT_EQ(values, reference) << "grid " << procs[0] << "...";
    }
  }
}

}  // namespace
}  // namespace latdiff
