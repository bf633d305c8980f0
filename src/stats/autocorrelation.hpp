// Autocorrelation-aware error analysis of Monte Carlo time series: Wolff's Gamma method
// (U. Wolff, "Monte Carlo errors with less errors", Comput. Phys. Commun. 156 (2004) 143),
// single replicum, automatic windowing as in his UWerr reference implementation.
//
// Conventions: rho(t) = Gamma(t)/Gamma(0), tau_int = 1/2 + sum_{t=1}^{W} rho(t), so an
// uncorrelated series has tau_int = 0.5 and error = sigma * sqrt(2 tau_int / N).
#pragma once

#include <functional>
#include <span>
#include <vector>

namespace latdiff::stats {

struct GammaResult {
  // Mean, or f(means) for derived quantities. With a single replicum Wolff's O(1/N) bias
  // cancellation of f is not available (it needs R >= 2 replica), so this is f(means) exactly;
  // the Gamma function itself is bias-corrected (Gamma(t) += C_F/N) before error and tau_int.
  double value;
  double error;          // statistical error of `value`, including autocorrelation
  double tau_int;        // 1/2 + sum_{t=1}^{W} rho(t); 0.5 for uncorrelated data
  double tau_int_error;  // Madras-Sokal: 2 tau_int sqrt((W + 1/2 - tau_int) / N)
  int window;            // summation window W
};

// Gamma method for the mean of one series. S is Wolff's S_tau (> 0; S = 0 means "assume no
// autocorrelation", W = 0). The window is the first W with exp(-W/tau_W) < tau_W/sqrt(W N),
// tau_W = S / ln((2 tau_int(W) + 1) / (2 tau_int(W) - 1)), searched up to N/2; W is the
// first lag where the running sum of rho turns non-positive if that comes earlier.
//
// Special cases: a constant series gives error 0, tau_int 0.5, window 0. If the windowed
// sum makes the variance of the mean non-positive (strongly anticorrelated data, where
// Wolff's method is not applicable), the result falls back to W = 0, which overestimates
// the error of anticorrelated data rather than underestimating it.
//
// Throws std::invalid_argument for fewer than 2 values, a non-finite value, or S < 0 / NaN.
// Cost O(N W), switching to an O(N log N) FFT when the window grows large.
GammaResult gamma_method(std::span<const double> series, double S = 1.5);

// Derived quantity f(<a_1>, ..., <a_n>) of n primary series of equal length, measured at the
// same Monte Carlo times. Fluctuations are projected with the gradient of f at the means
// (central differences with step sigma_alpha / (2 sqrt N), as in UWerr) and the projected
// series is analysed as above. f is called with a span of n values.
//
// Throws std::invalid_argument for no series, unequal lengths, fewer than 2 values, a
// non-finite value or a bad S; std::domain_error if f or its numerical gradient is not finite
// at the means.
GammaResult gamma_method_derived(const std::vector<std::span<const double>>& series,
                                 const std::function<double(std::span<const double>)>& f,
                                 double S = 1.5);

}  // namespace latdiff::stats
