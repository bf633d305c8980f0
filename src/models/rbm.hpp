// Restricted Boltzmann machines (DESIGN.md §2): visible units v (n_v), hidden units h (n_h),
//   binary or spin layers:  E(v, h) = -a.v - b.h - v.W h
//   Gaussian visible units: E(v, h) = sum_i (v_i - mu_i)^2 / (2 s_i^2) - sum_ij (v_i / s_i^2) W_ij
//   h_j
//                                     - b.h   (Cho-Ilin-Raiko; mu = visible_bias)
// with binary units in {0, 1} and spin units in {-1, +1}. Summing out the hidden layer gives
// the free energy F(v) = [visible part] - sum_j log sum_{h_j} exp(c_j h_j), c = b + W^T v'
// (v' = v, or v_i / s_i^2 for Gaussian units), so p(v) = exp(-F(v)) / Z.
//
// The visible layer is distributed: each rank holds the values of its units (a lattice's
// interior sites, or a block of a plain vector; VisibleLayout) and works on their rows of W.
// The parameters and the hidden layer are replicated. Hidden inputs c are exact sums over all
// visible units (lattice/exact_sum.hpp), so every result is bitwise the same on any number of
// ranks. Functions marked collective must be called on every rank of the layout's communicator.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lattice/geometry.hpp"

namespace latdiff {

enum class RbmUnits { binary, spin, gaussian };  // gaussian: visible layer only

std::string to_string(RbmUnits u);

struct RbmParameters {
  RbmUnits visible_units = RbmUnits::binary;
  RbmUnits hidden_units = RbmUnits::binary;
  std::int64_t n_visible = 0, n_hidden = 0;
  std::vector<double> weights;        // W, n_visible x n_hidden, row-major (global)
  std::vector<double> visible_bias;   // a (Gaussian units: the mean mu)
  std::vector<double> hidden_bias;    // b
  std::vector<double> visible_sigma;  // Gaussian units: s_i > 0; empty otherwise

  // Throws std::invalid_argument naming the first inconsistency (sizes, unit kinds, s_i).
  void check() const;
};

// Which visible units this rank holds: their global indices, in local order.
struct VisibleLayout {
  std::int64_t global_size = 0;
  std::vector<std::int64_t> global_index;
  MPI_Comm comm = MPI_COMM_NULL;

  // Collective. Contiguous blocks of a plain vector of n units, in rank order.
  static VisibleLayout blocks(std::int64_t n, MPI_Comm comm);
  // The interior sites of a lattice in for_each_site order, indexed by global site.
  static VisibleLayout lattice(const Geometry& g);
};

class Rbm {
 public:
  // p is the whole model, the same on every rank; throws std::invalid_argument when it is
  // inconsistent or its n_visible is not the layout's size.
  Rbm(const RbmParameters& p, VisibleLayout layout);

  const RbmParameters& parameters() const { return p_; }
  const VisibleLayout& layout() const { return layout_; }
  std::size_t local_visible() const { return layout_.global_index.size(); }

  // Collective. c_j = b_j + sum_i v'_i W_ij for this rank's visible values v (local order),
  // exact and replicated.
  std::vector<double> hidden_input(std::span<const double> v) const;
  // Local. The input of each local visible unit given h: a_i + (W h)_i, or for Gaussian units
  // the mean mu_i + (W h)_i of p(v_i | h).
  std::vector<double> visible_input(std::span<const double> h) const;

  // Collective. F(v) and E(v, h) (h replicated).
  double free_energy(std::span<const double> v) const;
  double energy(std::span<const double> v, std::span<const double> h) const;
  // Replicated: the hidden layer's part of F, -sum_j log sum_{h_j} exp(c_j h_j), given c.
  double hidden_free_energy(std::span<const double> c) const;
  // Replicated: E[h_j | v] given the hidden inputs c: sigma(c_j) (binary) or tanh(c_j) (spin).
  std::vector<double> hidden_mean(std::span<const double> c) const;
  // Collective. out_i = -dF/dv_i of this rank's visible units, F continued to real v:
  // a_i + (W m)_i (binary, spin) or ((W m)_i - (v_i - mu_i)) / s_i^2 (Gaussian), m = E[h | v].
  void force(std::span<const double> v, std::span<double> out) const;

  // Probability that a unit of the given kind is +1 (binary: 1) given its input x.
  static double probability_on(RbmUnits units, double x);
  // Expected value of a unit given its input x: sigma(x) (binary), tanh(x) (spin), or x itself
  // (Gaussian, x the mean).
  static double mean_value(RbmUnits units, double x);
  // log sum_{u} exp(x u) over the unit's two states: softplus(x) or log(2 cosh x).
  static double log_partition(RbmUnits units, double x);
  // The unit's "on" and "off" values: 1/0 (binary) or +1/-1 (spin).
  static double on_value(RbmUnits) { return 1.0; }
  static double off_value(RbmUnits units) { return units == RbmUnits::spin ? -1.0 : 0.0; }

  // Row of W of local visible unit i (n_hidden values).
  std::span<const double> row(std::size_t i) const {
    const auto n = static_cast<std::size_t>(p_.n_hidden);
    return {p_.weights.data() + static_cast<std::size_t>(layout_.global_index[i]) * n, n};
  }
  // a_i (Gaussian units: mu_i) of local visible unit i.
  double bias(std::size_t i) const { return p_.visible_bias[layout_.global_index[i]]; }
  // s_i of Gaussian local unit i.
  double sigma(std::size_t i) const { return p_.visible_sigma[layout_.global_index[i]]; }
  // v'_i: v_i, or v_i / s_i^2 for Gaussian units (local unit i).
  double coupled(std::size_t i, double v) const {
    return p_.visible_units == RbmUnits::gaussian ? v * inv_var_[i] : v;
  }

 private:
  RbmParameters p_;
  VisibleLayout layout_;
  double row_dot(std::size_t i, std::span<const double> h) const;  // (W h)_i, local unit i
  std::vector<double> inv_var_;  // 1 / s_i^2 of the local units (Gaussian)
};

}  // namespace latdiff
