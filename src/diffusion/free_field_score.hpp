// The Gaussian part of phi^4 through a noise process, exactly (DESIGN.md §4). In the internal
// form of models/phi4.hpp the quadratic part of the action is
//   S_2 = sum_x [-beta phi_x sum_mu phi_{x+mu} + a phi_x^2] = (1/2V) sum_p K(p) |phi~(p)|^2,
//   K(p) = 2a - 2 beta sum_mu cos p_mu = 2a - 2 beta d + beta phat^2,
// so a free field (b = 0) has covariance G(p) = 1/K(p), and its marginal at level i of a noise
// process is Gaussian and diagonal in momentum space with variance
//   lambda_i(p) = abar_i^2 G(p) + sbar_i^2       (level 0: the target itself, lambda_0 = G).
// Hence the exact score s(x, i) = -F^{-1}[x~(p) / lambda_i(p)], the exact log density, and
// exact samples x = F^{-1}[lambda_i(p)^{1/2} eta~(p)] of white noise eta. For an interacting
// theory (b > 0) the same object is the free-field Gaussian of its quadratic part: a
// deliberately imperfect score, and a prior closer to the target than white noise.
//
// Every term is per momentum on the bitwise decomposition-independent FFT
// (fft/distributed_fft.hpp) and every sum exact, so results are the same on every process grid.
#pragma once

#include <vector>

#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "fft/distributed_fft.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "models/phi4.hpp"

namespace latdiff {

class FreeFieldScore final : public ScoreModel {
 public:
  // Collective over g.comm() (plans the FFT). `g` must outlive the object. Throws
  // std::invalid_argument on every rank alike when K(p) <= 0 for some momentum (the quadratic
  // part is not a normalisable Gaussian: a broken phase or an unbounded free field).
  FreeFieldScore(const Geometry& g, const Phi4Couplings& k, const NoiseProcess& noise);

  // Collective. out = -F^{-1}[x~ / lambda_level], level 0 ... N.
  void score(const Field& x, int level, Field& out) override;
  // Collective (one FFT). This rank's terms of log N(x; 0, C_level): -(1/2V) |x~(p)|^2 /
  // lambda(p) - log(2 pi lambda(p)) / 2 per momentum.
  ExactSum log_density(const Field& x, int level);
  // Collective. Interior of out = C_level^{1/2} eta, a sample of N(0, C_level) for white eta.
  void sample(const Field& eta, int level, Field& out);

  // K(p) of this rank's momenta (momentum-space layout of distributed_fft.hpp).
  const std::vector<double>& kernel() const { return kernel_; }

 private:
  double variance(int level, std::size_t p) const {
    return noise_.abar(level) * noise_.abar(level) / kernel_[p] + noise_.sbar2(level);
  }

  const Geometry& g_;
  const NoiseProcess& noise_;
  DistributedFft fft_;
  std::vector<double> kernel_;
  ComplexField spectrum_;
};

// The prior p_N of generation paths at the top level N of `noise`: white N(0, sbar_N^2 I) when
// `gaussian` is null, else the Gaussian N(0, C_N) of that FreeFieldScore. Collective with a
// Gaussian (one FFT), local otherwise. sample_prior: interior of out = a draw for white eta.
void sample_prior(const Geometry& g, const NoiseProcess& noise, FreeFieldScore* gaussian,
                  const Field& eta, Field& out);
// This rank's terms of log p_N(x).
ExactSum log_prior(const Geometry& g, const NoiseProcess& noise, FreeFieldScore* gaussian,
                   const Field& x);

}  // namespace latdiff
