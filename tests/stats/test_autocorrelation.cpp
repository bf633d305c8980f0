#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "stats/autocorrelation.hpp"

namespace latdiff::stats {
namespace {

// Own Box-Muller on mt19937_64 so the series are identical on every standard library.
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : eng_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = uniform_open();
    const double u2 = uniform_open();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  double uniform_open() { return (static_cast<double>(eng_() >> 11) + 0.5) * 0x1.0p-53; }
  std::mt19937_64 eng_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Stationary AR(1): unit variance, rho(t) = a^|t|, tau_int = (1/2)(1+a)/(1-a).
std::vector<double> ar1(double a, std::size_t n, std::uint64_t seed) {
  Gaussian g(seed);
  std::vector<double> x(n);
  const double s = std::sqrt(1.0 - a * a);
  x[0] = g();
  for (std::size_t i = 1; i < n; ++i) x[i] = a * x[i - 1] + s * g();
  return x;
}

double ar1_tau(double a) {
  return 0.5 * (1.0 + a) / (1.0 - a);
}

// Relative statistical uncertainty of an error estimate (Wolff's ddvalue / dvalue).
double rel_error_of_error(const GammaResult& r, std::size_t n) {
  return std::sqrt((r.window + 0.5) / static_cast<double>(n));
}

class Ar1 : public ::testing::TestWithParam<double> {};

TEST_P(Ar1, TauIntAndErrorMatchExact) {
  const double a = GetParam();
  const std::size_t n = 200000;
  const auto x = ar1(a, n, 20240611);
  const GammaResult r = gamma_method(x);
  const double tau = ar1_tau(a);
  const double exact_error = std::sqrt(2.0 * tau / static_cast<double>(n));
  EXPECT_NEAR(r.tau_int, tau, 3.0 * r.tau_int_error) << "a = " << a;
  EXPECT_NEAR(r.error / exact_error, 1.0, 3.0 * rel_error_of_error(r, n)) << "a = " << a;
  EXPECT_NEAR(r.value, 0.0, 3.0 * r.error) << "a = " << a;
  EXPECT_GT(r.window, 0);
  EXPECT_GT(r.tau_int_error, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Coefficients, Ar1, ::testing::Values(0.0, 0.5, 0.9));

// The error is a calibrated 68% interval: over many independent chains the true mean lies
// within one error at the nominal rate, and the mean squared error matches 2 tau/N.
TEST(GammaMethod, ErrorsCoverTrueMeanAtNominalRate) {
  const double a = 0.5;
  const std::size_t n = 2000;
  const int chains = 400;
  int covered = 0;
  double sum_err2 = 0.0;
  for (int c = 0; c < chains; ++c) {
    const auto x = ar1(a, n, 1000 + static_cast<std::uint64_t>(c));
    const GammaResult r = gamma_method(x);
    if (std::abs(r.value) < r.error) ++covered;
    sum_err2 += r.error * r.error;
  }
  const double rate = static_cast<double>(covered) / chains;
  const double sd = std::sqrt(0.6827 * 0.3173 / chains);
  EXPECT_NEAR(rate, 0.6827, 3.0 * sd);
  const double exact_err2 = 2.0 * ar1_tau(a) / static_cast<double>(n);
  EXPECT_NEAR(sum_err2 / chains / exact_err2, 1.0, 0.03);
}

// Exact numbers for a 4-point series, worked out by hand with Wolff's formulas:
// d = (-1,-1,1,1)/2, Gamma(0) = 1/4, Gamma(1) = 1/12, tau_W = 1.5/ln 4 gives W = 1,
// C = 5/12 -> bias-corrected C = 35/48, Gamma(0) = 17/48.
TEST(GammaMethod, SmallSeriesMatchesHandComputation) {
  const std::vector<double> x{0.0, 0.0, 1.0, 1.0};
  const GammaResult r = gamma_method(x);
  const double tau = 35.0 / 34.0;
  EXPECT_DOUBLE_EQ(r.value, 0.5);
  EXPECT_EQ(r.window, 1);
  EXPECT_DOUBLE_EQ(r.tau_int, tau);
  EXPECT_DOUBLE_EQ(r.error, std::sqrt(35.0 / 192.0));
  EXPECT_DOUBLE_EQ(r.tau_int_error, 2.0 * tau * std::sqrt((1.5 - tau) / 4.0));
}

// Straightforward O(N W) transcription of UWerr's windowing for one series.
GammaResult reference_gamma(const std::vector<double>& x, double S) {
  const std::size_t n = x.size();
  double m = 0.0;
  for (double v : x) m += v;
  m /= static_cast<double>(n);
  auto gamma = [&](std::size_t t) {
    double s = 0.0;
    for (std::size_t i = 0; i + t < n; ++i) s += (x[i] - m) * (x[i + t] - m);
    return s / static_cast<double>(n - t);
  };
  std::vector<double> g{gamma(0)};
  std::size_t w = n / 2;
  double g_int = 0.0;
  for (std::size_t t = 1; t <= n / 2; ++t) {
    g.push_back(gamma(t));
    g_int += g[t] / g[0];
    const double tau_w =
        g_int <= 0.0 ? std::numeric_limits<double>::epsilon() : S / std::log((g_int + 1.0) / g_int);
    if (std::exp(-static_cast<double>(t) / tau_w) - tau_w / std::sqrt(static_cast<double>(t * n)) <
        0.0) {
      w = t;
      break;
    }
  }
  double c = g[0];
  for (std::size_t t = 1; t <= w; ++t) c += 2.0 * g[t];
  for (std::size_t t = 0; t <= w; ++t) g[t] += c / static_cast<double>(n);
  c = g[0];
  for (std::size_t t = 1; t <= w; ++t) c += 2.0 * g[t];
  const double tau = c / (2.0 * g[0]);
  return {m, std::sqrt(c / static_cast<double>(n)), tau,
          2.0 * tau * std::sqrt((static_cast<double>(w) + 0.5 - tau) / static_cast<double>(n)),
          static_cast<int>(w)};
}

// tau_int ~ 100 pushes the window past the lags summed directly, onto the FFT path.
TEST(GammaMethod, LongWindowAgreesWithDirectSummationAndExact) {
  const double a = 0.99;
  const std::size_t n = 50000;
  const auto x = ar1(a, n, 777);
  const GammaResult r = gamma_method(x);
  const GammaResult ref = reference_gamma(x, 1.5);
  ASSERT_GT(r.window, 256);
  EXPECT_EQ(r.window, ref.window);
  EXPECT_NEAR(r.value, ref.value, 1e-12);
  EXPECT_NEAR(r.error, ref.error, 1e-10 * ref.error);
  EXPECT_NEAR(r.tau_int, ref.tau_int, 1e-10 * ref.tau_int);
  EXPECT_NEAR(r.tau_int_error, ref.tau_int_error, 1e-10 * ref.tau_int_error);
  EXPECT_NEAR(r.tau_int, ar1_tau(a), 3.0 * r.tau_int_error);
}

TEST(GammaMethod, LargerSGivesLargerWindow) {
  const auto x = ar1(0.9, 50000, 99);
  EXPECT_LT(gamma_method(x, 1.0).window, gamma_method(x, 3.0).window);
}

// <a>/<b> with a = 2 + x, b = 4 + x + z, x and z independent AR(1). The projected
// fluctuation is (x - z)/8, so error = sqrt(2 (tau_x + tau_z) / N) / 8 and
// tau_int = (tau_x + tau_z) / 2.
TEST(GammaMethodDerived, RatioOfMeansMatchesExact) {
  const std::size_t n = 200000;
  const double ax = 0.5, az = 0.8;
  const auto x = ar1(ax, n, 11);
  const auto z = ar1(az, n, 12);
  std::vector<double> A(n), B(n);
  for (std::size_t i = 0; i < n; ++i) {
    A[i] = 2.0 + x[i];
    B[i] = 4.0 + x[i] + z[i];
  }
  const GammaResult r =
      gamma_method_derived({A, B}, [](std::span<const double> m) { return m[0] / m[1]; });
  const double tau = 0.5 * (ar1_tau(ax) + ar1_tau(az));
  const double exact_error = std::sqrt(4.0 * tau / static_cast<double>(n)) / 8.0;
  EXPECT_NEAR(r.value, 0.5, 3.0 * r.error);
  EXPECT_NEAR(r.error / exact_error, 1.0, 3.0 * rel_error_of_error(r, n));
  EXPECT_NEAR(r.tau_int, tau, 3.0 * r.tau_int_error);
}

// <x^2> - <x>^2 of unit-variance AR(1): value 1, fluctuation x^2 - 1 with variance 2 and
// rho(t) = a^(2t), so tau_int = (1/2)(1+a^2)/(1-a^2).
TEST(GammaMethodDerived, VarianceMatchesExact) {
  const std::size_t n = 200000;
  const double a = 0.7;
  const auto x = ar1(a, n, 5);
  std::vector<double> x2(n);
  for (std::size_t i = 0; i < n; ++i) x2[i] = x[i] * x[i];
  const GammaResult r =
      gamma_method_derived({x, x2}, [](std::span<const double> m) { return m[1] - m[0] * m[0]; });
  const double tau = ar1_tau(a * a);
  const double exact_error = std::sqrt(2.0 * 2.0 * tau / static_cast<double>(n));
  EXPECT_NEAR(r.value, 1.0, 3.0 * r.error);
  // x^2 is far from Gaussian, so the error of the error is ~1.3% here (measured over 300
  // seeds), about 1.5x Wolff's Gaussian estimate; 4% is three of those.
  EXPECT_NEAR(r.error / exact_error, 1.0, 0.04);
  EXPECT_NEAR(r.tau_int, tau, 3.0 * r.tau_int_error);
}

TEST(GammaMethodDerived, LinearFunctionEqualsPrimaryAnalysis) {
  const std::size_t n = 20000;
  const auto x = ar1(0.6, n, 21);
  const auto y = ar1(0.3, n, 22);
  std::vector<double> comb(n);
  for (std::size_t i = 0; i < n; ++i) comb[i] = 3.0 * x[i] - 2.0 * y[i];
  const GammaResult p = gamma_method(comb);
  const GammaResult d = gamma_method_derived(
      {x, y}, [](std::span<const double> m) { return 3.0 * m[0] - 2.0 * m[1]; });
  EXPECT_NEAR(d.value, p.value, 1e-12);
  EXPECT_NEAR(d.error, p.error, 1e-8 * p.error);
  EXPECT_NEAR(d.tau_int, p.tau_int, 1e-8 * p.tau_int);
  EXPECT_EQ(d.window, p.window);

  const GammaResult id = gamma_method_derived({x}, [](std::span<const double> m) { return m[0]; });
  const GammaResult px = gamma_method(x);
  EXPECT_NEAR(id.value, px.value, 1e-15);
  EXPECT_NEAR(id.error, px.error, 1e-8 * px.error);
  EXPECT_NEAR(id.tau_int, px.tau_int, 1e-8 * px.tau_int);
  EXPECT_EQ(id.window, px.window);
}

TEST(GammaMethodDerived, ValueIsFOfMeans) {
  const std::vector<double> a{1.0, 2.0, 4.0, 3.0, 5.0, 6.0};
  const std::vector<double> b{2.0, 1.0, 1.0, 3.0, 2.0, 3.0};
  const GammaResult r =
      gamma_method_derived({a, b}, [](std::span<const double> m) { return m[0] * m[1]; });
  EXPECT_DOUBLE_EQ(r.value, 3.5 * 2.0);
  EXPECT_GT(r.error, 0.0);
}

TEST(EdgeCases, TooShortSeriesThrows) {
  const std::vector<double> empty;
  const std::vector<double> one{1.0};
  EXPECT_THROW(gamma_method(empty), std::invalid_argument);
  EXPECT_THROW(gamma_method(one), std::invalid_argument);
  auto f = [](std::span<const double> m) { return m[0]; };
  EXPECT_THROW(gamma_method_derived({one}, f), std::invalid_argument);
  EXPECT_THROW(gamma_method_derived({empty}, f), std::invalid_argument);
}

TEST(EdgeCases, LengthTwoWorks) {
  const std::vector<double> x{1.0, 3.0};
  const GammaResult r = gamma_method(x);
  EXPECT_DOUBLE_EQ(r.value, 2.0);
  EXPECT_TRUE(std::isfinite(r.error));
  EXPECT_GT(r.error, 0.0);
  EXPECT_TRUE(std::isfinite(r.tau_int));
}

TEST(EdgeCases, ConstantSeries) {
  for (double c : {0.0, 0.1, -3.7e5}) {
    const std::vector<double> x(1000, c);
    const GammaResult r = gamma_method(x);
    EXPECT_EQ(r.value, c);
    EXPECT_EQ(r.error, 0.0);
    EXPECT_EQ(r.tau_int, 0.5);
    EXPECT_EQ(r.tau_int_error, 0.0);
    EXPECT_EQ(r.window, 0);
  }
  const std::vector<double> a(100, 2.0), b(100, 4.0);
  const GammaResult d =
      gamma_method_derived({a, b}, [](std::span<const double> m) { return m[0] / m[1]; });
  EXPECT_DOUBLE_EQ(d.value, 0.5);
  EXPECT_EQ(d.error, 0.0);
  EXPECT_EQ(d.tau_int, 0.5);
  EXPECT_EQ(d.window, 0);
}

// A derived quantity that depends only on a constant series has no fluctuation, even when
// the other series fluctuates.
TEST(EdgeCases, DerivedOfConstantComponentOnly) {
  const auto x = ar1(0.5, 1000, 3);
  const std::vector<double> c(1000, 7.0);
  const GammaResult r =
      gamma_method_derived({x, c}, [](std::span<const double> m) { return 2.0 * m[1]; });
  EXPECT_DOUBLE_EQ(r.value, 14.0);
  EXPECT_EQ(r.error, 0.0);
  EXPECT_EQ(r.window, 0);
}

// rho(1) = -1: Wolff's windowed sum would give a negative variance; the analysis falls back
// to W = 0 (a conservative error) instead of failing.
TEST(EdgeCases, AlternatingSeriesFallsBackToNoWindow) {
  std::vector<double> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % 2 == 0) ? 1.0 : -1.0;
  const GammaResult r = gamma_method(x);
  EXPECT_EQ(r.window, 0);
  EXPECT_DOUBLE_EQ(r.tau_int, 0.5);
  EXPECT_DOUBLE_EQ(r.error, std::sqrt((1.0 + 1.0 / 1000.0) / 1000.0));
}

TEST(EdgeCases, SZeroMeansNoAutocorrelation) {
  const auto x = ar1(0.9, 5000, 8);
  const GammaResult r = gamma_method(x, 0.0);
  EXPECT_EQ(r.window, 0);
  EXPECT_DOUBLE_EQ(r.tau_int, 0.5);
}

TEST(EdgeCases, InvalidInputsThrow) {
  const std::vector<double> x{1.0, 2.0, 3.0};
  const std::vector<double> y{1.0, 2.0};
  auto f = [](std::span<const double> m) { return m[0]; };
  EXPECT_THROW(gamma_method(x, -1.0), std::invalid_argument);
  EXPECT_THROW(gamma_method(x, std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  const std::vector<double> bad{1.0, std::numeric_limits<double>::quiet_NaN(), 3.0};
  EXPECT_THROW(gamma_method(bad), std::invalid_argument);
  EXPECT_THROW(gamma_method_derived({}, f), std::invalid_argument);
  EXPECT_THROW(gamma_method_derived({x, y}, f), std::invalid_argument);
  EXPECT_THROW(gamma_method_derived({x}, nullptr), std::invalid_argument);
  const std::vector<double> zeros(3, 0.0);
  EXPECT_THROW(
      gamma_method_derived({x, zeros}, [](std::span<const double> m) { return m[0] / m[1]; }),
      std::domain_error);
}

}  // namespace
}  // namespace latdiff::stats
