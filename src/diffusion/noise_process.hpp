// Discrete noise processes of the diffusion proposals (DESIGN.md §4): VE (SMLD), VP (DDPM) and
// sub-VP, each as a Gaussian Markov chain over levels i = 0 (the data) ... N,
//   q(x_i | x_{i-1}) = N(a_i x_{i-1}, v_i I),   q(x_i | x_0) = N(abar_i x_0, sbar_i^2 I),
// with abar_i = prod_{j<=i} a_j and sbar_i^2 = a_i^2 sbar_{i-1}^2 + v_i (abar_0 = 1, sbar_0 = 0):
//   VE:     a_i = 1, v_i = sigma_i^2 - sigma_{i-1}^2 (sigma_0 = 0), sigma_i geometric from
//           sigma_min (i = 1) to sigma_max (i = N), so sbar_i = sigma_i;
//   VP:     a_i = sqrt(1 - beta_i), v_i = beta_i, so abar_i^2 + sbar_i^2 = 1;
//   sub-VP: a_i = sqrt(1 - beta_i), v_i chosen so that sbar_i^2 = (1 - abar_i^2)^2, i.e.
//           v_i = beta_i (1 - (1 - beta_i) abar_{i-1}^4) > 0;
// beta_i = (beta_min + (beta_max - beta_min) (i - 1) / (N - 1)) / N, the discretisation of a
// linear beta(t) on t in [0, 1] (Song et al. 2021).
//
// The reverse kernel given a score s ~ grad log q_i at level i is
//   p(x_{i-1} | x_i) = N((x_i + v_i s) / a_i, r_i I),
// with r_i = v_i (ancestral, DDPM; the default of VP and sub-VP) or the posterior variance
// r_i = v_i sbar_{i-1}^2 / sbar_i^2 of the SMLD kernel (seed 003; the default of VE), which
// vanishes at i = 1 and is replaced there by v_1 so that every kernel has a density. Any
// positive r_i keeps a Metropolis-Hastings chain over paths exact; it only sets acceptance.
//
// Log densities are exact sums (lattice/exact_sum.hpp) of per-site terms, local to the rank:
// allreduce them, alone or with other terms, for the global value, which is then bitwise the
// same on every decomposition. Nothing here is collective.
#pragma once

#include <string>
#include <vector>

#include "io/config.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

struct NoiseSchedule {
  NoiseKind kind = NoiseKind::vp;
  int levels = 50;                          // N >= 1
  double sigma_min = 0.01, sigma_max = 10;  // VE, 0 < sigma_min < sigma_max
  double beta_min = 0.1, beta_max = 20;     // VP and sub-VP, 0 < beta_min <= beta_max < N
};

class NoiseProcess {
 public:
  // Throws std::invalid_argument naming the bad parameter (levels, sigma_*, beta_*).
  explicit NoiseProcess(const NoiseSchedule& s);
  NoiseProcess(const NoiseSchedule& s, ReverseKernel kernel);

  const NoiseSchedule& schedule() const { return schedule_; }
  ReverseKernel reverse_kernel() const { return kernel_; }
  int levels() const { return schedule_.levels; }
  // Coefficients of level i = 1 ... N (level 0 for abar = 1, sbar2 = 0).
  double a(int i) const { return a_[i]; }
  double v(int i) const { return v_[i]; }
  double abar(int i) const { return abar_[i]; }
  double sbar2(int i) const { return sbar2_[i]; }
  double reverse_variance(int i) const { return r_[i]; }

  // Interior of out = a_i x_prev + sqrt(v_i) eta: a draw of q(x_i | x_{i-1}) for white eta.
  void forward_step(const Geometry& g, int i, const Field& x_prev, const Field& eta,
                    Field& out) const;
  // Interior of out = (x_i + v_i score) / a_i + sqrt(r_i) eta: a draw of the reverse kernel.
  void reverse_step(const Geometry& g, int i, const Field& x_i, const Field& score,
                    const Field& eta, Field& out) const;

  // This rank's terms of log q(x_i | x_{i-1}).
  ExactSum log_forward(const Geometry& g, int i, const Field& x_i, const Field& x_prev) const;
  // This rank's terms of log q(x_i | x_0).
  ExactSum log_marginal(const Geometry& g, int i, const Field& x_i, const Field& x_0) const;
  // This rank's terms of log p(x_{i-1} | x_i) for the score at level i (evaluated at x_i).
  ExactSum log_reverse(const Geometry& g, int i, const Field& x_prev, const Field& x_i,
                       const Field& score) const;

 private:
  NoiseSchedule schedule_;
  ReverseKernel kernel_;
  std::vector<double> a_, v_, abar_, sbar2_, r_;  // indexed by level 0 ... N
};

// The default reverse kernel of a process: posterior (SMLD) for VE, ancestral otherwise.
ReverseKernel default_reverse_kernel(NoiseKind kind);

// This rank's terms of log N(y; scale * x, var I) summed over the interior sites:
// -(y - scale x)^2 / (2 var) - log(2 pi var) / 2 per site. x may be omitted (mean 0).
ExactSum log_gaussian(const Geometry& g, const Field& y, const Field* x, double scale, double var);

}  // namespace latdiff
