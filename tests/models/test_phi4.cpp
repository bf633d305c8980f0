#include <gtest/gtest.h>

#include <cmath>

#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "random/counter_rng.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

void fill_random(const Geometry& g, Field& phi, std::uint64_t seed) {
  CounterRng rng(seed, Stream::hot_start);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    phi[p] = 2 * rng.uniform(static_cast<std::uint64_t>(gi), 0) - 1;
  });
  HaloExchange(g).exchange(phi);
}

double global_action(const Geometry& g, const Phi4Model& m, const Field& phi) {
  ExactSum s = m.action(phi);
  s.allreduce(g.comm());
  return s.value();
}

// Direct transcription of the DESIGN.md formulas on the gathered global field (no halos).
double reference_action(const Geometry& g, const std::vector<double>& phi, const ActionConfig& a) {
  const std::vector<int>& L = g.global_dims();
  const int d = g.dim();
  double s = 0;
  for (std::size_t i = 0; i < phi.size(); ++i) {
    const std::vector<int> x = g.global_coords(static_cast<std::int64_t>(i));
    for (int mu = 0; mu < d; ++mu) {
      std::vector<int> y = x;
      y[mu] = (y[mu] + 1) % L[mu];
      std::size_t j = 0;
      for (int nu = 0; nu < d; ++nu) j = j * L[nu] + y[nu];
      s += a.form == ActionForm::hopping ? -2 * a.kappa * phi[i] * phi[j]
                                         : 0.5 * (phi[j] - phi[i]) * (phi[j] - phi[i]);
    }
    const double p2 = phi[i] * phi[i];
    s += a.form == ActionForm::hopping ? p2 + a.lambda * (p2 - 1) * (p2 - 1)
                                       : 0.5 * a.m2 * p2 + 0.25 * a.g * p2 * p2;
  }
  return s;
}

const ActionConfig kHopping{ActionForm::hopping, 0.22, 0.7, 0, 0};
const ActionConfig kMass{ActionForm::mass, 0, 0, -0.8, 1.3};

TEST(Phi4, ActionMatchesDefinitionInBothForms) {
  for (const auto& dims : std::vector<std::vector<int>>{{8}, {4, 6}, {4, 2, 4}, {2, 4, 2, 4}}) {
    Geometry g(dims, {}, MPI_COMM_WORLD);
    Field phi = make_field(g);
    fill_random(g, phi, 3);
    for (const auto& a : {kHopping, kMass}) {
      Phi4Model m(g, a);
      EXPECT_NEAR(global_action(g, m, phi), reference_action(g, testing::gather_global(g, phi), a),
                  1e-11);
    }
  }
}

TEST(Phi4, HoppingAndMassFormsAgreeUnderTheConversion) {
  const std::vector<int> dims = {4, 4, 4};
  Geometry g(dims, {}, MPI_COMM_WORLD);
  const double kappa = kHopping.kappa, lambda = kHopping.lambda;
  const ActionConfig mass{ActionForm::mass, 0, 0, (1 - 2 * lambda) / kappa - 2 * 3,
                          lambda / (kappa * kappa)};
  Field phi = make_field(g);
  fill_random(g, phi, 5);
  Field scaled = phi;
  for (double& v : scaled) v *= std::sqrt(2 * kappa);
  // S_hop(phi) = S_mass(sqrt(2 kappa) phi) + lambda V.
  EXPECT_NEAR(global_action(g, Phi4Model(g, kHopping), phi),
              global_action(g, Phi4Model(g, mass), scaled) + lambda * g.global_volume(), 1e-10);
}

TEST(Phi4, ForceIsMinusGradientByFiniteDifferences) {
  Geometry g({4, 6}, {}, MPI_COMM_WORLD);
  HaloExchange halo(g);
  for (const auto& a : {kHopping, kMass}) {
    Phi4Model m(g, a);
    Field phi = make_field(g);
    fill_random(g, phi, 9);
    Field force = make_field(g);
    m.force(phi, force);
    const std::vector<double> f_all = testing::gather_global(g, force);
    const double h = 1e-5;
    for (std::int64_t site = 0; site < g.global_volume(); ++site) {
      auto shifted = [&](double delta) {
        Field q = phi;
        for_each_site(g, [&](std::size_t p, std::int64_t gi) {
          if (gi == site) q[p] += delta;
        });
        halo.exchange(q);
        return global_action(g, m, q);
      };
      // Fourth-order central difference.
      const double grad =
          (-shifted(2 * h) + 8 * shifted(h) - 8 * shifted(-h) + shifted(-2 * h)) / (12 * h);
      EXPECT_NEAR(f_all[site], -grad, 1e-7) << "site " << site;
    }
  }
}

// Environments of a colour run are the neighbour sums of its sites, two apart.
TEST(Phi4, LocalEnvironmentsOfARun) {
  Geometry g({6, 8, 4}, {}, MPI_COMM_SELF);
  HaloExchange halo(g);
  const Phi4Model m(g, kMass);
  Field phi = make_field(g);
  fill_random(g, phi, 17);
  halo.exchange(phi);
  const std::size_t first = g.row_start(5) + 1;
  double env[2];
  m.local_environments(phi, first, 2, env);
  for (int k = 0; k < 2; ++k) {
    const std::size_t p = first + 2 * k;
    double sum = 0;
    for (int mu = 0; mu < 3; ++mu) sum += phi[p + g.stride(mu)] + phi[p - g.stride(mu)];
    EXPECT_EQ(env[k], sum);
  }
}

TEST(Phi4, LocalActionChangeMatchesActionDifference) {
  Geometry g({4, 4}, {}, MPI_COMM_WORLD);
  HaloExchange halo(g);
  for (const auto& a : {kHopping, kMass}) {
    Phi4Model m(g, a);
    Field phi = make_field(g);
    fill_random(g, phi, 13);
    const double s0 = global_action(g, m, phi);
    for (std::int64_t site = 0; site < g.global_volume(); ++site) {
      double local = 0;
      Field q = phi;
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        if (gi != site) return;
        double neighbour_sum = 0;
        m.local_environments(phi, p, 1, &neighbour_sum);
        local = m.local_action_change(neighbour_sum, phi[p], phi[p] + 0.37);
        q[p] += 0.37;
      });
      halo.exchange(q);
      const double change = global_sum(local, g.comm());
      EXPECT_NEAR(change, global_action(g, m, q) - s0, 1e-11);
    }
  }
}

}  // namespace
}  // namespace latdiff
