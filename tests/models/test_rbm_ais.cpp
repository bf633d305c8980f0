// Annealed importance sampling of log Z (models/rbm_ais.hpp) against the exact value by
// enumeration, on a model with 20 hidden units: within three error bars, with an error bar
// that shrinks as the temperatures get denser; and bitwise the same on every number of ranks.
#include <gtest/gtest.h>

#include <cmath>

#include "models/rbm_ais.hpp"
#include "models/rbm_partition.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/random_rbm.hpp"

namespace latdiff {
namespace {

TEST(RbmAis, AgreesWithExactLogZAndTightensWithMoreTemperatures) {
  // Statistical: on one rank (the chains are bitwise the same on any number, tested below).
  if (testing::world_size() > 1) GTEST_SKIP() << "statistical test runs on one rank";
  for (RbmUnits units : {RbmUnits::binary, RbmUnits::spin, RbmUnits::gaussian}) {
    const RbmUnits hidden = units == RbmUnits::gaussian ? RbmUnits::binary : units;
    const Rbm rbm(testing::random_rbm(units, hidden, 12, 20, 31, 0.6),
                  VisibleLayout::blocks(12, MPI_COMM_WORLD));
    const double exact = exact_log_partition(rbm);
    const AisResult coarse = ais_log_partition(rbm, 100, 30, 1);
    const AisResult fine = ais_log_partition(rbm, 100, 600, 2);
    for (const AisResult& r : {coarse, fine}) {
      EXPECT_LT(std::abs(r.log_z - exact), 3 * r.error + 1e-12)
          << to_string(units) << ": AIS " << r.log_z << " +- " << r.error << ", exact " << exact;
      EXPECT_GT(r.error, 0);
    }
    EXPECT_LT(fine.error, 0.5 * coarse.error) << coarse.error << " -> " << fine.error;
    // The base model alone is far off: AIS did the work.
    EXPECT_GT(std::abs(fine.log_z_base - exact), 20 * fine.error);
  }
}

TEST(RbmAis, BitwiseTheSameOnEveryNumberOfRanks) {
  const RbmParameters p = testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 23, 9, 33);
  const Rbm split(p, VisibleLayout::blocks(23, MPI_COMM_WORLD));
  const Rbm whole(p, VisibleLayout::blocks(23, MPI_COMM_SELF));
  const AisResult a = ais_log_partition(split, 5, 20, 7), b = ais_log_partition(whole, 5, 20, 7);
  EXPECT_EQ(a.log_z, b.log_z);
  EXPECT_EQ(a.error, b.error);
}

TEST(RbmAis, RefusesWhatItCannotDo) {
  const RbmParameters p = testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 3, 2, 1);
  EXPECT_THROW(ais_log_partition(Rbm(p, VisibleLayout::blocks(3, MPI_COMM_WORLD)), 1, 10, 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace latdiff
