#include "stats/autocorrelation.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <stdexcept>
#include <string>

namespace latdiff::stats {
namespace {

// Beyond this lag the remaining Gamma(t) are computed all at once by FFT, so a series whose
// window grows towards N/2 costs O(N log N) instead of O(N^2).
constexpr std::size_t kDirectLags = 128;

void check_series(std::span<const double> x, const char* who) {
  if (x.size() < 2) {
    throw std::invalid_argument(std::string(who) + ": need at least 2 measurements, got " +
                                std::to_string(x.size()));
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw std::invalid_argument(std::string(who) + ": non-finite value at index " +
                                  std::to_string(i));
    }
  }
}

void check_S(double S, const char* who) {
  if (!(S >= 0.0) || !std::isfinite(S)) {
    throw std::invalid_argument(std::string(who) + ": S must be finite and >= 0, got " +
                                std::to_string(S));
  }
}

// Mean with one correction pass, which removes most of the rounding of the plain sum.
double mean_of(std::span<const double> x) {
  const double n = static_cast<double>(x.size());
  double s = 0.0;
  for (double v : x) s += v;
  const double m = s / n;
  double c = 0.0;
  for (double v : x) c += v - m;
  return m + c / n;
}

// Four partial sums so the compiler can pipeline the reduction without -ffast-math.
double dot(const double* a, const double* b, std::size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

using Complex = std::complex<double>;

// Written out: std::complex operator* goes through the slow NaN-aware __muldc3.
Complex mul(Complex a, Complex b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// Radix-2 FFTs, depth first so that all but the top few levels run in cache. tw[k * stride]
// = exp(-2 pi i k / n) for the current size n. The forward decimation-in-frequency transform
// leaves its output in bit-reversed order and the inverse decimation-in-time transform takes
// its input in that order, so a pointwise product in between needs no reordering.
void fft_dif(Complex* a, std::size_t n, const Complex* tw, std::size_t stride) {
  if (n == 1) return;
  const std::size_t h = n / 2;
  for (std::size_t k = 0; k < h; ++k) {
    const Complex u = a[k];
    const Complex v = a[k + h];
    a[k] = u + v;
    a[k + h] = mul(u - v, tw[k * stride]);
  }
  fft_dif(a, h, tw, 2 * stride);
  fft_dif(a + h, h, tw, 2 * stride);
}

// Unnormalised inverse (conjugate twiddles): fft_dit(fft_dif(x)) = n x.
void fft_dit(Complex* a, std::size_t n, const Complex* tw, std::size_t stride) {
  if (n == 1) return;
  const std::size_t h = n / 2;
  fft_dit(a, h, tw, 2 * stride);
  fft_dit(a + h, h, tw, 2 * stride);
  for (std::size_t k = 0; k < h; ++k) {
    const Complex u = a[k];
    const Complex v = mul(a[k + h], std::conj(tw[k * stride]));
    a[k] = u + v;
    a[k + h] = u - v;
  }
}

// Gamma(t) = 1/(N-t) sum_{i<N-t} d_i d_{i+t}, computed lazily as the window search asks.
class Autocovariance {
 public:
  Autocovariance(std::span<const double> d, std::size_t max_lag) : d_(d), max_lag_(max_lag) {}

  double operator()(std::size_t t) {
    const std::size_t n = d_.size();
    if (t < kDirectLags || max_lag_ < 2 * kDirectLags) {
      return dot(d_.data(), d_.data() + t, n - t) / static_cast<double>(n - t);
    }
    if (all_.empty()) compute_all();
    return all_[t];
  }

 private:
  // Wiener-Khinchin; zero padding to >= 2N makes the circular correlation the linear one.
  // Twiddles come from exact sin/cos (not a recurrence): round-off stays O(eps log n).
  void compute_all() {
    const std::size_t n = d_.size();
    std::size_t size = 1;
    while (size < 2 * n) size <<= 1;
    std::vector<Complex> tw(size / 2);
    for (std::size_t k = 0; k < size / 2; ++k) {
      const double phi =
          -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(size);
      tw[k] = {std::cos(phi), std::sin(phi)};
    }
    std::vector<Complex> a(size);
    for (std::size_t i = 0; i < n; ++i) a[i] = d_[i];
    fft_dif(a.data(), size, tw.data(), 1);
    for (auto& z : a) z = std::norm(z);
    fft_dit(a.data(), size, tw.data(), 1);
    all_.resize(max_lag_ + 1);
    for (std::size_t t = 0; t <= max_lag_; ++t) {
      all_[t] = a[t].real() / static_cast<double>(size) / static_cast<double>(n - t);
    }
  }

  std::span<const double> d_;
  std::size_t max_lag_;
  std::vector<double> all_;
};

// Wolff's windowing and error estimate for fluctuations d (deviations from the mean, already
// projected for derived quantities) of an estimate `value`.
GammaResult analyse(double value, std::span<const double> d, double S) {
  const std::size_t n = d.size();
  const double nd = static_cast<double>(n);
  const std::size_t max_lag = n / 2;
  Autocovariance gamma_of(d, max_lag);

  const double gamma0 = gamma_of(0);
  if (gamma0 == 0.0) return {value, 0.0, 0.5, 0.0, 0};

  std::vector<double> gamma{gamma0};
  std::size_t window = max_lag;  // used when the criterion never triggers
  if (S == 0.0) {
    window = 0;
  } else {
    double g_int = 0.0;  // sum_{t'=1}^{t} rho(t') = tau_int(t) - 1/2
    for (std::size_t t = 1; t <= max_lag; ++t) {
      gamma.push_back(gamma_of(t));
      g_int += gamma.back() / gamma0;
      // A non-positive sum means the signal is lost in noise: Wolff sets tau_W -> 0, which
      // makes the criterion below hold at once.
      if (g_int <= 0.0) {
        window = t;
        break;
      }
      const double tau_w = S / std::log((g_int + 1.0) / g_int);
      const double td = static_cast<double>(t);
      if (std::exp(-td / tau_w) - tau_w / std::sqrt(td * nd) < 0.0) {
        window = t;
        break;
      }
    }
  }

  double c = gamma[0];
  for (std::size_t t = 1; t <= window; ++t) c += 2.0 * gamma[t];
  if (c <= 0.0) {
    window = 0;
    c = gamma[0];
  }
  // Wolff's bias correction of Gamma (as in UWerr): every Gamma(t) shifts by C/N, so C and
  // Gamma(0) shift by (2W+1) C/N and C/N respectively.
  const double w = static_cast<double>(window);
  const double c_corr = c * (1.0 + (2.0 * w + 1.0) / nd);
  const double gamma0_corr = gamma[0] + c / nd;
  const double tau = c_corr / (2.0 * gamma0_corr);
  const double tau_err = 2.0 * tau * std::sqrt(std::max(0.0, w + 0.5 - tau) / nd);
  return {value, std::sqrt(c_corr / nd), tau, tau_err, static_cast<int>(window)};
}

}  // namespace

GammaResult gamma_method(std::span<const double> series, double S) {
  check_series(series, "gamma_method");
  check_S(S, "gamma_method");
  const double m = mean_of(series);
  if (std::all_of(series.begin(), series.end(), [&](double v) { return v == series[0]; })) {
    return {series[0], 0.0, 0.5, 0.0, 0};
  }
  std::vector<double> d(series.size());
  for (std::size_t i = 0; i < series.size(); ++i) d[i] = series[i] - m;
  return analyse(m, d, S);
}

GammaResult gamma_method_derived(const std::vector<std::span<const double>>& series,
                                 const std::function<double(std::span<const double>)>& f,
                                 double S) {
  constexpr const char* who = "gamma_method_derived";
  if (series.empty()) throw std::invalid_argument(std::string(who) + ": no series given");
  if (!f) throw std::invalid_argument(std::string(who) + ": empty function f");
  const std::size_t n = series[0].size();
  for (std::size_t a = 0; a < series.size(); ++a) {
    if (series[a].size() != n) {
      throw std::invalid_argument(std::string(who) + ": series " + std::to_string(a) +
                                  " has length " + std::to_string(series[a].size()) +
                                  ", series 0 has " + std::to_string(n));
    }
    check_series(series[a], who);
  }
  check_S(S, who);

  const std::size_t n_obs = series.size();
  const double nd = static_cast<double>(n);
  std::vector<double> means(n_obs);
  std::vector<double> sigmas(n_obs);
  for (std::size_t a = 0; a < n_obs; ++a) {
    means[a] = mean_of(series[a]);
    double s = 0.0;
    for (double v : series[a]) s += (v - means[a]) * (v - means[a]);
    sigmas[a] = std::sqrt(s / nd);
  }

  const double value = f(means);
  if (!std::isfinite(value)) {
    throw std::domain_error(std::string(who) + ": f is not finite at the means");
  }

  // Step sigma/(2 sqrt N), half the naive error, as in UWerr: small against the statistical
  // spread of the means, large against round-off.
  std::vector<double> grad(n_obs, 0.0);
  std::vector<double> arg = means;
  for (std::size_t a = 0; a < n_obs; ++a) {
    const double h = sigmas[a] / (2.0 * std::sqrt(nd));
    if (h == 0.0) continue;  // a constant series contributes no fluctuation
    arg[a] = means[a] + h;
    const double fp = f(arg);
    arg[a] = means[a] - h;
    const double fm = f(arg);
    arg[a] = means[a];
    grad[a] = (fp - fm) / (2.0 * h);
    if (!std::isfinite(grad[a])) {
      throw std::domain_error(std::string(who) + ": gradient of f is not finite at the means " +
                              "(component " + std::to_string(a) + ")");
    }
  }

  std::vector<double> projected(n, 0.0);
  for (std::size_t a = 0; a < n_obs; ++a) {
    if (grad[a] == 0.0) continue;
    for (std::size_t i = 0; i < n; ++i) projected[i] += grad[a] * (series[a][i] - means[a]);
  }
  return analyse(value, projected, S);
}

}  // namespace latdiff::stats
