// Diffusion-model proposals made exact by Metropolis-Hastings (DESIGN.md §4). A score model
// s(x, i) and a noise process (diffusion/noise_process.hpp) define reverse kernels
// p(x_{i-1} | x_i); the chain samples the extended target pi(x_0) prod_i q(x_i | x_{i-1}),
// whose x_0-marginal is pi = exp(-S) / Z for any score: the score only sets the acceptance.
//
// One update:
//  1. Gibbs refresh of the auxiliary path of the current state: x_1 ... x_k drawn forward
//     from x_0 = phi with q (so no path or weight is carried between updates or checkpointed,
//     and other kernels may change phi freely in between);
//  2. a proposal path: depth 0 (the independence sampler) draws x'_N from the prior p_N and
//     denoises to x'_0; depth k in 1 ... N renoises to x_k and denoises from x'_k = x_k (the
//     partial renoise-denoise kernel of nonequilibrium candidate Monte Carlo);
//  3. accept with min(1, w(x') / w(x)), where for a path x_0 ... x_k
//        log w = -S(x_0) + sum_{i<=k} [log q(x_i | x_{i-1}) - log p(x_{i-1} | x_i)]
//                (- log p_N(x_N) for the independence sampler, k = N);
//     for depth k the endpoint terms cancel because both paths share x_k.
// Every term is an exact per-site or per-momentum sum, reduced once per update, and every
// draw comes from a counter-based stream keyed by (update, level), so the chain is bitwise
// the same on every decomposition and after every restart. delta_h = log w(x) - log w(x'), and
// log_weight = log w(x') (for depth k without the shared endpoint's terms). For the
// independence sampler w(x') = pi(x') / (proposal density of the path) up to 1/Z: the
// importance weight of the proposal, whose spread over updates measures the score's quality.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "diffusion/free_field_score.hpp"
#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/gaussian_noise.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct DiffusionParams {
  int depth = 0;  // 0: independence sampler over whole generation paths; k: depth-k kernel
  // Prior p_N of the independence sampler: null for white noise N(0, sbar_N^2 I), else the
  // Gaussian of this model at level N (the exact marginal when the target is that free field).
  FreeFieldScore* gaussian_prior = nullptr;
};

template <LatticeModel Model>
class DiffusionMh {
 public:
  // `model`, `g`, `noise` and `score` must outlive the sampler. Throws std::invalid_argument
  // (alike on every rank) unless 0 <= depth <= levels.
  DiffusionMh(const Model& model, const Geometry& g, const NoiseProcess& noise, ScoreModel& score,
              DiffusionParams params, std::uint64_t seed)
      : model_(model),
        g_(g),
        halo_(g),
        noise_(noise),
        score_(score),
        params_(params),
        forward_rng_(seed, Stream::diffusion_forward),
        reverse_rng_(seed, Stream::diffusion_reverse),
        prior_rng_(seed, Stream::diffusion_prior),
        accept_rng_(seed, Stream::diffusion_accept),
        a_(make_field(g)),
        b_(make_field(g)),
        s_(make_field(g)),
        eta_(make_field(g)) {
    if (params.depth < 0 || params.depth > noise.levels())
      throw std::invalid_argument(
          "diffusion sampler: depth must be in 0 ... levels = " + std::to_string(noise.levels()) +
          " (got " + std::to_string(params.depth) + ")");
  }

  // Collective. One refresh, proposal and accept/reject; halos of phi must be current on entry
  // and are on exit.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    const bool independence = params_.depth == 0;
    const int k = independence ? noise_.levels() : params_.depth;
    // sums_[0]: log w(x) - log w(x') over both paths; sums_[1]: log w(x'); reduced together.
    ExactSum& log_ratio = sums_[0];
    ExactSum& log_weight = sums_[1];
    log_ratio = ExactSum();
    log_weight = ExactSum();

    // 1. The current state's path x_0 = phi ... x_k; a_ ends as x_k.
    log_ratio -= model_.action(phi);
    Field* prev = &phi;
    for (int i = 1; i <= k; ++i) {
      Field& next = i % 2 ? a_ : b_;
      fill_normals(g_, forward_rng_, update_index, eta_, static_cast<std::uint64_t>(i));
      noise_.forward_step(g_, i, *prev, eta_, next);
      log_ratio += noise_.log_forward(g_, i, next, *prev);
      score_.score(next, i, s_);
      log_ratio -= noise_.log_reverse(g_, i, *prev, next, s_);
      prev = &next;
    }
    if (independence) log_ratio -= log_prior(*prev);

    // 2. The proposal x'_k ... x'_0, from the prior or from the shared x_k.
    Field* cur = prev;
    if (independence) {
      cur = &a_;
      draw_prior(update_index, *cur);
      const ExactSum prior = log_prior(*cur);
      log_ratio += prior;
      log_weight -= prior;
    }
    for (int i = k; i >= 1; --i) {
      Field& next = cur == &a_ ? b_ : a_;
      // From the shared x_k, s_ still holds s(x_k, k) of the last forward step.
      if (independence || i < k) score_.score(*cur, i, s_);
      fill_normals(g_, reverse_rng_, update_index, eta_, static_cast<std::uint64_t>(i));
      noise_.reverse_step(g_, i, *cur, s_, eta_, next);
      const ExactSum reverse = noise_.log_reverse(g_, i, next, *cur, s_);
      const ExactSum forward = noise_.log_forward(g_, i, *cur, next);
      log_ratio += reverse;
      log_ratio -= forward;
      log_weight -= reverse;
      log_weight += forward;
      cur = &next;
    }
    halo_.exchange(*cur);
    const ExactSum action = model_.action(*cur);
    log_ratio += action;
    log_weight -= action;

    // 3. Accept with min(1, w(x') / w(x)).
    allreduce_each(sums_, g_.comm());
    UpdateResult r = accept_reject(log_ratio.value(), accept_rng_.uniform(update_index, 0));
    r.log_weight = log_weight.value();
    if (r.acceptance == 1) std::swap(phi, *cur);  // same size and geometry, halos current
    return r;
  }

 private:
  // Collective with a Gaussian prior (one FFT).
  ExactSum log_prior(const Field& x) {
    return latdiff::log_prior(g_, noise_, params_.gaussian_prior, x);
  }

  // Collective with a Gaussian prior (one FFT).
  void draw_prior(std::uint64_t update_index, Field& out) {
    fill_normals(g_, prior_rng_, update_index, eta_);
    sample_prior(g_, noise_, params_.gaussian_prior, eta_, out);
  }

  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  const NoiseProcess& noise_;
  ScoreModel& score_;
  DiffusionParams params_;
  CounterRng forward_rng_, reverse_rng_, prior_rng_, accept_rng_;
  Field a_, b_, s_, eta_;  // two path fields, the score, the noise
  std::vector<ExactSum> sums_ = std::vector<ExactSum>(2);
};

}  // namespace latdiff
