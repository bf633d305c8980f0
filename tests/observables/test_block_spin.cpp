// Deterministic checks of b = 2 block-spin coarse-graining on every process grid: blocking of
// known fields, the per-level observables against their definitions, the aliasing formula for
// the blocked spectrum, and bitwise decomposition independence.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>

#include "fft/distributed_fft.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "observables/block_spin.hpp"
#include "observables/measurement.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using testing::gather_global;
using testing::process_grids;
using testing::world_size;

// Lattices and their number of levels: {6, 4} and odd local extents on some grids exercise
// the replicated levels.
struct Case {
  std::vector<int> dims;
  int levels;
};
const std::vector<Case> kCases = {
    {{16}, 4}, {{24, 16}, 4}, {{6, 4}, 2}, {{8, 8, 8}, 3}, {{4, 8, 4, 4}, 2}};

Field irregular_field(const Geometry& g) {
  Field f = make_field(g);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    f[p] = std::sin(1.3 * gi) + 0.3 * std::cos(0.37 * gi * gi) + 0.2;
  });
  HaloExchange(g).exchange(f);
  return f;
}

// Serial b = 2 block average of a global row-major field.
std::vector<double> serial_block(const std::vector<double>& phi, const std::vector<int>& dims) {
  std::vector<int> coarse;
  for (int l : dims) coarse.push_back(l / 2);
  std::vector<double> out(phi.size() >> dims.size(), 0.0);
  for (std::size_t i = 0; i < phi.size(); ++i) {
    std::vector<int> x = testing::row_major_coords(static_cast<std::int64_t>(i), dims);
    for (int& c : x) c /= 2;
    out[testing::row_major_index(x, coarse)] += phi[i] / (1 << dims.size());
  }
  return out;
}

// Level observables by their definitions on a global row-major field.
LevelMeasurement serial_measure(const std::vector<double>& phi, const std::vector<int>& dims) {
  const int d = static_cast<int>(dims.size());
  const double v = static_cast<double>(phi.size());
  LevelMeasurement m;
  m.low.gmin.assign(d, 0.0);
  std::vector<std::complex<double>> a(d, 0.0);
  double sum = 0;
  for (std::size_t i = 0; i < phi.size(); ++i) {
    const std::vector<int> x = testing::row_major_coords(static_cast<std::int64_t>(i), dims);
    sum += phi[i];
    m.phi2 += phi[i] * phi[i] / v;
    for (int mu = 0; mu < d; ++mu) {
      std::vector<int> y = x;
      ++y[mu];
      m.nn += phi[i] * phi[testing::row_major_index(y, dims)] / (d * v);
      a[mu] += phi[i] * std::polar(1.0, -2 * std::numbers::pi * x[mu] / dims[mu]);
    }
  }
  m.mag = sum / v;
  m.low.g0 = sum * sum / v;
  for (int mu = 0; mu < d; ++mu) m.low.gmin[mu] = std::norm(a[mu]) / v;
  return m;
}

std::vector<std::uint64_t> bits(const std::vector<double>& v) {
  std::vector<std::uint64_t> out;
  for (double x : v) out.push_back(std::bit_cast<std::uint64_t>(x));
  return out;
}

std::vector<double> as_vector(const LevelMeasurement& m) {
  std::vector<double> out = {m.mag, m.phi2, m.nn, m.low.g0};
  out.insert(out.end(), m.low.gmin.begin(), m.low.gmin.end());
  return out;
}

TEST(BlockSpin, LevelsAndTheirGeometries) {
  for (const Case& c : kCases)
    for (const auto& procs : process_grids(c.dims, world_size())) {
      Geometry g(c.dims, procs, MPI_COMM_WORLD);
      BlockSpin blocks(g);
      ASSERT_EQ(blocks.levels(), c.levels);
      EXPECT_EQ(&blocks.geometry(0), &g);
      for (int k = 1; k < blocks.levels(); ++k) {
        const Geometry& fine = blocks.geometry(k - 1);
        std::vector<int> half;
        for (int l : fine.global_dims()) half.push_back(l / 2);
        EXPECT_EQ(blocks.geometry(k).global_dims(), half);
        // Same grid while local extents are even, else replicated on every rank.
        bool even = true;
        for (int l : fine.local_dims()) even = even && l % 2 == 0;
        EXPECT_EQ(blocks.geometry(k).size(), even ? fine.size() : 1) << "level " << k;
      }
      EXPECT_EQ(BlockSpin(g, 1).levels(), std::min(c.levels, 2));
      EXPECT_EQ(BlockSpin(g, 0).levels(), 1);
    }
}

TEST(BlockSpin, BlocksALinearFieldExactly) {
  // phi_x = sum_mu a_mu x_mu: the average of x_mu over a block of 2^k sites is
  // 2^k X_mu + (2^k - 1)/2, exactly representable, so level k is known exactly.
  const std::vector<double> a = {1, 10, 100, 1000};
  for (const Case& c : kCases)
    for (const auto& procs : process_grids(c.dims, world_size())) {
      Geometry g(c.dims, procs, MPI_COMM_WORLD);
      Field phi = make_field(g);
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        const std::vector<int> x = g.global_coords(gi);
        for (int mu = 0; mu < g.dim(); ++mu) phi[p] += a[mu] * x[mu];
      });
      BlockSpin blocks(g);
      blocks.block(phi);
      for (int k = 1; k < blocks.levels(); ++k) {
        const Geometry& gk = blocks.geometry(k);
        const std::vector<double> all = gather_global(gk, blocks.field(k));
        const double b = std::ldexp(1.0, k);
        for (std::size_t i = 0; i < all.size(); ++i) {
          const std::vector<int> x =
              testing::row_major_coords(static_cast<std::int64_t>(i), gk.global_dims());
          double expected = 0;
          for (int mu = 0; mu < g.dim(); ++mu) expected += a[mu] * (b * x[mu] + (b - 1) / 2);
          ASSERT_EQ(all[i], expected) << "level " << k << " site " << i;
        }
      }
    }
}

TEST(BlockSpin, FieldsAndMeasurementsMatchDefinitionsBitwiseOnEveryGrid) {
  for (const Case& c : kCases) {
    std::vector<std::vector<std::uint64_t>> reference;
    for (const auto& procs : process_grids(c.dims, world_size())) {
      Geometry g(c.dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      BlockSpin blocks(g);
      const std::vector<LevelMeasurement> levels = blocks.measure(phi);
      ASSERT_EQ(static_cast<int>(levels.size()), blocks.levels());
      std::vector<double> fine = gather_global(g, phi);
      std::vector<std::vector<std::uint64_t>> values;
      for (int k = 0; k < blocks.levels(); ++k) {
        const std::vector<int>& dims = blocks.geometry(k).global_dims();
        if (k > 0) {
          const std::vector<double> all = gather_global(blocks.geometry(k), blocks.field(k));
          const std::vector<double> expected =
              serial_block(fine, blocks.geometry(k - 1).global_dims());
          for (std::size_t i = 0; i < all.size(); ++i) EXPECT_NEAR(all[i], expected[i], 1e-14);
          values.push_back(bits(all));
          fine = all;
        }
        const std::vector<double> got = as_vector(levels[k]);
        const std::vector<double> want = as_vector(serial_measure(fine, dims));
        for (std::size_t i = 0; i < got.size(); ++i)
          EXPECT_NEAR(got[i], want[i], 1e-12) << "level " << k << " value " << i;
        values.push_back(bits(got));
      }
      if (reference.empty()) reference = values;
      EXPECT_EQ(values, reference);
    }
  }
}

TEST(BlockSpin, LevelZeroAgreesWithMeasure) {
  Geometry g({8, 6}, {}, MPI_COMM_WORLD);
  Phi4Model model(g, ActionConfig{ActionForm::mass, 0, 0, 0.5, 0});
  const Field phi = irregular_field(g);
  const Measurement m = measure(g, model, phi);
  const LevelMeasurement level0 = measure_level(g, phi);
  EXPECT_EQ(level0.mag, m.mag);
  EXPECT_EQ(level0.phi2, m.phi2);
}

// Collective: the spectrum of a field as one global array on every rank.
std::vector<std::complex<double>> global_spectrum(const Geometry& g, const Field& phi) {
  DistributedFft fft(g);
  ComplexField local;
  fft.forward(phi, local);
  std::vector<std::complex<double>> all(static_cast<std::size_t>(g.global_volume()), 0.0);
  std::size_t k = 0;
  for_each_site(g, [&](std::size_t, std::int64_t gi) { all[gi] = local[k++]; });
  MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(2 * all.size()), MPI_DOUBLE, MPI_SUM,
                g.comm());
  return all;
}

TEST(BlockSpin, BlockedSpectrumIsTheAliasedFineSpectrum) {
  // phi~_B(P) = 2^{-d} sum_{c in {0,1}^d} B(p_c) phi~(p_c), B(p) = prod_mu (1 + e^{i p_mu}) / 2,
  // over the fine momenta p_c = P/2 + pi c that alias to P (index n_mu = N_mu + c_mu L_mu/2).
  // The exact free-field G_B of the statistical test rests on this.
  for (const Case& c : kCases)
    for (const auto& procs : process_grids(c.dims, world_size())) {
      Geometry g(c.dims, procs, MPI_COMM_WORLD);
      const Field phi = irregular_field(g);
      BlockSpin blocks(g, 1);
      blocks.block(phi);
      const Geometry& coarse = blocks.geometry(1);
      const auto fine = global_spectrum(g, phi);
      const auto blocked = global_spectrum(coarse, blocks.field(1));
      const int d = g.dim();
      for (std::size_t i = 0; i < blocked.size(); ++i) {
        const std::vector<int> N =
            testing::row_major_coords(static_cast<std::int64_t>(i), coarse.global_dims());
        std::complex<double> expected = 0;
        for (int corner = 0; corner < (1 << d); ++corner) {
          std::vector<int> n = N;
          std::complex<double> kernel = 1;
          for (int mu = 0; mu < d; ++mu) {
            n[mu] += ((corner >> mu) & 1) * c.dims[mu] / 2;
            const double p = 2 * std::numbers::pi * n[mu] / c.dims[mu];
            kernel *= (1.0 + std::polar(1.0, p)) / 2.0;
          }
          expected += kernel * fine[testing::row_major_index(n, c.dims)];
        }
        expected /= static_cast<double>(1 << d);
        EXPECT_NEAR(std::abs(blocked[i] - expected), 0, 1e-11) << "momentum " << i;
      }
    }
}

TEST(BlockSpin, RejectsALatticeThatCannotBeBlockedLocally) {
  Geometry fine({6, 4}, {1, 1}, MPI_COMM_SELF);
  Geometry coarse({3, 3}, {1, 1}, MPI_COMM_SELF);
  Field phi = make_field(fine), out = make_field(coarse);
  EXPECT_THROW(block_average(fine, phi, coarse, out), std::invalid_argument);
}

}  // namespace
}  // namespace latdiff
