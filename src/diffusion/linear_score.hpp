// The trainable physics score of the diffusion proposals (DESIGN.md §4, issue 7): per noise
// level i = 1 ... N the score is minus the gradient of an effective action that is linear in
// its parameters theta_i,
//   S_i(x) = (1/2V) sum_p h_i(phat^2) |x~(p)|^2 + (c3_i / 4) sum_x x^4 + (c5_i / 6) sum_x x^6,
//   s(x, i) = sum_k theta_{i,k} f_k(x) = -F^{-1}[h_i(phat^2) x~(p)] - c3_i x^3 - c5_i x^5,
// with the momentum kernel h_i(u) = sum_j theta_{i,j} hat_j(u) piecewise linear in u = phat^2 on
// `knots` equally spaced knots u_j = 4d j / (knots - 1) spanning [0, 4d] (the range of phat^2
// on every lattice), and theta_i = (theta_{i,0}, ..., theta_{i,knots-1}, c3_i, c5_i). The knots
// do not depend on the extents, so a model trained on one volume is defined on every other.
// Every term is translation invariant and even in x, so the score is Z2-odd; bitwise so
// (negating x negates every FFT output and every power exactly).
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

#include <cstdint>
#include <vector>

#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "fft/distributed_fft.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "random/counter_rng.hpp"

namespace latdiff {

// The hat functions of u = phat^2 on `knots` equal intervals of [0, 4d].
class HatBasis {
 public:
  // Throws std::invalid_argument unless knots >= 2 and 1 <= dim.
  HatBasis(int dim, int knots);
  int knots() const { return knots_; }
  double knot(int j) const { return spacing_ * j; }
  // u (clamped to [0, 4d]) lies in [knot(j), knot(j + 1)], j = 0 ... knots - 2, and
  // hat_j(u) = 1 - t, hat_{j+1}(u) = t, every other hat vanishes.
  void locate(double u, int& j, double& t) const;

 private:
  int knots_;
  double spacing_, top_;
};

class LinearScore final : public ScoreModel {
 public:
  static constexpr int kLocalTerms = 2;  // c3 (phi^4 term), c5 (phi^6 term)

  // Collective over g.comm() (plans the FFT). `g` must outlive the object. theta[i - 1] holds
  // the knots + kLocalTerms parameters of level i = 1 ... theta.size() (layout above). Throws
  // std::invalid_argument on a bad knot count, no level or a parameter vector of wrong size.
  LinearScore(const Geometry& g, int knots, std::vector<std::vector<double>> theta);

  // Collective (one forward and one inverse FFT). Level 1 ... levels(); throws
  // std::out_of_range (on every rank alike) otherwise.
  void score(const Field& x, int level, Field& out) override;

  int levels() const { return static_cast<int>(theta_.size()); }
  int knots() const { return basis_.knots(); }
  const std::vector<double>& parameters(int level) const { return theta_.at(level - 1); }
  // h_level(u), u = phat^2 (clamped to [0, 4d]).
  double kernel(int level, double u) const;
  double cubic(int level) const { return parameters(level)[knots()]; }
  double quintic(int level) const { return parameters(level)[knots() + 1]; }

 private:
  const Geometry& g_;
  HatBasis basis_;
  std::vector<std::vector<double>> theta_;
  DistributedFft fft_;
  std::vector<int> segment_;    // per local momentum: its knot interval j
  std::vector<double> weight_;  // per local momentum: t in that interval
  ComplexField spectrum_;
};

// Accumulates the normal equations of every level over training configurations.
class LinearScoreTrainer {
 public:
  // Collective over g.comm() (plans the FFT). `g` and `noise` must outlive the object. `rng`
  // (copied) supplies the noise; use a stream of its own (the caller picks it: a dedicated
  // training stream, distinct from every stream of the measured chain). `draws` >= 1 noise
  // draws per configuration and level. Throws std::invalid_argument on bad arguments.
  LinearScoreTrainer(const Geometry& g, const NoiseProcess& noise, int knots, const CounterRng& rng,
                     int draws);

  // Collective, allocation free. Adds `draws` noised copies of x_0 (interior; halo ignored) at
  // every level i = 1 ... N. The noise of site x (global index), draw r, level i is
  // rng.normal4(x, sample, (i << 32) | r)[0]: give every configuration its own `sample`.
  void add(const Field& x0, std::uint64_t sample);

  // Collective. theta per level (index i - 1) minimising the training loss: the normal
  // equations of each level, Jacobi scaled to unit diagonal, plus a ridge of kRidge on that
  // diagonal (it moves theta by a relative ~ kRidge * condition number and keeps the Cholesky
  // factorisation defined when basis terms are nearly collinear), solved by Cholesky. A basis
  // term with no weight in the data (a hat function no lattice momentum reaches, or x = 0) is
  // left out of the solve; its coefficient is then the linear interpolation of the nearest
  // fitted knot coefficients on either side (constant beyond the last one; 0 for a local term
  // or when nothing was fitted). The effective action must be bounded below, so a fit with
  // c5 < 0 is redone without the phi^6 term (c5 = 0), and then one with c3 < 0 without the phi^4
  // term too: the constrained least-squares solution when the bound is active. Identical on
  // every rank. Throws std::runtime_error when no
  // sample was added, a sum is not finite or the factorisation fails.
  std::vector<std::vector<double>> solve() const;

  // Collective. Per level (index i - 1) the training loss (1/(n V)) sum ||s_theta(x_i) - t_i||^2
  // over the n noised samples added, from the normal equations (theta^T M theta - 2 theta^T b +
  // sum ||t||^2; loses relative precision when the fit is near perfect).
  std::vector<double> training_loss(const std::vector<std::vector<double>>& theta) const;

  std::int64_t samples() const { return samples_; }  // noised samples per level, n
  int parameters() const { return params_; }         // knots + LinearScore::kLocalTerms

  static constexpr double kRidge = 1e-12;

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
  HatBasis basis_;
  CounterRng rng_;
  int draws_, params_;
  std::size_t block_;
  std::int64_t samples_ = 0;
  DistributedFft fft_;
  std::vector<int> segment_;
  std::vector<double> weight_;
  std::vector<ExactSum> sums_;
  Field xi_, t_, x3_, x5_;
  ComplexField xs_, ts_, x3s_, x5s_;
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
