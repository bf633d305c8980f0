// Metropolis-adjusted Langevin (MALA): the Euler-Maruyama Langevin step
//   phi' = phi + eps F(phi) + sqrt(2 eps) eta,  F = -dS/dphi,  eta ~ N(0, 1) per site,
// is a Gaussian proposal with log q(y|x) = -|y - x - eps F(x)|^2 / (4 eps) + const, accepted
// with min(1, exp(-delta_h)),
//   delta_h = S(phi') - S(phi) + log q(phi'|phi) - log q(phi|phi'),
// which makes the chain exact for exp(-S) at any step size (DESIGN.md §3). delta_h is one
// exact global sum (exact_sum.hpp) of per-site terms and the accept draw comes from a global
// stream keyed by the update index, so every rank and every decomposition decides alike; a
// proposal whose delta_h is not finite (too large a step) is rejected and reported with
// delta_h = +inf (update_result.hpp).
//
// Fourier acceleration (kernel K of fourier_kernel.hpp, as in langevin.hpp) proposes
//   phi' = phi + eps K F(phi) + sqrt(2 eps) K^{1/2} eta,
// a Gaussian with covariance 2 eps K: log q(y|x) = -r^T K^{-1} r / (4 eps) + const with
// r = y - x - eps K F(x). Forward, r = sqrt(2 eps) K^{1/2} eta gives eta^T eta / 2 as before;
// the reverse term is an exact sum over momenta of |r~(p)|^2 / (4 eps V K(p)).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>

#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/fourier_kernel.hpp"
#include "samplers/gaussian_noise.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct MalaParams {
  double step = 0.01;  // eps, Langevin time of the proposal
  // Kernel K(p) = M~_max / M~(p), M~ = phat^2 + fa_mass2, instead of 1 (Fourier acceleration).
  bool fourier_acceleration = false;
  double fa_mass2 = 1.0;
};

template <LatticeModel Model>
class Mala {
 public:
  // Collective over g.comm() with Fourier acceleration (plans the FFT).
  Mala(const Model& model, const Geometry& g, MalaParams params, std::uint64_t seed)
      : model_(model),
        g_(g),
        halo_(g),
        params_(params),
        noise_rng_(seed, Stream::mala_noise),
        accept_rng_(seed, Stream::mala_accept),
        force_(make_field(g)),
        eta_(make_field(g)),
        proposal_(make_field(g)),
        kernel_(params.fourier_acceleration ? std::make_unique<LangevinKernel>(g, params.fa_mass2)
                                            : nullptr),
        work_(kernel_ ? make_field(g) : Field()) {}

  // Collective. One proposal and accept/reject; halos of phi must be current on entry and are
  // on exit. Returns acceptance 0 or 1 and delta_h = -log(Metropolis ratio), +inf if not finite.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    const double eps = params_.step;
    const double c = std::sqrt(2 * eps);
    const int n = g_.row_length();
    model_.force(phi, force_);
    fill_normals(g_, noise_rng_, update_index, eta_);
    const Field* noise = &eta_;
    if (kernel_) {
      kernel_->apply(force_);
      kernel_->apply_sqrt(eta_, work_);
      noise = &work_;
    }
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      const std::size_t s = g_.row_start(r);
      double* __restrict y = proposal_.data() + s;
      const double* __restrict x = phi.data() + s;
      const double* __restrict f = force_.data() + s;
      const double* __restrict z = noise->data() + s;
      for (int j = 0; j < n; ++j) y[j] = x[j] + eps * f[j] + c * z[j];
    }
    halo_.exchange(proposal_);
    // force_ now becomes F(phi') (K F(phi') accelerated) for the reverse proposal density.
    model_.force(proposal_, force_);
    ExactSum dh = model_.action(proposal_);
    dh -= model_.action(phi);
    // -log q(phi|phi') + log q(phi'|phi); phi' - phi - eps F(phi) = sqrt(2 eps) eta.
    const double inv_4eps = 1 / (4 * eps);
    if (kernel_) {
      kernel_->apply(force_);
      for_each_site(g_, [&](std::size_t p, std::int64_t) {
        work_[p] = phi[p] - proposal_[p] - eps * force_[p];
        dh.add(-0.5 * eta_[p] * eta_[p]);
      });
      dh += kernel_->inverse_form(work_, inv_4eps);
    } else {
      for_each_site(g_, [&](std::size_t p, std::int64_t) {
        const double back = phi[p] - proposal_[p] - eps * force_[p];
        dh.add(back * back * inv_4eps - 0.5 * eta_[p] * eta_[p]);
      });
    }
    dh.allreduce(g_.comm());
    // An overflowing proposal (non-finite delta_h) is rejected like any other.
    const UpdateResult r = accept_reject(dh.value(), accept_rng_.uniform(update_index, 0));
    if (r.acceptance == 1) phi = proposal_;  // same size: copies into phi's storage, halos too
    return r;
  }

 private:
  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  MalaParams params_;
  CounterRng noise_rng_, accept_rng_;
  Field force_, eta_, proposal_;
  std::unique_ptr<LangevinKernel> kernel_;  // null without Fourier acceleration
  Field work_;                              // K^{1/2} eta, then the reverse residual
};

}  // namespace latdiff
