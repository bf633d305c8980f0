#include "samplers/fourier_kernel.hpp"

#include <numbers>
#include <stdexcept>
#include <string>

namespace latdiff {

namespace {

constexpr int index(KernelPower s) {
  return static_cast<int>(s);
}

}  // namespace

FourierKernel::FourierKernel(const Geometry& g, double mass2) : g_(g), fft_(g) {
  // Every rank gets the same mass2, so all throw alike (fft_'s collective destructor runs).
  if (!(mass2 > 0))
    throw std::invalid_argument("FourierKernel: M^2 must be > 0 (got " + std::to_string(mass2) +
                                ")");
  std::vector<double> m = lattice_momentum_squared(g);
  for (double& x : m) x += mass2;
  for (KernelPower s : {KernelPower::minus_one, KernelPower::minus_half, KernelPower::half}) {
    std::vector<double>& a = power_[index(s)];
    a.resize(m.size());
    for (std::size_t p = 0; p < m.size(); ++p) {
      const double root = std::sqrt(m[p]);
      a[p] = s == KernelPower::minus_one ? 1 / m[p] : s == KernelPower::half ? root : 1 / root;
    }
  }
  power_[index(KernelPower::one)] = std::move(m);
  max_mass_ = max_lattice_momentum_squared(g) + mass2;
}

void FourierKernel::apply(KernelPower s, const Field& x, Field& out, double factor) {
  fft_.forward(x, spectrum_);
  const std::vector<double>& a = power_[index(s)];
  for (std::size_t p = 0; p < a.size(); ++p) spectrum_[p] *= a[p] * factor;
  fft_.inverse(spectrum_, out);
}

ExactSum FourierKernel::quadratic_form(KernelPower s, const Field& x, double factor) {
  fft_.forward(x, spectrum_);
  const std::vector<double>& a = power_[index(s)];
  const double c = factor / static_cast<double>(g_.global_volume());
  ExactSum sum;
  for (std::size_t p = 0; p < a.size(); ++p) {
    const double re = spectrum_[p].real(), im = spectrum_[p].imag();
    sum.add((re * re + im * im) * a[p] * c);
  }
  return sum;
}

}  // namespace latdiff
