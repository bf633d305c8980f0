// Hybrid Monte Carlo: momenta pi ~ N(0, M), H = pi^T M^{-1} pi / 2 + S, molecular dynamics
// with leapfrog or Omelyan 2MN (kicks pi += dt F, drifts phi += dt M^{-1} pi), accepted with
// min(1, exp(-dH)). M = 1 per site, or with Fourier acceleration M = M~ = phat^2 + M^2 diagonal
// in momentum space (fourier_kernel.hpp): pi = M~^{1/2} eta from the same white noise eta, and
// for a free field in mass form with M^2 = m^2 every mode oscillates with frequency 1, so the
// IR modes move as fast as the UV ones. dH is an exact global sum (exact_sum.hpp) and the
// accept draw comes from a global stream, so every rank and every decomposition takes the same
// decision; a trajectory whose dH is not finite (too large a step) is rejected and reported
// with dH = +inf (update_result.hpp).
//
// Models with per-site capabilities (models/model.hpp) get a cheaper trajectory, bitwise the
// same on every decomposition: the Hamiltonian as one exact sum of s_x + pi_x^2 / 2
// (SiteHamiltonianModel; without Fourier acceleration), and the force added to pi in one pass
// with the halo exchange overlapping the kick of the sites away from the halo
// (SegmentForceModel, when the lattice is split over ranks). Other models, like the RBM whose
// force is collective, exchange the halo and then compute the whole force.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/config.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/fourier_kernel.hpp"
#include "samplers/gaussian_noise.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct HmcParams {
  Integrator integrator = Integrator::omelyan;
  double trajectory_length = 1.0;
  int md_steps = 10;
  // Mass matrix M~(p) = phat^2 + fa_mass2 instead of 1 (Fourier acceleration).
  bool fourier_acceleration = false;
  double fa_mass2 = 1.0;
};

// Omelyan, Mryglod, Folk (2003) 2MN parameter minimising the leading error norm.
inline constexpr double kOmelyanLambda = 0.1931833275037836;

template <LatticeModel Model>
class Hmc {
 public:
  // Collective over g.comm() with Fourier acceleration (plans the FFT).
  Hmc(const Model& model, const Geometry& g, HmcParams params, std::uint64_t seed)
      : model_(model),
        g_(g),
        halo_(g),
        params_(params),
        momentum_rng_(seed, Stream::hmc_momentum),
        accept_rng_(seed, Stream::hmc_accept),
        pi_(make_field(g)),
        force_(SegmentForceModel<Model> ? Field() : make_field(g)),
        saved_(make_field(g)),
        rows_(interior_rows(g)),
        split_(split_by_halo(g)),
        overlap_(split_over_ranks(g)),
        kernel_(params.fourier_acceleration ? std::make_unique<FourierKernel>(g, params.fa_mass2)
                                            : nullptr),
        work_(kernel_ ? make_field(g) : Field()) {}

  // Collective. One trajectory; halos of phi must be current on entry and are on exit.
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    draw_momenta(update_index);
    saved_ = phi;
    const ExactSum h_old = hamiltonian(phi, pi_);
    integrate(phi, pi_);
    ExactSum dh = hamiltonian(phi, pi_);
    dh -= h_old;
    dh.allreduce(g_.comm());
    // A trajectory that overflowed (non-finite dH) is rejected like any other.
    const UpdateResult r = accept_reject(dh.value(), accept_rng_.uniform(update_index, 0));
    if (r.acceptance == 0) phi = saved_;
    return r;
  }

  // Collective. Molecular-dynamics trajectory of length tau in md_steps steps; exposed for
  // reversibility tests. Halos of phi must be current on entry and are on exit: every drift
  // is followed by a kick, which refreshes them.
  void integrate(Field& phi, Field& pi) {
    const double eps = params_.trajectory_length / params_.md_steps;
    if (params_.integrator == Integrator::leapfrog) {
      kick(phi, pi, 0.5 * eps, /*halo_current=*/true);
      for (int i = 0; i < params_.md_steps; ++i) {
        drift(phi, pi, eps);
        kick(phi, pi, i + 1 < params_.md_steps ? eps : 0.5 * eps, false);
      }
      return;
    }
    // 2MN: P(l eps) Q(eps/2) P((1-2l) eps) Q(eps/2) P(l eps), adjacent P's merged.
    const double l = kOmelyanLambda;
    kick(phi, pi, l * eps, /*halo_current=*/true);
    for (int i = 0; i < params_.md_steps; ++i) {
      drift(phi, pi, 0.5 * eps);
      kick(phi, pi, (1 - 2 * l) * eps, false);
      drift(phi, pi, 0.5 * eps);
      kick(phi, pi, i + 1 < params_.md_steps ? 2 * l * eps : l * eps, false);
    }
  }

  // Collective (models/model.hpp). This rank's part of H = pi^T M^{-1} pi / 2 + S; with
  // Fourier acceleration the kinetic term is summed over momenta.
  ExactSum hamiltonian(const Field& phi, const Field& pi) {
    if constexpr (SiteHamiltonianModel<Model>)
      if (!kernel_) return model_.action_plus_kinetic(phi, pi);
    ExactSum h = model_.action(phi);
    if (kernel_) {
      h += kernel_->quadratic_form(KernelPower::minus_one, pi, 0.5);
      return h;
    }
    const int n = g_.row_length();
    h.add_rows(g_.row_count(), n, [&](std::size_t r, double* __restrict out) {
      const double* __restrict q = pi.data() + g_.row_start(r);
      for (int j = 0; j < n; ++j) out[j] = 0.5 * q[j] * q[j];
    });
    return h;
  }

 private:
  // Collective with Fourier acceleration. pi_ ~ N(0, M) from the momentum stream; without
  // acceleration the white noise itself, so those chains are unchanged.
  void draw_momenta(std::uint64_t update_index) {
    if (!kernel_) {
      fill_normals(g_, momentum_rng_, update_index, pi_);
      return;
    }
    fill_normals(g_, momentum_rng_, update_index, work_);
    kernel_->apply(KernelPower::half, work_, pi_);
  }
  static bool split_over_ranks(const Geometry& g) {
    for (int p : g.procs())
      if (p > 1) return true;
    return false;
  }
  // pi += dt F(phi); collective. Refreshes phi's halo first unless halo_current.
  void kick(Field& phi, Field& pi, double dt, bool halo_current) {
    if constexpr (SegmentForceModel<Model>) {
      if (halo_current || !overlap_) {
        if (!halo_current) halo_.exchange(phi);
        model_.add_force(phi, pi, dt, rows_);
        return;
      }
      // start() packs the faces, so phi's interior is final; the inner sites read no halo.
      halo_.start(phi);
      model_.add_force(phi, pi, dt, split_.inner);
      halo_.finish(phi);
      model_.add_force(phi, pi, dt, split_.boundary);
      return;
    }
    if (!halo_current) halo_.exchange(phi);
    model_.force(phi, force_);
    const int n = g_.row_length();
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      double* __restrict q = pi.data() + g_.row_start(r);
      const double* __restrict f = force_.data() + g_.row_start(r);
      for (int j = 0; j < n; ++j) q[j] += dt * f[j];
    }
  }
  // phi += dt M^{-1} pi on the interior (the next kick refreshes the halo); collective with
  // Fourier acceleration.
  void drift(Field& phi, const Field& pi, double dt) {
    const Field* velocity = &pi;
    if (kernel_) {
      kernel_->apply(KernelPower::minus_one, pi, work_);
      velocity = &work_;
    }
    const int n = g_.row_length();
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      double* __restrict x = phi.data() + g_.row_start(r);
      const double* __restrict q = velocity->data() + g_.row_start(r);
      for (int j = 0; j < n; ++j) x[j] += dt * q[j];
    }
  }

  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  HmcParams params_;
  CounterRng momentum_rng_, accept_rng_;
  Field pi_, force_, saved_;               // force_ only for models without SegmentForceModel
  std::vector<RowSegment> rows_;           // every interior row, for kicks without overlap
  HaloSplit split_;                        // the sites kicked before and after the halo arrives
  bool overlap_;                           // some dimension is split over ranks
  std::unique_ptr<FourierKernel> kernel_;  // null without Fourier acceleration
  Field work_;                             // white noise, then M^{-1} pi (acceleration only)
};

}  // namespace latdiff
