// Unadjusted Langevin dynamics (stochastic quantization), d phi = F dtau + sqrt(2) dW with
// F = -dS/dphi (DESIGN.md §3). No accept/reject step, so the chain samples exp(-S) only up
// to a step-size bias:
//   euler:               phi_{n+1} = phi_n + eps F(phi_n) + sqrt(2 eps) eta_n,  bias O(eps);
//   leimkuhler_matthews: phi_{n+1} = phi_n + eps F(phi_n) + sqrt(eps/2) (eta_n + eta_{n+1}),
//                        bias O(eps^2) for configurational averages, none for a linear force
//                        (B. Leimkuhler, C. Matthews, AMRX 2013 (1) 34).
// eta_n at a site is the counter-based normal for (site, n), so the non-Markovian scheme keeps
// no noise state: the chain is a function of (seed, phi_0, update indices) alone, continues
// identically after a restart and does not depend on the decomposition.
//
// Fourier acceleration replaces F by K F and eta by K^{1/2} eta, K(p) = M~_max / M~(p) the
// kernel of fourier_kernel.hpp (K = 1 for the highest momentum): d phi = K F dtau + sqrt(2 K) dW
// still has the stationary density exp(-S), and on the free field each mode relaxes at the rate
// K_p omega_p instead of omega_p = phat^2 + m^2. K^{1/2} is linear, so the Leimkuhler-Matthews
// noise K^{1/2} (eta_n + eta_{n+1}) is the sum of the two transformed draws.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "io/config.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/model.hpp"
#include "random/counter_rng.hpp"
#include "samplers/fourier_kernel.hpp"
#include "samplers/gaussian_noise.hpp"
#include "samplers/update_result.hpp"

namespace latdiff {

struct LangevinParams {
  LangevinScheme scheme = LangevinScheme::euler;
  double step = 0.01;  // eps, Langevin time per update
  // Kernel K(p) = M~_max / M~(p), M~ = phat^2 + fa_mass2, instead of 1 (Fourier acceleration).
  bool fourier_acceleration = false;
  double fa_mass2 = 1.0;
};

template <LatticeModel Model>
class Langevin {
 public:
  // Collective over g.comm() with Fourier acceleration (plans the FFT).
  Langevin(const Model& model, const Geometry& g, LangevinParams params, std::uint64_t seed)
      : model_(model),
        g_(g),
        halo_(g),
        params_(params),
        noise_rng_(seed, Stream::langevin_noise),
        force_(make_field(g)),
        eta_(make_field(g)),
        eta_next_(make_field(g)),
        kernel_(params.fourier_acceleration ? std::make_unique<LangevinKernel>(g, params.fa_mass2)
                                            : nullptr) {}

  // Collective. One Langevin step with noise index n = update_index; halos of phi must be
  // current on entry and are on exit. Always accepted; delta_h is undefined (NaN). Throws
  // std::runtime_error on every rank if the step made any site non-finite (phi is then lost).
  UpdateResult update(Field& phi, std::uint64_t update_index) {
    model_.force(phi, force_);
    if (kernel_) kernel_->apply(force_);
    const double eps = params_.step;
    const int n = g_.row_length();
    std::uint64_t overflow = 0;  // 1 once a site is non-finite
    if (params_.scheme == LangevinScheme::euler) {
      draw_noise(update_index, eta_);
      const double c = std::sqrt(2 * eps);
      for (std::size_t r = 0; r < g_.row_count(); ++r) {
        double* __restrict x = phi.data() + g_.row_start(r);
        const double* __restrict f = force_.data() + g_.row_start(r);
        const double* __restrict z = eta_.data() + g_.row_start(r);
        for (int j = 0; j < n; ++j) {
          x[j] += eps * f[j] + c * z[j];
          overflow |= non_finite(x[j]);
        }
      }
    } else {
      // eta_{n+1} drawn for the previous update is reused when updates are consecutive: half
      // the draws, same numbers.
      if (has_next_ && next_index_ == update_index)
        std::swap(eta_, eta_next_);
      else
        draw_noise(update_index, eta_);
      draw_noise(update_index + 1, eta_next_);
      has_next_ = true;
      next_index_ = update_index + 1;
      const double c = std::sqrt(0.5 * eps);
      for (std::size_t r = 0; r < g_.row_count(); ++r) {
        double* __restrict x = phi.data() + g_.row_start(r);
        const double* __restrict f = force_.data() + g_.row_start(r);
        const double* __restrict z0 = eta_.data() + g_.row_start(r);
        const double* __restrict z1 = eta_next_.data() + g_.row_start(r);
        for (int j = 0; j < n; ++j) {
          x[j] += eps * f[j] + c * (z0[j] + z1[j]);
          overflow |= non_finite(x[j]);
        }
      }
    }
    // The unadjusted step cannot reject: a non-finite field is an error, decided by one
    // reduction so that every rank throws the same exception at the same update.
    MPI_Allreduce(MPI_IN_PLACE, &overflow, 1, MPI_UINT64_T, MPI_BOR, g_.comm());
    if (overflow)
      throw std::runtime_error("sampler.langevin_step: update " + std::to_string(update_index + 1) +
                               " made the field non-finite (the Langevin dynamics is unstable at "
                               "this step size); lower sampler.langevin_step");
    halo_.exchange(phi);
    return {1.0};
  }

 private:
  // 1 if x is inf or NaN (all exponent bits set), else 0. Integer arithmetic, so that the OR
  // over a row vectorises, which a floating-point test of x does not.
  static std::uint64_t non_finite(double x) {
    return (((std::bit_cast<std::uint64_t>(x) >> 52) & 0x7ff) + 1) >> 11;
  }
  // Collective with Fourier acceleration. out = the noise of update n: eta_n, or K^{1/2} eta_n.
  void draw_noise(std::uint64_t n, Field& out) {
    fill_normals(g_, noise_rng_, n, out);
    if (kernel_) kernel_->apply_sqrt(out, out);
  }

  const Model& model_;
  const Geometry& g_;
  HaloExchange halo_;
  LangevinParams params_;
  CounterRng noise_rng_;
  Field force_, eta_, eta_next_;            // F or K F, and the noise of draw_noise
  std::unique_ptr<LangevinKernel> kernel_;  // null without Fourier acceleration
  // eta_next_ holds the noise of update index next_index_ (a cache, not chain state).
  bool has_next_ = false;
  std::uint64_t next_index_ = 0;
};

}  // namespace latdiff
