// Two-point functions of DESIGN.md §1: G(p) for every momentum (or radially binned), the
// zero-momentum time-slice correlator C(t), G at the lowest momenta and the second-moment
// correlation length xi_2.
//
// Conventions: phi~(p) = sum_x e^{-ip.x} phi_x, p_mu = 2 pi n_mu / L_mu, G(p) = |phi~(p)|^2 / V
// (per configuration; its average is DESIGN.md's G(p)); time is dimension 0.
//
// Every result is identical on every rank and bitwise independent of the process grid: global
// sums are exact (ExactSum), the FFT is decomposition independent (distributed_fft.hpp), and
// whatever is computed from reduced values is computed in a fixed order on every rank.
#pragma once

#include <cstdint>
#include <vector>

#include "fft/distributed_fft.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

// G at p = 0 and at the lowest non-zero momentum of every direction, from exact slice sums
// S_mu(k) = sum_{x: x_mu = k} phi_x (no FFT): G(p_min e_mu) = |sum_k e^{-2 pi i k/L_mu} S_mu(k)|^2
// / V.
struct LowestMomenta {
  double g0 = 0;             // G(0) = V m^2 (m from the exact total)
  std::vector<double> gmin;  // gmin[mu] = G(p_min e_mu), p_min = 2 pi / L_mu
};

// Collective. Halos of phi are ignored.
LowestMomenta lowest_momenta(const Geometry& g, const Field& phi);

// Collective. Zero-momentum time-slice correlator, t = 0 .. L_0 - 1:
//   C(t) = (1/V) sum_tau S(tau) S(tau + t),  S(tau) = sum_{x: x_0 = tau} phi_x (exact),
// tau + t periodic. Its average is C(t) = sum_{y: y_0 = t} <phi_0 phi_y> =
// (1/L_0) sum_{p_0} e^{i p_0 t} G(p_0, 0, ..., 0), and sum_t C(t) = V m^2 = G(0).
// Halos of phi are ignored.
std::vector<double> timeslice_correlator(const Geometry& g, const Field& phi);

// Second-moment correlation length xi_2 = sqrt(g0 / gpmin - 1) / (2 sin(pi / L)), for G(0) = g0
// and G(p_min) = gpmin at p_min = 2 pi / L. NaN when g0 < gpmin (possible for noisy input).
// Nonlinear: for block averages pass averaged G values, not averaged xi_2.
double second_moment_xi(double g0, double gpmin, int L);
// The estimator for a lattice `dims`: L = L_0 and gpmin the mean of gmin[mu] over the
// directions with L_mu = L_0 (all directions on a hypercubic lattice, fewer fluctuations than
// direction 0 alone).
double second_moment_xi(const LowestMomenta& low, const std::vector<int>& dims);

// G(p) for every momentum via the distributed FFT.
class Correlators {
 public:
  // Collective over g.comm(). `g` must outlive the object.
  explicit Correlators(const Geometry& g);

  // Collective. G(p) for every momentum: a global array of V values, identical on every rank,
  // in global row-major order of n = (n_0, ..., n_{d-1}), n_mu in [0, L_mu), last index
  // fastest (an HDF5 dataset of shape [L_0, ..., L_{d-1}]). Meant for d <= 2. Halos ignored.
  std::vector<double> two_point(const Field& phi);

  // Collective. Radially binned G (meant for d >= 3, defined for every d): element b is the
  // mean of G(p) over the momenta with n^2 = sum_mu s_mu^2 = radial_n2()[b], where s_mu is the
  // signed index in (-L_mu/2, L_mu/2] (s_mu = n_mu or n_mu - L_mu). Identical on every rank.
  // On lattices with unequal extents a bin mixes different |p|; bins are by n^2 all the same.
  std::vector<double> two_point_radial(const Field& phi);
  // The n^2 of every bin, ascending (only values that occur), and the momenta in each bin.
  const std::vector<std::int64_t>& radial_n2() const { return bin_n2_; }
  const std::vector<std::int64_t>& radial_count() const { return bin_count_; }

 private:
  // Collective: power_ = |phi~(p)|^2 / V on the local momenta (layout of distributed_fft.hpp).
  void local_power(const Field& phi);

  const Geometry& g_;
  DistributedFft fft_;
  ComplexField spectrum_;
  std::vector<double> power_;
  std::vector<std::int64_t> bin_n2_, bin_count_;
  std::vector<std::size_t> local_bin_;  // bin of every local momentum
};

}  // namespace latdiff
