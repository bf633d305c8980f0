#include <gtest/gtest.h>

#include <cmath>

#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "observables/measurement.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

TEST(Measurement, MatchesDefinitionsOnTheGatheredField) {
  Geometry g({4, 6, 2}, {}, MPI_COMM_WORLD);
  const ActionConfig action{ActionForm::mass, 0, 0, 0.3, 0.7};
  Phi4Model model(g, action);
  Field phi = make_field(g);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { phi[p] = std::sin(1.3 * gi) + 0.2; });
  HaloExchange(g).exchange(phi);
  const Measurement m = measure(g, model, phi);
  const std::vector<double> all = testing::gather_global(g, phi);
  double sum = 0, sum2 = 0;
  for (double x : all) {
    sum += x;
    sum2 += x * x;
  }
  const double v = static_cast<double>(all.size());
  EXPECT_NEAR(m.mag, sum / v, 1e-15);
  EXPECT_NEAR(m.phi2, sum2 / v, 1e-15);
  ExactSum s = model.action(phi);
  s.allreduce(g.comm());
  EXPECT_EQ(m.action_density, s.value() / v);
}

TEST(Measurement, BitwiseIndependentOfTheProcessGrid) {
  std::vector<double> reference;
  for (const auto& procs : testing::process_grids({8, 4}, testing::world_size())) {
    Geometry g({8, 4}, procs, MPI_COMM_WORLD);
    Phi4Model model(g, ActionConfig{ActionForm::hopping, 0.3, 0.9, 0, 0});
    Field phi = make_field(g);
    for_each_site(g, [&](std::size_t p, std::int64_t gi) { phi[p] = std::cos(0.7 * gi) * 1e3; });
    HaloExchange(g).exchange(phi);
    const Measurement m = measure(g, model, phi);
    const std::vector<double> values = {m.mag, m.phi2, m.action_density};
    if (reference.empty()) reference = values;
    EXPECT_EQ(values, reference);
  }
}

}  // namespace
}  // namespace latdiff
