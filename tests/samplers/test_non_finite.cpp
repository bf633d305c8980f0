// Proposals whose action or energy change is not finite (a step far too large, or one site far
// out) are rejected by HMC, MALA and Metropolis: the field stays bitwise unchanged and HMC and
// MALA report delta_h = +inf (update_result.hpp), on every rank and every process grid, also
// when the overflow happens on one rank only. Unadjusted Langevin, which cannot reject, throws
// the same error on every rank.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "models/phi4.hpp"
#include "random/counter_rng.hpp"
#include "samplers/hmc.hpp"
#include "samplers/langevin.hpp"
#include "samplers/mala.hpp"
#include "samplers/metropolis.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Hopping form with lambda > 1/2: the phi^2 coefficient 1 - 2 lambda is negative, so an
// overflowing phi^2 gives -inf + inf = NaN rather than +inf.
const ActionConfig kAction{ActionForm::hopping, 0.2, 0.9, 0, 0};
const std::vector<int> kDims = {32, 32};
// One site far out: its phi^4 term is finite, its force overflows within a step or two. It lies
// inside one rank's block for every grid of 1, 2 or 4 ranks, and far enough from the block's
// edges that what one short trajectory spreads stays there.
const std::vector<int> kFarSite = {12, 12};
constexpr double kFar = 1e60;
constexpr double kHugeStep = 1e300;

// Collective. Values in (-1, 1), and kFar at kFarSite if far_site.
Field start(const Geometry& g, bool far_site) {
  Field phi = make_field(g);
  CounterRng rng(5, Stream::hot_start);
  const std::int64_t far = testing::row_major_index(kFarSite, kDims);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    phi[p] = far_site && gi == far ? kFar : 2 * rng.uniform(static_cast<std::uint64_t>(gi), 0) - 1;
  });
  HaloExchange(g).exchange(phi);
  return phi;
}

bool bitwise_equal(const Field& a, const Field& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Collective: on how many ranks `local` is true.
int ranks_where(bool local, MPI_Comm comm) {
  int n = local ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT, MPI_SUM, comm);
  return n;
}

// Collective. For every process grid of the world's ranks: `updates` updates of the sampler
// that make(model, g) returns, from start(g, far_site). Every one must be rejected and leave
// phi (halos included) bitwise unchanged; check(result) tests the rest of the result.
template <class Make, class Check>
void expect_all_rejected(bool far_site, Make make, Check check, int updates = 3) {
  const auto grids = testing::process_grids(kDims, testing::world_size());
  ASSERT_FALSE(grids.empty());
  for (const auto& procs : grids) {
    Geometry g(kDims, procs, MPI_COMM_WORLD);
    Phi4Model model(g, kAction);
    auto sampler = make(model, g);
    Field phi = start(g, far_site);
    const Field phi0 = phi;
    for (int i = 0; i < updates; ++i) {
      const UpdateResult r = sampler.update(phi, static_cast<std::uint64_t>(i));
      EXPECT_EQ(r.acceptance, 0.0) << "update " << i << ", grid starting " << procs[0];
      check(r);
    }
    EXPECT_TRUE(bitwise_equal(phi, phi0)) << "grid starting " << procs[0];
  }
}

void expect_infinite_delta_h(const UpdateResult& r) {
  EXPECT_EQ(r.delta_h, kInf);
}

TEST(NonFinite, AcceptRejectNeverAcceptsANonFiniteDeltaH) {
  // -inf would pass "delta_h <= 0"; NaN and +inf fail both tests of min(1, exp(-delta_h)).
  for (double dh : {-kInf, kInf, std::numeric_limits<double>::quiet_NaN()}) {
    const UpdateResult r = accept_reject(dh, 0.0);
    EXPECT_EQ(r.acceptance, 0.0) << dh;
    EXPECT_EQ(r.delta_h, kInf) << dh;
  }
  EXPECT_EQ(accept_reject(-1.0, 0.99).acceptance, 1.0);
  EXPECT_EQ(accept_reject(1.0, 0.3).acceptance, 1.0);  // exp(-1) = 0.37
  EXPECT_EQ(accept_reject(1.0, 0.4).acceptance, 0.0);
  EXPECT_EQ(accept_reject(1.0, 0.4).delta_h, 1.0);
}

TEST(NonFinite, FarSiteOverflowsOnOneRankOnly) {
  // The premise of the far-site tests: after a trajectory from start(g, true), the energy of
  // exactly one rank is non-finite, so a verdict taken per rank would differ between ranks.
  for (const auto& procs : testing::process_grids(kDims, testing::world_size())) {
    Geometry g(kDims, procs, MPI_COMM_WORLD);
    Phi4Model model(g, kAction);
    Hmc hmc(model, g, {Integrator::omelyan, 1.0, 1}, 3);
    Field phi = start(g, true), pi = make_field(g);
    EXPECT_TRUE(std::isfinite(hmc.hamiltonian(phi, pi).value()));
    hmc.integrate(phi, pi);
    EXPECT_EQ(ranks_where(!std::isfinite(hmc.hamiltonian(phi, pi).value()), g.comm()), 1)
        << "grid starting " << procs[0];
  }
}

TEST(NonFinite, HmcRejectsOverflowingTrajectories) {
  for (const HmcParams& params : {HmcParams{Integrator::omelyan, kHugeStep, 2},
                                  HmcParams{Integrator::leapfrog, kHugeStep, 2, true, 0.5}}) {
    expect_all_rejected(
        false, [&](const Phi4Model& m, const Geometry& g) { return Hmc(m, g, params, 11); },
        expect_infinite_delta_h);
  }
  // Overflow on one rank only: the verdict is still collective.
  expect_all_rejected(
      true,
      [](const Phi4Model& m, const Geometry& g) {
        return Hmc(m, g, {Integrator::omelyan, 1.0, 1}, 11);
      },
      expect_infinite_delta_h);
}

TEST(NonFinite, MalaRejectsOverflowingProposals) {
  for (const MalaParams& params : {MalaParams{kHugeStep}, MalaParams{kHugeStep, true, 1.5}}) {
    expect_all_rejected(
        false, [&](const Phi4Model& m, const Geometry& g) { return Mala(m, g, params, 11); },
        expect_infinite_delta_h);
  }
  // The proposal overflows at the far site alone.
  expect_all_rejected(
      true, [](const Phi4Model& m, const Geometry& g) { return Mala(m, g, {0.01}, 11); },
      expect_infinite_delta_h);
}

TEST(NonFinite, MetropolisRejectsNanAndInfiniteActionChanges) {
  // Proposals |phi'| ~ 1e159: phi'^2 overflows. Each coupling set's premise is checked first.
  constexpr double kStep = 1e160;
  for (const ActionConfig& action : {kAction, ActionConfig{ActionForm::hopping, 0.2, 0.25, 0, 0}}) {
    Geometry g(kDims, {}, MPI_COMM_WORLD);
    Phi4Model model(g, action);
    Field phi = start(g, false);
    double neighbour_sum = 0;
    model.local_environments(phi, g.row_start(0), 1, &neighbour_sum);
    const double ds = model.local_action_change(neighbour_sum, phi[g.row_start(0)], 0.3 * kStep);
    if (action.lambda > 0.5)
      EXPECT_TRUE(std::isnan(ds)) << ds;
    else
      EXPECT_EQ(ds, kInf);
  }
  for (const ActionConfig& action : {kAction, ActionConfig{ActionForm::hopping, 0.2, 0.25, 0, 0}}) {
    for (const auto& procs : testing::process_grids(kDims, testing::world_size())) {
      Geometry g(kDims, procs, MPI_COMM_WORLD);
      Phi4Model model(g, action);
      Metropolis metropolis(model, g, {kStep, 2}, 11);
      Field phi = start(g, false);
      const Field phi0 = phi;
      for (std::uint64_t i = 0; i < 3; ++i) {
        const UpdateResult r = metropolis.update(phi, i);
        EXPECT_EQ(r.acceptance, 0.0);
        EXPECT_TRUE(std::isnan(r.delta_h));  // no global accept step
      }
      EXPECT_TRUE(bitwise_equal(phi, phi0));
    }
  }
}

TEST(NonFinite, LangevinThrowsOnEveryRank) {
  // Update 1 leaves |phi| ~ 1e300 (huge step) or ~ 1e178 at the far site (the overflow then
  // is on one rank only); update 2 overflows, and every rank must throw there.
  const std::vector<std::pair<LangevinParams, bool>> cases = {
      {{LangevinScheme::euler, kHugeStep}, false},
      {{LangevinScheme::leimkuhler_matthews, kHugeStep}, false},
      {{LangevinScheme::euler, kHugeStep, true, 1.5}, false},
      {{LangevinScheme::euler, 0.01}, true},
      {{LangevinScheme::leimkuhler_matthews, 0.01}, true}};
  for (const auto& procs : testing::process_grids(kDims, testing::world_size())) {
    Geometry g(kDims, procs, MPI_COMM_WORLD);
    Phi4Model model(g, kAction);
    for (const auto& [params, far_site] : cases) {
      Langevin langevin(model, g, params, 11);
      Field phi = start(g, far_site);
      langevin.update(phi, 0);
      testing::expect_error<std::runtime_error>([&] { langevin.update(phi, 1); },
                                                {"sampler.langevin_step", "update 2 "});
    }
  }
}

}  // namespace
}  // namespace latdiff
