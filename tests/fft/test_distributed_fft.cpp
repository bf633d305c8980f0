#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>

#include "fft/distributed_fft.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using Complex = std::complex<double>;

// d = 1 ... 4 with odd and even first and last extents; on 2 and 4 ranks the last axis is split in
// some grids (local extents down to 1, blocks beyond L/2 that hold no line of the half spectrum)
// and whole in others.
const std::vector<std::vector<int>> kLattices = {{12},      {9},          {6, 10},     {5, 4},
                                                 {4, 5},    {4, 8},       {8, 1},      {4, 6, 8},
                                                 {3, 4, 5}, {4, 2, 6, 4}, {2, 3, 4, 3}};

// Whether the momentum with global index gi lies in the half spectrum n_{d-1} <= L_{d-1}/2 that
// the real transforms compute.
bool in_half(const Geometry& g, std::int64_t gi) {
  const int last = g.dim() - 1;
  return 2 * g.global_coords(gi)[last] <= g.global_dims()[last];
}

// Global index of -p.
std::int64_t mirror_index(const Geometry& g, std::int64_t gi) {
  std::vector<int> n = g.global_coords(gi);
  for (int& x : n) x = -x;
  return g.global_index(n);
}

// A fixed pseudo-random value in [-1, 1) per (global index, salt), the same on every grid.
double test_value(std::int64_t gi, std::uint64_t salt = 0) {
  std::uint64_t z = static_cast<std::uint64_t>(gi) * 0x9E3779B97F4A7C15ull + salt + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
}

constexpr double kHalo = 7.25;

// Interior from test_value, halo set to kHalo.
Field test_field(const Geometry& g) {
  Field f = make_field(g, kHalo);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { f[p] = test_value(gi); });
  return f;
}

ComplexField test_complex(const Geometry& g) {
  ComplexField c;
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    c.emplace_back(test_value(gi, 1), test_value(gi, 2));
  });
  return c;
}

// Collective: a local array in for_each_site order as one global row-major array on every
// rank, copied bit for bit (a sum-based gather would turn -0.0 into +0.0).
template <class T>
std::vector<T> gather_exact(const Geometry& g, const std::vector<T>& local) {
  std::vector<std::int64_t> index;
  for_each_site(g, [&](std::size_t, std::int64_t gi) { index.push_back(gi); });
  const int n = static_cast<int>(local.size() * sizeof(T));
  std::vector<std::int64_t> all_index(index.size() * g.size());
  std::vector<T> all(local.size() * g.size());
  MPI_Allgather(index.data(), static_cast<int>(index.size()), MPI_INT64_T, all_index.data(),
                static_cast<int>(index.size()), MPI_INT64_T, g.comm());
  MPI_Allgather(local.data(), n, MPI_BYTE, all.data(), n, MPI_BYTE, g.comm());
  std::vector<T> out(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) out[all_index[i]] = all[i];
  return out;
}

// O(V^2) DFT of a global row-major array: sum_x e^{sign i p.x} x(x).
std::vector<Complex> naive_dft(const Geometry& g, const std::vector<Complex>& x, int sign) {
  const std::int64_t V = g.global_volume();
  std::vector<Complex> out(V);
  for (std::int64_t ip = 0; ip < V; ++ip) {
    const std::vector<int> n = g.global_coords(ip);
    Complex sum = 0;
    for (std::int64_t ix = 0; ix < V; ++ix) {
      const std::vector<int> y = g.global_coords(ix);
      double turns = 0;  // p.x / 2 pi, reduced per dimension for accuracy
      for (int mu = 0; mu < g.dim(); ++mu)
        turns += double((n[mu] * y[mu]) % g.global_dims()[mu]) / g.global_dims()[mu];
      sum += std::polar(1.0, sign * 2 * std::numbers::pi * turns) * x[ix];
    }
    out[ip] = sum;
  }
  return out;
}

double max_abs(const std::vector<Complex>& v) {
  double m = 0;
  for (const Complex& z : v) m = std::max(m, std::abs(z));
  return m;
}

double max_diff(const std::vector<Complex>& a, const std::vector<Complex>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

std::string grid_name(const std::vector<int>& procs) {
  std::string s;
  for (int p : procs) {
    if (!s.empty()) s += 'x';
    s += std::to_string(p);
  }
  return s;
}

// Calls f(g, fft) for every lattice of kLattices on every process grid of the ranks.
template <class F>
void for_each_grid(F&& f) {
  for (const auto& dims : kLattices)
    for (const auto& procs : testing::process_grids(dims, testing::world_size())) {
      SCOPED_TRACE("grid " + grid_name(procs));
      Geometry g(dims, procs, MPI_COMM_WORLD);
      DistributedFft fft(g);
      f(g, fft);
    }
}

TEST(DistributedFft, MatchesNaiveDftOnEveryGrid) {
  for (const auto& dims : kLattices) {
    double worst_real = 0, worst_complex = 0;
    const auto grids = testing::process_grids(dims, testing::world_size());
    for (const auto& procs : grids) {
      SCOPED_TRACE("grid " + grid_name(procs));
      Geometry g(dims, procs, MPI_COMM_WORLD);
      DistributedFft fft(g);

      // Real input, forward.
      ComplexField spectrum;
      fft.forward(test_field(g), spectrum);
      const std::vector<double> x = gather_exact(g, pack_interior(g, test_field(g)));
      const std::vector<Complex> expect =
          naive_dft(g, std::vector<Complex>(x.begin(), x.end()), -1);
      const double real_dev = max_diff(gather_exact(g, spectrum), expect) / max_abs(expect);
      EXPECT_LT(real_dev, 1e-12);
      worst_real = std::max(worst_real, real_dev);

      // Complex input, forward and inverse (sign +1, 1/V).
      const ComplexField c = test_complex(g);
      const std::vector<Complex> c_global = gather_exact(g, c);
      for (int sign : {-1, +1}) {
        ComplexField data = c;
        std::vector<Complex> want = naive_dft(g, c_global, sign);
        if (sign < 0) {
          fft.forward(data);
        } else {
          fft.inverse(data);
          for (Complex& z : want) z /= static_cast<double>(g.global_volume());
        }
        const double dev = max_diff(gather_exact(g, data), want) / max_abs(want);
        EXPECT_LT(dev, 1e-12) << "sign " << sign;
        worst_complex = std::max(worst_complex, dev);
      }
    }
    if (testing::world_rank() == 0 && !grids.empty())
      std::printf("  d=%zu: max deviation from naive DFT / max|x~|: real %.2e, complex %.2e\n",
                  dims.size(), worst_real, worst_complex);
  }
}

TEST(DistributedFft, RoundTripIsIdentity) {
  for_each_grid([&](const Geometry& g, DistributedFft& fft) {
    const Field x = test_field(g);
    ComplexField spectrum;
    fft.forward(x, spectrum);
    Field back = make_field(g, kHalo);
    fft.inverse(spectrum, back);
    double real_dev = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      real_dev = std::max(real_dev, std::abs(back[i] - x[i]));
    EXPECT_LT(real_dev, 1e-13);  // halo slots hold kHalo in both, so they count as 0

    const ComplexField c = test_complex(g);
    ComplexField data = c;
    fft.forward(data);
    fft.inverse(data);
    EXPECT_LT(max_diff(data, c), 1e-13);
  });
}

TEST(DistributedFft, InverseLeavesHaloUntouched) {
  Geometry g({4, 6, 8}, {}, MPI_COMM_WORLD);
  DistributedFft fft(g);
  ComplexField spectrum;
  fft.forward(test_field(g), spectrum);
  Field out = make_field(g, kHalo);
  fft.inverse(spectrum, out);
  std::vector<bool> interior(out.size(), false);
  for_each_site(g, [&](std::size_t p, std::int64_t) { interior[p] = true; });
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_TRUE(interior[i] || out[i] == kHalo) << "padded index " << i;
}

// The spectrum and the round trip on every grid equal, bit for bit, the result of one rank
// alone; since every rank count compares with the same serial result, they agree with each
// other too. Also with the exchange of split axes pipelined: chunks of at least 1 number per
// rank make the most chunks (some of them empty on some ranks), 5 fewer and uneven ones.
TEST(DistributedFft, BitwiseIndependentOfDecomposition) {
  for (const auto& dims : kLattices) {
    // Real forward and inverse, complex forward and complex inverse.
    std::vector<Complex> serial_spectrum, serial_forward, serial_inverse;
    std::vector<double> serial_back;
    if (testing::world_rank() == 0) {
      Geometry g(dims, std::vector<int>(dims.size(), 1), MPI_COMM_SELF);
      DistributedFft fft(g);
      fft.forward(test_field(g), serial_spectrum);
      Field back = make_field(g);
      fft.inverse(serial_spectrum, back);
      serial_back = pack_interior(g, back);
      serial_forward = serial_inverse = test_complex(g);
      fft.forward(serial_forward);
      fft.inverse(serial_inverse);
    }
    auto same = [](const auto& a, const auto& b) {
      return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
    };
    for (const auto& procs : testing::process_grids(dims, testing::world_size()))
      for (std::size_t chunk : {DistributedFft::kUnpipelined, std::size_t{1}, std::size_t{5}}) {
        SCOPED_TRACE("grid " + grid_name(procs) + ", chunks of " + std::to_string(chunk));
        Geometry g(dims, procs, MPI_COMM_WORLD);
        DistributedFft fft(g, chunk);
        ComplexField spectrum;
        fft.forward(test_field(g), spectrum);
        Field back = make_field(g);
        fft.inverse(spectrum, back);
        ComplexField forward = test_complex(g), inverse = forward;
        fft.forward(forward);
        fft.inverse(inverse);
        const std::vector<Complex> all = gather_exact(g, spectrum);
        const std::vector<double> all_back = gather_exact(g, pack_interior(g, back));
        const std::vector<Complex> all_forward = gather_exact(g, forward);
        const std::vector<Complex> all_inverse = gather_exact(g, inverse);
        if (testing::world_rank() != 0) continue;
        EXPECT_TRUE(same(all, serial_spectrum)) << "real forward";
        EXPECT_TRUE(same(all_back, serial_back)) << "real inverse";
        EXPECT_TRUE(same(all_forward, serial_forward)) << "complex forward";
        EXPECT_TRUE(same(all_inverse, serial_inverse)) << "complex inverse";
      }
  }
}

// The real forward transform copies the half beyond L_{d-1}/2 as conj x~(-p), so the spectrum
// is Hermitian bit for bit off the planes n_{d-1} = 0 and L_{d-1}/2 (computed there, Hermitian
// up to rounding).
TEST(DistributedFft, RealSpectrumIsHermitian) {
  for_each_grid([&](const Geometry& g, DistributedFft& fft) {
    ComplexField spectrum;
    fft.forward(test_field(g), spectrum);
    const std::vector<Complex> all = gather_exact(g, spectrum);
    const int last = g.dim() - 1, length = g.global_dims()[last];
    double plane_dev = 0;
    for (std::int64_t gi = 0; gi < g.global_volume(); ++gi) {
      const Complex mirror = std::conj(all[mirror_index(g, gi)]);
      const int n = g.global_coords(gi)[last];
      if (n == 0 || 2 * n == length)
        plane_dev = std::max(plane_dev, std::abs(all[gi] - mirror));
      else
        EXPECT_EQ(std::memcmp(&all[gi], &mirror, sizeof(Complex)), 0) << "momentum " << gi;
    }
    EXPECT_LT(plane_dev, 1e-12 * max_abs(all));
  });
}

// The real inverse reads only the half spectrum: the other momenta may hold anything.
TEST(DistributedFft, RealInverseReadsOnlyTheHalfSpectrum) {
  for_each_grid([&](const Geometry& g, DistributedFft& fft) {
    ComplexField spectrum;
    fft.forward(test_field(g), spectrum);
    ComplexField spoilt = spectrum;
    std::size_t c = 0;
    for_each_site(g, [&](std::size_t, std::int64_t gi) {
      if (!in_half(g, gi)) spoilt[c] = Complex(std::nan(""), 1e300);
      ++c;
    });
    Field want = make_field(g), got = make_field(g);
    fft.inverse(spectrum, want);
    fft.inverse(spoilt, got);
    EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(double)), 0);
  });
}

// Hermitian input only up to rounding, as the callers pass (a real field's spectrum times a
// kernel of phat^2, whose sines are even in p only up to rounding): the real inverse is the
// real part of the complex inverse up to rounding.
TEST(DistributedFft, RealInverseOfAFilteredSpectrumIsTheRealPart) {
  for_each_grid([&](const Geometry& g, DistributedFft& fft) {
    ComplexField spectrum;
    fft.forward(test_field(g), spectrum);
    const std::vector<double> p2 = lattice_momentum_squared(g);
    for (std::size_t p = 0; p < p2.size(); ++p) spectrum[p] *= 1 / (0.3 + p2[p]);
    Field real = make_field(g, kHalo);
    fft.inverse(spectrum, real);
    fft.inverse(spectrum);
    double dev = 0, scale = 0;
    std::size_t c = 0;
    for_each_site(g, [&](std::size_t p, std::int64_t) {
      dev = std::max(dev, std::abs(real[p] - spectrum[c].real()));
      scale = std::max(scale, std::abs(spectrum[c++]));
    });
    double both[2] = {dev, scale};
    MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_DOUBLE, MPI_MAX, g.comm());
    EXPECT_LT(both[0], 1e-13 * both[1]);
  });
}

TEST(DistributedFft, PlaneWaveGivesVolumeAtItsMomentum) {
  const std::vector<int> dims = {4, 6, 8}, n0 = {1, 4, 3};
  Geometry g(dims, {}, MPI_COMM_WORLD);
  DistributedFft fft(g);
  ComplexField wave;
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    const std::vector<int> x = g.global_coords(gi);
    double turns = 0;
    for (int mu = 0; mu < g.dim(); ++mu) turns += double(n0[mu] * x[mu]) / dims[mu];
    wave.push_back(std::polar(1.0, 2 * std::numbers::pi * turns));
  });
  fft.forward(wave);
  const double V = static_cast<double>(g.global_volume());
  const std::int64_t p0 = g.global_index(n0);
  std::size_t c = 0;
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    const Complex want = gi == p0 ? Complex(V, 0) : Complex(0, 0);
    EXPECT_LT(std::abs(wave[c++] - want), 1e-12 * V) << "momentum " << gi;
  });
}

TEST(DistributedFft, Parseval) {
  for_each_grid([&](const Geometry& g, DistributedFft& fft) {
    const Field x = test_field(g);
    ComplexField spectrum;
    fft.forward(x, spectrum);
    double sums[2] = {0, 0};  // sum |x|^2, sum |x~|^2
    for_each_site(g, [&](std::size_t p, std::int64_t) { sums[0] += x[p] * x[p]; });
    for (const Complex& z : spectrum) sums[1] += std::norm(z);
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, g.comm());
    EXPECT_NEAR(sums[1] / static_cast<double>(g.global_volume()), sums[0], 1e-13 * sums[0]);
  });
}

TEST(DistributedFft, LatticeMomentumSquared) {
  for (const auto& dims : kLattices) {
    for (const auto& procs : testing::process_grids(dims, testing::world_size())) {
      Geometry g(dims, procs, MPI_COMM_WORLD);
      const std::vector<double> p2 = lattice_momentum_squared(g);
      ASSERT_EQ(p2.size(), static_cast<std::size_t>(g.local_volume()));
      std::size_t c = 0;
      for_each_site(g, [&](std::size_t, std::int64_t gi) {
        const std::vector<int> n = g.global_coords(gi);
        double want = 0;
        for (int mu = 0; mu < g.dim(); ++mu) {
          const double p = 2 * std::numbers::pi * n[mu] / dims[mu];
          want += 4 * std::pow(std::sin(p / 2), 2);
        }
        EXPECT_NEAR(p2[c++], want, 1e-14) << "momentum " << gi;
      });
    }
  }
}

TEST(DistributedFft, RejectsDataOfTheWrongSize) {
  Geometry g({6, 10}, {}, MPI_COMM_WORLD);
  DistributedFft fft(g);
  ComplexField data(fft.local_size() + 1);
  EXPECT_THROW(fft.forward(data), std::invalid_argument);
  Field out = make_field(g);
  EXPECT_THROW(fft.inverse(data, out), std::invalid_argument);
  EXPECT_EQ(fft.local_size(), static_cast<std::size_t>(g.local_volume()));
}

}  // namespace
}  // namespace latdiff
