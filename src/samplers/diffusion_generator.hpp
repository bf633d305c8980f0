// Generation with a diffusion model and no Metropolis-Hastings test (DESIGN.md §4): every
// update overwrites the field with a fresh, independent sample x_0, denoised from a prior draw
// x_N by one of the methods of diffusion/generators.hpp. Unlike DiffusionMh
// (samplers/diffusion_mh.hpp) the samples are not exact: they carry the score model's error,
// the discretisation error of N levels and, with the white prior, the difference between
// N(0, sbar_N^2 I) and the process's marginal at level N. Showing that bias is the point.
//
// Draws: the prior from Stream::generator_prior with counter (update), the step noise from
// Stream::generator_noise with counter (update) and sub = i + 2^32 j for the step from level i
// (j = 0) and for the corrector steps j = 1 ... M that follow it. A sample is therefore a
// function of (seed, update index) alone, bitwise the same on every decomposition, and a
// predictor_corrector generator with no corrector steps is the ancestral one, bitwise.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "diffusion/free_field_score.hpp"
#include "diffusion/generators.hpp"
#include "diffusion/noise_process.hpp"
#include "diffusion/score_model.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/gaussian_noise.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct GeneratorParams {
  GeneratorMethod method = GeneratorMethod::ancestral;
  int corrector_steps = 1;  // predictor_corrector: Langevin steps per level i - 1 >= 1
  double snr = 0.16;        // predictor_corrector: eps = 2 (snr |z| / |s|)^2
  // Prior p_N as DiffusionParams::gaussian_prior: null for white noise N(0, sbar_N^2 I), else
  // the Gaussian of this model at level N.
  FreeFieldScore* gaussian_prior = nullptr;
};

template <LatticeModel Model>
class DiffusionGenerator {
 public:
  // `g`, `noise`, `score` and the prior must outlive the generator. The model is not used
  // (there is no accept/reject step); it keeps the constructor of DiffusionMh. Throws
  // std::invalid_argument (alike on every rank) unless corrector_steps >= 0 and snr > 0.
  DiffusionGenerator(const Model& /*model*/, const Geometry& g, const NoiseProcess& noise,
                     ScoreModel& score, GeneratorParams params, std::uint64_t seed)
      : g_(g),
        halo_(g),
        noise_(noise),
        score_(score),
        params_(params),
        noise_rng_(seed, Stream::generator_noise),
        prior_rng_(seed, Stream::generator_prior),
        work_(make_field(g)),
        s_(make_field(g)),
        eta_(make_field(g)) {
    if (params.corrector_steps < 0)
      throw std::invalid_argument("diffusion generator: corrector_steps must be >= 0 (got " +
                                  std::to_string(params.corrector_steps) + ")");
    if (!(params.snr > 0 && std::isfinite(params.snr)))
      throw std::invalid_argument("diffusion generator: snr must be positive (got " +
                                  std::to_string(params.snr) + ")");
  }

  // Collective. Overwrites phi with sample `update_index`, halos current on exit; the previous
  // phi is not used. Always accepted: acceptance 1, delta_h NaN.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    draw_prior(update_index, phi);
    denoise(phi, update_index);
    return {1.0, std::numeric_limits<double>::quiet_NaN()};
  }

  // Collective with a Gaussian prior (one FFT). Interior of out = x_N of sample update_index.
  void draw_prior(std::uint64_t update_index, Field& out) {
    fill_normals(g_, prior_rng_, update_index, eta_);
    sample_prior(g_, noise_, params_.gaussian_prior, eta_, out);
  }

  // Collective. x holds x_N on entry (interior; the halo is ignored) and x_0 on exit, halos
  // current, denoised with the step noise of sample update_index (probability_flow draws none:
  // its x_0 depends on x_N alone).
  void denoise(Field& x, std::uint64_t update_index) {
    const GeneratorMethod method = params_.method;
    Field* cur = &x;
    Field* next = &work_;
    for (int i = noise_.levels(); i >= 1; --i) {
      score_.score(*cur, i, s_);
      if (method == GeneratorMethod::probability_flow) {
        probability_flow_step(g_, noise_, i, *cur, s_, *next);
      } else {
        fill_normals(g_, noise_rng_, update_index, eta_, sub(i, 0));
        if (method == GeneratorMethod::euler_maruyama)
          euler_maruyama_step(g_, noise_, i, *cur, s_, eta_, *next);
        else
          noise_.reverse_step(g_, i, *cur, s_, eta_, *next);
      }
      std::swap(cur, next);
      if (method != GeneratorMethod::predictor_corrector || i == 1) continue;
      for (int j = 1; j <= params_.corrector_steps; ++j) {
        fill_normals(g_, noise_rng_, update_index, eta_, sub(i, j));
        score_.score(*cur, i - 1, s_);
        corrector_step(g_, params_.snr, s_, eta_, *cur);
      }
    }
    if (cur != &x) std::swap(x, *cur);  // same size and geometry
    halo_.exchange(x);
  }

 private:
  static std::uint64_t sub(int level, int step) {
    return static_cast<std::uint64_t>(level) + (static_cast<std::uint64_t>(step) << 32);
  }

  const Geometry& g_;
  HaloExchange halo_;
  const NoiseProcess& noise_;
  ScoreModel& score_;
  GeneratorParams params_;
  CounterRng noise_rng_, prior_rng_;
  Field work_, s_, eta_;  // the other path field, the score, the noise
};

}  // namespace latdiff
