// Same seed => bitwise identical chains on any number of ranks and any process grid
// (DESIGN.md §7 rung 5). Rank 0 also runs the chain alone on MPI_COMM_SELF as reference.
#include <gtest/gtest.h>

#include <cstring>

#include "models/phi4.hpp"
#include "random/counter_rng.hpp"
#include "samplers/diffusion_mh.hpp"
#include "samplers/hmc.hpp"
#include "samplers/langevin.hpp"
#include "samplers/mala.hpp"
#include "samplers/metropolis.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

const ActionConfig kAction{ActionForm::hopping, 0.2, 0.8, 0, 0};

enum class Kind {
  metropolis,
  hmc,
  langevin_euler,
  langevin_lm,
  mala,
  hmc_fa,
  langevin_fa,
  mala_fa,
  diffusion_independence,
  diffusion_depth
};

struct ChainEnd {
  std::vector<double> phi;
  std::vector<double> acceptance, delta_h;
};

// Collective over comm: runs n updates from a hot start.
ChainEnd run(const std::vector<int>& dims, const std::vector<int>& procs, MPI_Comm comm, Kind kind,
             int n) {
  Geometry g(dims, procs, comm);
  Phi4Model model(g, kAction);
  Field phi = make_field(g);
  CounterRng start(5, Stream::hot_start);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    phi[p] = 2 * start.uniform(static_cast<std::uint64_t>(gi), 0) - 1;
  });
  HaloExchange(g).exchange(phi);
  ChainEnd end;
  auto record = [&](const UpdateResult& r) {
    end.acceptance.push_back(r.acceptance);
    end.delta_h.push_back(r.delta_h);
  };
  auto run_with = [&](auto&& sampler) {
    for (int i = 0; i < n; ++i) record(sampler.update(phi, i));
  };
  switch (kind) {
    case Kind::metropolis:
      run_with(Metropolis(model, g, {1.0, 2}, 42));
      break;
    case Kind::hmc:
      run_with(Hmc(model, g, {Integrator::omelyan, 1.0, 5}, 42));
      break;
    case Kind::langevin_euler:
      run_with(Langevin(model, g, {LangevinScheme::euler, 0.05}, 42));
      break;
    case Kind::langevin_lm:
      run_with(Langevin(model, g, {LangevinScheme::leimkuhler_matthews, 0.05}, 42));
      break;
    case Kind::mala:
      // Step with acceptance well inside (0, 1), so both branches occur in a short chain.
      run_with(Mala(model, g, {0.05}, 42));
      break;
    // Fourier acceleration: FFTs over lines split between ranks.
    case Kind::hmc_fa:
      run_with(Hmc(model, g, {Integrator::omelyan, 1.0, 4, true, 0.5}, 42));
      break;
    case Kind::langevin_fa:
      run_with(Langevin(model, g, {LangevinScheme::leimkuhler_matthews, 0.05, true, 1.5}, 42));
      break;
    case Kind::mala_fa:
      run_with(Mala(model, g, {0.02, true, 1.5}, 42));
      break;
    // Diffusion proposals: FFT scores at every level, a Gaussian prior, exact path weights.
    case Kind::diffusion_independence:
    case Kind::diffusion_depth: {
      NoiseSchedule schedule;
      schedule.levels = 48;
      schedule.beta_max = 10;
      const NoiseProcess noise(schedule);
      // A weakly coupled theory and the free-field score of its quadratic part, so that a
      // short chain from the hot start has accepts and rejects.
      const Phi4Model weak(g, ActionConfig{ActionForm::hopping, 0.05, 0.2, 0, 0});
      FreeFieldScore score(g, weak.couplings(), noise);
      const bool independence = kind == Kind::diffusion_independence;
      run_with(DiffusionMh(weak, g, noise, score,
                           {independence ? 0 : 4, independence ? &score : nullptr}, 42));
      break;
    }
  }
  end.phi = testing::gather_global(g, phi);
  return end;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void check(const std::vector<int>& dims, Kind kind) {
  const int rank = testing::world_rank(), size = testing::world_size();
  // Samplers that reject often get longer chains, so that the comparison sees accepts.
  const bool mala = kind == Kind::mala || kind == Kind::mala_fa;
  const bool diffusion = kind == Kind::diffusion_independence || kind == Kind::diffusion_depth;
  const int n = mala ? 20 : diffusion ? 30 : 10;
  ChainEnd serial;
  if (rank == 0) serial = run(dims, {}, MPI_COMM_SELF, kind, n);
  // Every process grid of `size` ranks that fits.
  const std::vector<std::vector<int>> grids = testing::process_grids(dims, size);
  ASSERT_FALSE(grids.empty());
  for (const auto& procs : grids) {
    ChainEnd parallel = run(dims, procs, MPI_COMM_WORLD, kind, n);
    if (rank != 0) continue;
    EXPECT_TRUE(bitwise_equal(parallel.phi, serial.phi)) << "grid starting " << procs[0];
    EXPECT_TRUE(bitwise_equal(parallel.acceptance, serial.acceptance));
    // The same NaN bits for samplers without a global accept step.
    EXPECT_TRUE(bitwise_equal(parallel.delta_h, serial.delta_h));
  }
  if (rank == 0) {
    // The chain really moved and, for HMC, both accepts and rejects occurred in 10 steps or
    // the comparison is still of a moving configuration.
    double acc = 0;
    for (double a : serial.acceptance) acc += a;
    EXPECT_GT(acc, 0);
    // MALA's chain must contain rejections too, or the accept decision is not compared.
    if (mala) {
      EXPECT_LT(acc, n);
    }
  }
}

TEST(Decomposition, MetropolisIsBitwiseIdentical2D) {
  check({8, 12}, Kind::metropolis);
}
TEST(Decomposition, MetropolisIsBitwiseIdenticalOddExtents3D) {
  check({4, 5, 4}, Kind::metropolis);
}
TEST(Decomposition, HmcIsBitwiseIdentical2D) {
  check({8, 12}, Kind::hmc);
}
TEST(Decomposition, HmcIsBitwiseIdentical4D) {
  check({4, 4, 2, 4}, Kind::hmc);
}
TEST(Decomposition, LangevinEulerIsBitwiseIdentical2D) {
  check({8, 12}, Kind::langevin_euler);
}
TEST(Decomposition, LangevinLeimkuhlerMatthewsIsBitwiseIdentical2D) {
  check({8, 12}, Kind::langevin_lm);
}
TEST(Decomposition, LangevinLeimkuhlerMatthewsIsBitwiseIdenticalOddExtents3D) {
  check({4, 5, 4}, Kind::langevin_lm);
}
TEST(Decomposition, MalaIsBitwiseIdentical2D) {
  check({8, 12}, Kind::mala);
}
TEST(Decomposition, MalaIsBitwiseIdentical4D) {
  check({4, 4, 2, 4}, Kind::mala);
}
TEST(Decomposition, FourierAcceleratedHmcIsBitwiseIdentical2D) {
  check({8, 12}, Kind::hmc_fa);
}
TEST(Decomposition, FourierAcceleratedHmcIsBitwiseIdenticalOddExtents3D) {
  check({4, 5, 4}, Kind::hmc_fa);
}
TEST(Decomposition, FourierAcceleratedLangevinIsBitwiseIdentical2D) {
  check({8, 12}, Kind::langevin_fa);
}
TEST(Decomposition, FourierAcceleratedMalaIsBitwiseIdentical2D) {
  check({8, 12}, Kind::mala_fa);
}
TEST(Decomposition, FourierAcceleratedMalaIsBitwiseIdentical4D) {
  check({4, 4, 2, 4}, Kind::mala_fa);
}

TEST(Decomposition, DiffusionIndependenceSamplerIsBitwiseIdentical2D) {
  check({4, 6}, Kind::diffusion_independence);
}

TEST(Decomposition, DiffusionDepthKernelIsBitwiseIdentical3D) {
  check({4, 6, 4}, Kind::diffusion_depth);
}

}  // namespace
}  // namespace latdiff
