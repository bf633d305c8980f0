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

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace latdiff {

class ExactSum {
 public:
  void add(double x);
  // Adds every term of x exactly, as add() of each would, at a few operations per term that
  // vectorise: each block's terms are split onto three grids of 50 bits below the block's
  // largest magnitude (Rump's error-free extraction) and the grid counts summed as integers;
  // the remainders of terms with bits further down, and blocks with a non-finite term or one
  // of 2^1021 or more, go through add(). Like add(), no communication.
  void add_range(std::span<const double> x);
  // Adds the n terms of each of row_count rows (n > 0), which fill_row(r, out) writes to
  // out[0..n), buffered so that fill_row's loop and add_range's vectorise: the exact sum of a
  // per-site quantity over the rows of a field, in one pass.
  template <class FillRow>
  void add_rows(std::size_t row_count, int n, FillRow&& fill_row);
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
  // Terms add_range splits as one block, so that a block's grid counts (each of magnitude
  // below 2^51) cannot overflow an int64.
  static constexpr std::size_t kBlock = 2048;
  void add_block(const double* x, std::size_t n);
  // Adds magnitude * 2^(pos - kBias) with the given sign (magnitude < 2^64, pos >= 0).
  void add_bits(std::uint64_t magnitude, bool negative, int pos);
  void normalize();
  std::array<std::int64_t, kLimbs> limb_{};
  std::array<std::int64_t, kNonFiniteKinds> non_finite_{};  // terms of each non-finite kind
  std::uint32_t pending_ = 0;                               // additions since normalisation
};

template <class FillRow>
void ExactSum::add_rows(std::size_t row_count, int n, FillRow&& fill_row) {
  const auto len = static_cast<std::size_t>(n);
  const std::size_t rows_per_fill = std::max<std::size_t>(1, kBlock / len);
  std::vector<double> terms(rows_per_fill * len);
  for (std::size_t r = 0; r < row_count; r += rows_per_fill) {
    const std::size_t rows = std::min(rows_per_fill, row_count - r);
    for (std::size_t i = 0; i < rows; ++i) fill_row(r + i, terms.data() + i * len);
    add_range(std::span<const double>(terms.data(), rows * len));
  }
}

// Collective: exact global sum of per-rank values.
double global_sum(double local, MPI_Comm comm);

// Collective over comm: replaces every sums[i] by the sum of sums[i] over all ranks (the
// vector has the same length on every rank), exactly and in one MPI call, so per-bin and
// per-slice sums stay decomposition independent without one collective per bin.
void allreduce_each(std::vector<ExactSum>& sums, MPI_Comm comm);

}  // namespace latdiff
