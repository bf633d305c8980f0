// The trainable physics score of the diffusion proposals (DESIGN.md §4, issue 7): per noise
// level i = 1 ... N the score is minus the gradient of an effective action that is linear in
// its parameters theta_i,
//   S_i(x) = (1/2V) sum_p h_i(phat^2) |x~(p)|^2 + sum_{b in {1} + blocks} sum_x U_{i,b}(B_b(x)),
//   U_{i,b}(B) = (c1_{i,b} / 2) B^2 + (c3_{i,b} / 4) B^4 + (c5_{i,b} / 6) B^6,
// a momentum kernel plus local phi^4 and phi^6 terms of the field itself (b = 1, B_1 = x) and
// of its block-averaged fields B_b = F^{-1}[K_b x~] at the block sizes of ScoreBasis (c1 only
// for the zero mode, score_basis.hpp):
//   K_b(p) = exp(-(b^2 - 1) phat^2 / 24)   (b >= 2: the translation-invariant block average, a
//            smooth filter with the second moment (b^2 - 1) / 12 per axis of a box of b sites),
//   K_0(p) = [p = 0]                        (b = 0: the zero mode, B_0 = the magnetisation m).
// The score is
//   s(x, i) = -F^{-1}[h_i(phat^2) x~ + sum_{b != 1} K_b F[U'_{i,b}(B_b)]] - U'_{i,1}(x).
// The kernel h_i(u) = sum_j theta_{i,j} hat_j(u) is piecewise linear in u = phat^2 on `knots`
// equally spaced knots u_j = 4d j / (knots - 1) spanning [0, 4d] (the range of phat^2 on every
// lattice), and theta_i = (theta_{i,0}, ..., theta_{i,knots-1}, then the local couplings in
// the order of ScoreBasis::local_terms). Neither the knots nor the filters depend
// on the extents, so a model trained on one volume is defined on every other. Every term is
// translation invariant and even in x, so the score is Z2-odd; bitwise so (negating x negates
// every FFT output and every odd power exactly). The block terms carry what a site-local
// polynomial cannot: at high noise the site values are mostly noise, and only the averaged
// fields still see the double well of the magnetisation in the broken phase.
//
// Training (LinearScoreTrainer): denoising score matching. For a configuration x_0 and white
// z, x_i = abar_i x_0 + sbar_i z has target t_i = -(x_i - abar_i x_0) / sbar_i^2 = -z / sbar_i,
// whose regression on x_i is the exact score (Tweedie). The loss sum ||s(x_i) - t_i||^2 is
// quadratic in theta_i, so its minimiser solves the normal equations M theta = b with
//   M_kl = sum <f_k(x_i), f_l(x_i)>,   b_k = sum <f_k(x_i), t_i>
// over the training samples. Every inner product is an exact sum (lattice/exact_sum.hpp) over
// the sites or momenta of the bitwise decomposition-independent FFT, reduced over the ranks,
// and the noise is drawn per global site from a counter-based stream, so the fitted parameters
// are bitwise the same on every process grid.
//
// Collective calls (over the communicator of the geometry): the constructors of LinearScore and
// LinearScoreTrainer (FFT plans), LinearScore::score, LinearScoreTrainer::add, ::solve and
// ::training_loss, and denoising_loss. Everything else is local.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "diffusion/noise_process.hpp"
#include "diffusion/score_basis.hpp"
#include "diffusion/score_model.hpp"
#include "fft/distributed_fft.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "random/counter_rng.hpp"

namespace latdiff {

class LinearScore final : public ScoreModel {
 public:
  // Collective over g.comm() (plans the FFT). `g` must outlive the object. theta[i - 1] holds
  // the basis.parameters() parameters of level i = 1 ... theta.size() (layout above). Throws
  // std::invalid_argument on a bad basis, no level or a parameter vector of wrong size.
  LinearScore(const Geometry& g, ScoreBasis basis, std::vector<std::vector<double>> theta);

  // Collective (one forward and one inverse FFT, plus two per block size b >= 2 with a
  // non-zero coupling; the zero mode's terms need none). Level 1 ... levels(); throws
  // std::out_of_range (on every rank alike) otherwise.
  void score(const Field& x, int level, Field& out) override;

  int levels() const { return static_cast<int>(theta_.size()); }
  const ScoreBasis& basis() const { return basis_; }
  const std::vector<double>& parameters(int level) const { return theta_.at(level - 1); }
  // h_level(u), u = phat^2 (clamped to [0, 4d]).
  double kernel(int level, double u) const;
  // The coupling of the local term (scale, power) (score_basis.hpp) at `level`; 0 when the
  // basis has no such term.
  double coupling(int level, int scale, int power) const;

 private:
  const Geometry& g_;
  ScoreBasis basis_;
  HatBasis hats_;
  std::vector<std::vector<double>> theta_;
  DistributedFft fft_;
  std::vector<int> segment_;                  // per local momentum: its knot interval j
  std::vector<double> weight_;                // per local momentum: t in that interval
  std::vector<std::vector<double>> filters_;  // per block size, K_b per local momentum
  // Per scale (site field, then each block size): index in theta of c1, c3, c5, or -1; looked
  // up once here, as ScoreBasis::index builds the term list.
  std::vector<std::array<int, 3>> scale_terms_;
  bool holds_zero_ = false;  // this rank holds p = 0
  ComplexField spectrum_, total_, work_;
  Field block_;
};

// Accumulates the normal equations of every level over training configurations.
class LinearScoreTrainer {
 public:
  // Collective over g.comm() (plans the FFT). `g` and `noise` must outlive the object. `rng`
  // (copied) supplies the noise; use a stream of its own (the caller picks it: a dedicated
  // training stream, distinct from every stream of the measured chain). `draws` >= 1 noise
  // draws per configuration and level. Throws std::invalid_argument on bad arguments.
  LinearScoreTrainer(const Geometry& g, const NoiseProcess& noise, ScoreBasis basis,
                     const CounterRng& rng, int draws);

  // Collective, allocation free. Adds `draws` noised copies of x_0 (interior; halo ignored) at
  // every level i = 1 ... N. The noise of site x (global index), draw r, level i is
  // rng.normal4(x, sample, (i << 32) | r)[0]: give every configuration its own `sample`.
  void add(const Field& x0, std::uint64_t sample);

  // Collective. theta per level (index i - 1) minimising the training loss: the normal
  // equations of each level, Jacobi scaled to unit diagonal, plus a ridge of kRidge on that
  // diagonal (it moves theta by a relative ~ kRidge * condition number and keeps the Cholesky
  // factorisation defined when basis terms are nearly collinear), solved by Cholesky. A basis
  // term with no weight in the data (a hat function no lattice momentum reaches, or only by
  // rounding: below kUnreached of the largest knot weight; or x = 0) is
  // left out of the solve; its coefficient is then the linear interpolation of the nearest
  // fitted knot coefficients on either side (constant beyond the last one; 0 for a local term
  // or when nothing was fitted). The effective action must be bounded below, so each scale's
  // U_b must be: a fit with c5_b < 0 is redone without that phi^6 term (c5_b = 0), then one
  // with c3_b < 0 without its phi^4 term too, and then one with the zero mode's c1 < 0
  // without its mass term, until no scale violates the bound: the constrained least-squares
  // solution when the bound is active. Identical on every rank.
  // Throws std::runtime_error when no sample was added, a sum is not finite or the
  // factorisation fails.
  std::vector<std::vector<double>> solve() const;

  // Collective. Per level (index i - 1) the training loss (1/(n V)) sum ||s_theta(x_i) - t_i||^2
  // over the n noised samples added, from the normal equations (theta^T M theta - 2 theta^T b +
  // sum ||t||^2; loses relative precision when the fit is near perfect).
  std::vector<double> training_loss(const std::vector<std::vector<double>>& theta) const;

  std::int64_t samples() const { return samples_; }  // noised samples per level, n
  int parameters() const { return params_; }         // basis.parameters()

  static constexpr double kRidge = 1e-12;
  // A knot whose weight in the data is below kUnreached times the largest knot's counts as no
  // momentum reaching it (a weight of rounding size, ~1e-32 relative, is no data).
  static constexpr double kUnreached = 1e-20;

 private:
  // Offsets into the per-level block of sums_: M (params_ x params_, upper triangle used),
  // then b (params_), then sum ||t||^2.
  std::size_t m_index(int level, int k, int l) const {
    return block_ * static_cast<std::size_t>(level - 1) + static_cast<std::size_t>(k * params_ + l);
  }
  std::size_t b_index(int level, int k) const {
    return block_ * static_cast<std::size_t>(level - 1) +
           static_cast<std::size_t>(params_ * params_ + k);
  }
  std::size_t tt_index(int level) const {
    return block_ * static_cast<std::size_t>(level - 1) +
           static_cast<std::size_t>(params_ * params_ + params_);
  }
  std::vector<ExactSum> reduced() const;

  const Geometry& g_;
  const NoiseProcess& noise_;
  ScoreBasis basis_;
  HatBasis hats_;
  CounterRng rng_;
  int draws_, params_;
  std::size_t block_;
  std::int64_t samples_ = 0;
  DistributedFft fft_;
  std::vector<int> segment_;
  std::vector<double> weight_;
  std::vector<LocalTerm> terms_;
  bool holds_zero_ = false;
  // Per scale s: K_b per local momentum (all ones for the site field s = 0).
  std::vector<std::vector<double>> filters_;
  std::vector<ExactSum> sums_;
  Field xi_, t_, block_field_, power_;
  ComplexField xs_, ts_, work_;
  std::vector<ComplexField> powers_;  // per local term: the spectrum of B_s^power
};

// Collective over g.comm(). Per level i = 1 ... N (index i - 1) the denoising loss
// (1/(n V)) sum ||model.score(x_i, i) - t_i||^2 over the n = configs.size() * draws noised
// samples of the configurations, configs[c] drawn as sample first_sample + c with the noise of
// LinearScoreTrainer::add (so the same rng, samples and draws give every model the same x_i:
// compare models on held-out configurations with common random numbers). Exact sums: the same
// on every process grid when the model's score is.
std::vector<double> denoising_loss(ScoreModel& model, const Geometry& g, const NoiseProcess& noise,
                                   const CounterRng& rng, const std::vector<Field>& configs,
                                   std::uint64_t first_sample, int draws);

}  // namespace latdiff
