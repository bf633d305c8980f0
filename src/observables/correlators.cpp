#include "observables/correlators.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "lattice/exact_sum.hpp"

namespace latdiff {

namespace {

// Collective. Exact sums of phi over the slices x_mu = k of the directions mu < ndirs, reduced
// over all ranks; slice (mu, k) is element sum_{nu < mu} L_nu + k.
std::vector<ExactSum> slice_sums(const Geometry& g, const Field& phi, int ndirs) {
  const int d = g.dim();
  std::vector<std::size_t> first(ndirs + 1, 0);
  for (int mu = 0; mu < ndirs; ++mu) first[mu + 1] = first[mu] + g.global_dims()[mu];
  std::vector<ExactSum> sums(first[ndirs]);
  const int n = g.row_length();
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    const std::vector<int> x = g.global_coords(g.row_global_start(r));
    const std::size_t p = g.row_start(r);
    for (int j = 0; j < n; ++j)
      for (int mu = 0; mu < ndirs; ++mu)
        sums[first[mu] + x[mu] + (mu == d - 1 ? j : 0)].add(phi[p + j]);
  }
  allreduce_each(sums, g.comm());
  return sums;
}

}  // namespace

LowestMomenta lowest_momenta(const Geometry& g, const Field& phi) {
  const int d = g.dim();
  const std::vector<ExactSum> sums = slice_sums(g, phi, d);
  const double v = static_cast<double>(g.global_volume());
  LowestMomenta out;
  ExactSum total;  // exact, so G(0) = V m^2 with the m of measure()
  for (int k = 0; k < g.global_dims()[0]; ++k) total += sums[k];
  const double m_times_v = total.value();
  out.g0 = m_times_v * m_times_v / v;
  std::size_t first = 0;
  for (int mu = 0; mu < d; ++mu) {
    const int L = g.global_dims()[mu];
    std::complex<double> a = 0;
    for (int k = 0; k < L; ++k)
      a += sums[first + k].value() * std::polar(1.0, -2 * std::numbers::pi * k / L);
    out.gmin.push_back(std::norm(a) / v);
    first += L;
  }
  return out;
}

std::vector<double> timeslice_correlator(const Geometry& g, const Field& phi) {
  const int L = g.global_dims()[0];
  const std::vector<ExactSum> sums = slice_sums(g, phi, 1);
  std::vector<double> s(L);
  for (int k = 0; k < L; ++k) s[k] = sums[k].value();
  const double v = static_cast<double>(g.global_volume());
  std::vector<double> c(L);
  for (int t = 0; t < L; ++t) {
    ExactSum acc;
    for (int tau = 0; tau < L; ++tau) acc.add(s[tau] * s[(tau + t) % L]);
    c[t] = acc.value() / v;
  }
  return c;
}

double second_moment_xi(double g0, double gpmin, int L) {
  const double ratio = g0 / gpmin - 1;
  if (!(ratio >= 0)) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt(ratio) / (2 * std::sin(std::numbers::pi / L));
}

double second_moment_xi(const LowestMomenta& low, const std::vector<int>& dims) {
  double sum = 0;
  int count = 0;
  for (std::size_t mu = 0; mu < dims.size(); ++mu)
    if (dims[mu] == dims[0]) {
      sum += low.gmin[mu];
      ++count;
    }
  return second_moment_xi(low.g0, sum / count, dims[0]);
}

Correlators::Correlators(const Geometry& g)
    : g_(g), fft_(g), power_(static_cast<std::size_t>(g.local_volume())) {
  // Number of momenta per n^2, built up one direction at a time: the bins and their counts
  // are known on every rank without enumerating the lattice.
  auto signed_square = [](int n, int L) -> std::int64_t {
    const std::int64_t s = std::min(n, L - n);  // |s| for s in (-L/2, L/2]
    return s * s;
  };
  std::vector<std::int64_t> hist{1};
  for (int L : g.global_dims()) {
    std::vector<std::int64_t> next(hist.size() + signed_square(L / 2, L), 0);
    for (std::size_t q = 0; q < hist.size(); ++q)
      if (hist[q] != 0)
        for (int n = 0; n < L; ++n) next[q + signed_square(n, L)] += hist[q];
    hist = std::move(next);
  }
  std::vector<std::size_t> bin_of(hist.size());
  for (std::size_t q = 0; q < hist.size(); ++q)
    if (hist[q] != 0) {
      bin_of[q] = bin_n2_.size();
      bin_n2_.push_back(static_cast<std::int64_t>(q));
      bin_count_.push_back(hist[q]);
    }
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    const std::vector<int> n = g.global_coords(gi);
    std::int64_t q = 0;
    for (int mu = 0; mu < g.dim(); ++mu) q += signed_square(n[mu], g.global_dims()[mu]);
    local_bin_.push_back(bin_of[q]);
  });
}

void Correlators::local_power(const Field& phi) {
  fft_.forward(phi, spectrum_);
  const double v = static_cast<double>(g_.global_volume());
  for (std::size_t k = 0; k < power_.size(); ++k) power_[k] = std::norm(spectrum_[k]) / v;
}

std::vector<double> Correlators::two_point(const Field& phi) {
  if (g_.global_volume() > INT_MAX)
    throw std::overflow_error("Correlators::two_point: lattice too large for one gathered G(p)");
  local_power(phi);
  std::vector<double> out(static_cast<std::size_t>(g_.global_volume()), 0.0);
  std::size_t k = 0;
  for_each_site(g_, [&](std::size_t, std::int64_t gi) { out[gi] = power_[k++]; });
  // One non-zero term per element (G >= 0): the sum is an exact gather.
  MPI_Allreduce(MPI_IN_PLACE, out.data(), static_cast<int>(out.size()), MPI_DOUBLE, MPI_SUM,
                g_.comm());
  return out;
}

std::vector<double> Correlators::two_point_radial(const Field& phi) {
  local_power(phi);
  std::vector<ExactSum> sums(bin_n2_.size());
  for (std::size_t k = 0; k < power_.size(); ++k) sums[local_bin_[k]].add(power_[k]);
  allreduce_each(sums, g_.comm());
  std::vector<double> out(sums.size());
  for (std::size_t b = 0; b < sums.size(); ++b)
    out[b] = sums[b].value() / static_cast<double>(bin_count_[b]);
  return out;
}

}  // namespace latdiff
