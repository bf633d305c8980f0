// Fourier acceleration (DESIGN.md §3): operators diagonal in momentum space, built from
//   M~(p) = phat^2 + M^2,   phat^2 = sum_mu 4 sin^2(p_mu / 2),   M^2 > 0,
// and applied to real fields through the distributed FFT (fft/distributed_fft.hpp). That FFT
// is bitwise independent of the decomposition, and everything here is per momentum or an
// exact sum, so Fourier-accelerated chains are too.
//
// With x~(p) = sum_x e^{-ip.x} x_x (DESIGN.md §1), a power of M~ acts as
//   M~^s x = F^{-1}[M~^s(p) x~(p)],   and by Parseval   x^T M~^s x = (1/V) sum_p M~^s |x~(p)|^2.
// M~ is the position-space operator -Laplacian + M^2, real and symmetric; M~^s x is real up
// to rounding and its real part is kept.
//
// One implementation for every sampler: HMC uses the mass matrix M = M~ (hmc.hpp); Langevin and
// MALA use the kernel K = M~_max / M~ (LangevinKernel below; langevin.hpp, mala.hpp).
#pragma once

#include <array>
#include <cmath>
#include <vector>

#include "fft/distributed_fft.hpp"
#include "lattice/exact_sum.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

// The powers of M~ the samplers need.
enum class KernelPower { minus_one, minus_half, half, one };

class FourierKernel {
 public:
  // Collective over g.comm() (plans the FFT). `g` must outlive the object. Throws
  // std::invalid_argument unless mass2 > 0 (M~ must be positive definite).
  FourierKernel(const Geometry& g, double mass2);

  // M~(p) for this rank's momenta, in the momentum-space layout of distributed_fft.hpp.
  const std::vector<double>& mass() const { return power_[static_cast<int>(KernelPower::one)]; }
  // The largest M~ on the whole lattice, phat^2_max + M^2 (computed from the global extents,
  // so the same on every rank; no communication).
  double max_mass() const { return max_mass_; }

  // Collective. Interior of out = factor * M~^s x; x's halo is ignored and out's left alone.
  // out may be x.
  void apply(KernelPower s, const Field& x, Field& out, double factor = 1.0);
  // Collective (one FFT). This rank's part of factor * x^T M~^s x, as the per-momentum terms
  // (factor / V) M~^s(p) |x~(p)|^2 of an exact sum; allreduce it, alone or together with other
  // terms, for the global value.
  ExactSum quadratic_form(KernelPower s, const Field& x, double factor);

 private:
  const Geometry& g_;
  DistributedFft fft_;
  std::array<std::vector<double>, 4> power_;  // M~^s(p), indexed by KernelPower
  double max_mass_ = 0;
  ComplexField spectrum_;
};

// The Langevin kernel K(p) = M~_max / M~(p) of Fourier-accelerated Langevin and MALA. The
// normalisation makes K = 1 at the highest lattice momentum, so the UV modes keep the step eps
// of the unaccelerated update (and its stability bound) while the IR modes are sped up by
// M~_max / M~(p); for a free field in mass form with M^2 = m^2, every mode relaxes at the rate
// eps (phat^2_max + m^2) of the fastest unaccelerated one.
class LangevinKernel {
 public:
  // Collective over g.comm(). `g` must outlive the object; mass2 = M^2 > 0.
  LangevinKernel(const Geometry& g, double mass2)
      : m_(g, mass2), scale_(m_.max_mass()), sqrt_scale_(std::sqrt(scale_)) {}

  // Collective. f = K f (the preconditioned drift K F).
  void apply(Field& f) { m_.apply(KernelPower::minus_one, f, f, scale_); }
  // Collective. out = K^{1/2} eta (noise with covariance K for white eta).
  void apply_sqrt(const Field& eta, Field& out) {
    m_.apply(KernelPower::minus_half, eta, out, sqrt_scale_);
  }
  // Collective. This rank's part of factor * x^T K^{-1} x (see FourierKernel::quadratic_form).
  ExactSum inverse_form(const Field& x, double factor) {
    return m_.quadratic_form(KernelPower::one, x, factor / scale_);
  }

 private:
  FourierKernel m_;
  double scale_, sqrt_scale_;
};

}  // namespace latdiff
