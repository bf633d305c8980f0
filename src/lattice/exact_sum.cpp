#include "lattice/exact_sum.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace latdiff {

void ExactSum::add_times(double x, std::int64_t n) {
  const double dn = static_cast<double>(n);
  const double p = x * dn;
  // x * dn = p + fma(x, dn, -p) exactly when dn is exact and nothing overflows or underflows.
  if (n >= 0 && n < (std::int64_t{1} << 53) && std::isfinite(p) &&
      (x == 0 || std::abs(x) >= 0x1p-900)) {
    add(p);
    add(std::fma(x, dn, -p));
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) add(x);
}

void ExactSum::add(double x) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const int biased_exp = static_cast<int>((bits >> 52) & 0x7ff);
  if (biased_exp == 0x7ff) {
    ++non_finite_[std::isnan(x) ? kNan : x > 0 ? kPlusInf : kMinusInf];
    return;
  }
  std::uint64_t mantissa = bits & ((std::uint64_t{1} << 52) - 1);
  // x = mantissa * 2^(e - 1075) for normals (with the hidden bit), 2^-1074 units for subnormals.
  int e = biased_exp;
  if (biased_exp != 0)
    mantissa |= std::uint64_t{1} << 52;
  else
    e = 1;
  if (mantissa == 0) return;
  add_bits(mantissa, (bits >> 63) != 0, e - 1075 + kBias);
}

void ExactSum::add_bits(std::uint64_t magnitude, bool negative, int pos) {
  const int k = pos / kLimbBits;
  const int shift = pos % kLimbBits;
  const unsigned __int128 wide = static_cast<unsigned __int128>(magnitude) << shift;
  const std::int64_t sign = negative ? -1 : 1;
  const std::uint64_t mask = 0xffffffffu;
  limb_[k] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(wide) & mask);
  limb_[k + 1] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(wide >> 32) & mask);
  limb_[k + 2] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(wide >> 64) & mask);
  if (++pending_ >= (1u << 30)) normalize();
}

namespace {

// Rump, Ogita and Oishi's error-free extraction onto the grids of units m[j] / (1.5 * 2^52):
// for |r| < 2^51 units, r + m[j] rounds r to a multiple of the unit in the binade of m[j],
// whose bits exceed m[j]'s by the number of units, and the rounded part is subtracted
// exactly. Adds each grid's bits to count[j] (modulo 2^64) and returns the remainder.
inline double extract(double r, const double (&m)[3], std::uint64_t (&count)[3]) {
  for (int j = 0; j < 3; ++j) {
    const double t = r + m[j];
    count[j] += std::bit_cast<std::uint64_t>(t);
    r -= t - m[j];
  }
  return r;
}

}  // namespace

void ExactSum::add_range(std::span<const double> x) {
  for (std::size_t b = 0; b < x.size(); b += kBlock)
    add_block(x.data() + b, std::min(kBlock, x.size() - b));
}

void ExactSum::add_block(const double* x, std::size_t n) {
  // The largest magnitude, compared as bits: they order like magnitudes, non-finite last.
  std::int64_t top = 0;
  for (std::size_t i = 0; i < n; ++i)
    top =
        std::max(top, std::bit_cast<std::int64_t>(x[i]) & std::numeric_limits<std::int64_t>::max());
  const int biased_exp = static_cast<int>(top >> 52);
  // Beyond 2^1021 the coarsest magic number would overflow (and infinities have no bits).
  if (biased_exp > 2043) {
    for (std::size_t i = 0; i < n; ++i) add(x[i]);
    return;
  }
  // |x| < 2^e, so every term is below 2^50 units of the coarsest grid 2^(e - 50); e >= -924
  // keeps the finest grid, 2^(e - 150), at or above denorm_min.
  const int e = std::max(std::max(biased_exp, 1) - 1022, -924);
  double m[3];
  for (int j = 0; j < 3; ++j) m[j] = std::ldexp(1.5, e + 2 - 50 * j);
  std::uint64_t count[3] = {0, 0, 0};
  std::uint64_t rest = 0;
  for (std::size_t i = 0; i < n; ++i)
    rest |= std::bit_cast<std::uint64_t>(extract(x[i], m, count)) << 1;  // any bit but the sign
  // The counts are below n 2^51 in magnitude, so their int64 values are exact modulo 2^64.
  for (int j = 0; j < 3; ++j) {
    const auto c = static_cast<std::int64_t>(count[j] - n * std::bit_cast<std::uint64_t>(m[j]));
    const std::uint64_t magnitude =
        c < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(c) : static_cast<std::uint64_t>(c);
    if (magnitude != 0) add_bits(magnitude, c < 0, e - 50 * (j + 1) + kBias);
  }
  if (rest == 0) return;
  // Terms with bits below the finest grid (rare: far smaller than the block's largest).
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t ignored[3] = {0, 0, 0};
    const double r = extract(x[i], m, ignored);
    if (r != 0) add(r);
  }
}

void ExactSum::normalize() {
  // Carry so that every limb but the top lies in [0, 2^32); arithmetic shift floors.
  for (int k = 0; k + 1 < kLimbs; ++k) {
    const std::int64_t carry = limb_[k] >> kLimbBits;
    limb_[k] -= carry * (std::int64_t{1} << kLimbBits);
    limb_[k + 1] += carry;
  }
  pending_ = 0;
}

ExactSum& ExactSum::operator+=(const ExactSum& other) {
  ExactSum o = other;
  o.normalize();
  normalize();
  for (int k = 0; k < kLimbs; ++k) limb_[k] += o.limb_[k];
  pending_ = 1;
  for (int k = 0; k < kNonFiniteKinds; ++k) non_finite_[k] += other.non_finite_[k];
  return *this;
}

ExactSum& ExactSum::operator-=(const ExactSum& other) {
  ExactSum o = other;
  o.normalize();
  normalize();
  for (int k = 0; k < kLimbs; ++k) limb_[k] -= o.limb_[k];
  pending_ = 1;
  // Subtracting an infinity adds one of the opposite sign.
  non_finite_[kPlusInf] += other.non_finite_[kMinusInf];
  non_finite_[kMinusInf] += other.non_finite_[kPlusInf];
  non_finite_[kNan] += other.non_finite_[kNan];
  return *this;
}

double ExactSum::value() const {
  const bool plus = non_finite_[kPlusInf] > 0, minus = non_finite_[kMinusInf] > 0;
  if (non_finite_[kNan] > 0 || (plus && minus)) return std::numeric_limits<double>::quiet_NaN();
  if (plus || minus)
    return plus ? std::numeric_limits<double>::infinity()
                : -std::numeric_limits<double>::infinity();
  ExactSum n = *this;
  n.normalize();
  // Work with the magnitude so that all limbs are non-negative digits; the representation is
  // canonical after normalisation, so the rounded result is deterministic.
  const bool negative = n.limb_[kLimbs - 1] < 0;
  if (negative) {
    for (auto& l : n.limb_) l = -l;
    n.normalize();
  }
  int top = kLimbs - 1;
  while (top > 0 && n.limb_[top] == 0) --top;
  // Digits summed from the most significant down: the first three decide the double.
  double result = 0.0;
  for (int k = top; k >= 0 && k >= top - 3; --k)
    result += std::ldexp(static_cast<double>(n.limb_[k]), k * kLimbBits - kBias);
  return negative ? -result : result;
}

void ExactSum::allreduce(MPI_Comm comm) {
  normalize();
  // Digits and non-finite counts in one message: one collective per global sum.
  std::array<std::int64_t, kLimbs + kNonFiniteKinds> words;
  std::copy(limb_.begin(), limb_.end(), words.begin());
  std::copy(non_finite_.begin(), non_finite_.end(), words.begin() + kLimbs);
  MPI_Allreduce(MPI_IN_PLACE, words.data(), static_cast<int>(words.size()), MPI_INT64_T, MPI_SUM,
                comm);
  std::copy(words.begin(), words.begin() + kLimbs, limb_.begin());
  std::copy(words.begin() + kLimbs, words.end(), non_finite_.begin());
  pending_ = 1;
}

double global_sum(double local, MPI_Comm comm) {
  ExactSum s;
  s.add(local);
  s.allreduce(comm);
  return s.value();
}

namespace {

// An ExactSum is moved as opaque bytes and combined with its own exact operator+=, so the
// reduced value is the exact total whatever tree MPI uses.
static_assert(std::is_trivially_copyable_v<ExactSum>);

void add_exact_sums(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const ExactSum*>(in);
  auto* b = static_cast<ExactSum*>(inout);
  for (int i = 0; i < *len; ++i) b[i] += a[i];
}

}  // namespace

void allreduce_each(std::vector<ExactSum>& sums, MPI_Comm comm) {
  if (sums.size() > static_cast<std::size_t>(INT_MAX))
    throw std::overflow_error("allreduce_each: too many sums for one MPI call");
  MPI_Datatype type;
  MPI_Type_contiguous(static_cast<int>(sizeof(ExactSum)), MPI_BYTE, &type);
  MPI_Type_commit(&type);
  MPI_Op op;
  MPI_Op_create(&add_exact_sums, /*commute=*/1, &op);
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), type, op, comm);
  MPI_Op_free(&op);
  MPI_Type_free(&type);
}

}  // namespace latdiff
