// Exact (order-independent) summation of doubles.
//
// A long fixed-point accumulator covering the whole double range: every addition is exact,
// so a global sum is bitwise the same whatever the order of terms and however the lattice is
// split over ranks. This is what makes HMC accept/reject decisions and observables identical
// on 1, 2 or 4 ranks (DESIGN.md §5).
//
// Non-finite terms are counted by kind (+inf, -inf, NaN) instead of being added, so a sum with
// one is just as order independent: value() is +inf or -inf when only infinities of that sign
// occurred, and the canonical quiet NaN when a NaN or infinities of both signs did. The counts
// travel in the same collective as the digits, so a non-finite sum is seen alike on every rank.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <vector>

namespace latdiff {

class ExactSum {
 public:
  void add(double x);
  // Adds n x (n >= 0) exactly, as n calls of add(x) would: as the two parts of the FMA
  // error-free product when that is exact, else by n additions.
  void add_times(double x, std::int64_t n);
  ExactSum& operator+=(double x) {
    add(x);
    return *this;
  }
  ExactSum& operator+=(const ExactSum& other);
  ExactSum& operator-=(const ExactSum& other);
  // The exact sum rounded to the nearest double (+-inf when it overflows), or the non-finite
  // result above when a term was not finite.
  double value() const;
  // Collective over comm: replaces this rank's partial sum by the sum over all ranks.
  void allreduce(MPI_Comm comm);

 private:
  // Limb k holds a multiple of 2^(32k - kBias); 32-bit digits in 64-bit words leave headroom
  // for 2^30 additions between carry normalisations.
  static constexpr int kLimbBits = 32;
  static constexpr int kBias = 1074 + 64;
  static constexpr int kLimbs = (2 * 1024 + 1074 + 128) / kLimbBits + 2;
  enum NonFinite { kPlusInf, kMinusInf, kNan, kNonFiniteKinds };
  void normalize();
  std::array<std::int64_t, kLimbs> limb_{};
  std::array<std::int64_t, kNonFiniteKinds> non_finite_{};  // terms of each non-finite kind
  std::uint32_t pending_ = 0;                               // additions since normalisation
};

// Collective: exact global sum of per-rank values.
double global_sum(double local, MPI_Comm comm);

// Collective over comm: replaces every sums[i] by the sum of sums[i] over all ranks (the
// vector has the same length on every rank), exactly and in one MPI call, so per-bin and
// per-slice sums stay decomposition independent without one collective per bin.
void allreduce_each(std::vector<ExactSum>& sums, MPI_Comm comm);

}  // namespace latdiff
