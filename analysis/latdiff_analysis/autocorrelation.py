"""Wolff's Gamma method (U. Wolff, Comput. Phys. Commun. 156 (2004) 143), one or more replicas.

The conventions are those of the C++ latdiff::stats::gamma_method (src/stats/autocorrelation.*),
so the numbers agree with latdiff's summary up to rounding:

* Gamma(t) = 1/(N-t) sum_{i<N-t} d_i d_{i+t}, rho(t) = Gamma(t)/Gamma(0);
* tau_int = 1/2 + sum_{t=1}^{W} rho(t): 0.5 for white noise, error = sigma sqrt(2 tau_int/N);
* W is the first lag with exp(-W/tau_W) < tau_W/sqrt(W N), tau_W = S/ln((2 tau + 1)/(2 tau - 1)),
  or the first lag where the running sum of rho turns non-positive, searched up to N/2;
* Gamma is bias-corrected by C/N (as in UWerr) before the error and tau_int;
* the error of tau_int is Wolff's eq. (42), 2 tau sqrt((W + 1/2 - tau)/N), which for W >> tau
  is the Madras-Sokal tau sqrt(2(2W+1)/N).

Replica (Wolff section 3.3, as UWerr's Nrep): independent chains of one point, lengths N_r,
given as consecutive pieces of one series. The mean is over all N = sum N_r values, Gamma(t)
sums the pairs within each replica (none across a boundary) over sum_r (N_r - t), the window
is searched up to min N_r / 2, and N in the formulas above is the total. One replica is
bitwise the single-chain analysis.
"""

from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np


class GammaResult(NamedTuple):
    value: float          # mean, or f(means) for a derived quantity
    error: float          # statistical error of value, autocorrelation included
    tau_int: float        # 0.5 for uncorrelated data
    tau_int_error: float  # Wolff eq. (42)
    window: int           # summation window W


def _as_series(series, who: str) -> np.ndarray:
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{who}: need a 1D series, got shape {x.shape}")
    if x.size < 2:
        raise ValueError(f"{who}: need at least 2 measurements, got {x.size}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{who}: non-finite value at index {bad[0]}")
    return x


def _check_s(s_tau: float, who: str) -> None:
    if not (np.isfinite(s_tau) and s_tau >= 0.0):
        raise ValueError(f"{who}: s_tau must be finite and >= 0, got {s_tau}")


def autocovariance(d: np.ndarray, max_lag: int) -> np.ndarray:
    """Gamma(t) for t = 0 ... max_lag of fluctuations d, by FFT (Wiener-Khinchin).

    Zero padding to >= 2N makes the circular correlation the linear one.
    """
    n = d.size
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(d, size)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: max_lag + 1]
    return acf / (n - np.arange(max_lag + 1))


def _lag_sums(d: np.ndarray, max_lag: int) -> np.ndarray:
    """sum_{i<N-t} d_i d_{i+t} for t = 0 ... max_lag (unnormalised; zero beyond N - 1)."""
    n = d.size
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(d, size)
    sums = np.zeros(max_lag + 1)
    top = min(max_lag, n - 1)
    sums[: top + 1] = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: top + 1]
    return sums


def replica_autocovariance(d: np.ndarray, lengths: Sequence[int], max_lag: int) -> np.ndarray:
    """Gamma(t), t = 0 ... max_lag, of fluctuations d made of replicas of the given lengths.

    Pairs are taken within each replica only; Gamma(t) is their sum over sum_r max(N_r - t, 0)
    (Wolff's 1/(N - R t) when every N_r > t).
    """
    sums = np.zeros(max_lag + 1)
    counts = np.zeros(max_lag + 1)
    lags = np.arange(max_lag + 1)
    start = 0
    for length in lengths:
        sums += _lag_sums(d[start : start + length], max_lag)
        counts += np.maximum(length - lags, 0)
        start += length
    return sums / counts


def _replica_lengths(replicas, n: int, who: str) -> list:
    """Checked replica lengths (None: one replica of all n values)."""
    if replicas is None:
        return [n]
    lengths = [int(r) for r in replicas]
    if any(int(r) != r for r in replicas):
        raise ValueError(f"{who}: replica lengths must be integers, got {list(replicas)}")
    if not lengths or min(lengths) < 2:
        raise ValueError(f"{who}: need replica lengths >= 2 each, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"{who}: replica lengths sum to {sum(lengths)}, the series has {n}")
    return lengths


def _window(gamma: np.ndarray, n: int, s_tau: float) -> int:
    """Wolff's automatic window W (max_lag = len(gamma) - 1 when the criterion never holds)."""
    max_lag = gamma.size - 1
    if s_tau == 0.0 or max_lag == 0:
        return 0
    t = np.arange(1, max_lag + 1, dtype=float)
    g_int = np.cumsum(gamma[1:] / gamma[0])  # tau_int(t) - 1/2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tau_w = s_tau / np.log((g_int + 1.0) / g_int)
        criterion = np.exp(-t / tau_w) - tau_w / np.sqrt(t * n) < 0.0
    # A non-positive sum: the signal is lost in noise (Wolff's tau_W -> 0 stops at once).
    stop = np.flatnonzero((g_int <= 0.0) | criterion)
    return int(stop[0]) + 1 if stop.size else max_lag


def _analyse(value: float, d: np.ndarray, s_tau: float, lengths: Sequence[int]) -> GammaResult:
    """Windowing and errors for fluctuations d (projected ones for derived quantities)."""
    n = d.size
    gamma = replica_autocovariance(d, lengths, min(lengths) // 2)
    if gamma[0] == 0.0:
        return GammaResult(value, 0.0, 0.5, 0.0, 0)
    window = _window(gamma, n, s_tau)
    c = gamma[0] + 2.0 * gamma[1 : window + 1].sum()
    if c <= 0.0:
        # Strongly anticorrelated data, where the method does not apply: W = 0 overestimates
        # the error rather than underestimating it (as the C++ does).
        window, c = 0, gamma[0]
    c_corr = c * (1.0 + (2.0 * window + 1.0) / n)
    gamma0_corr = gamma[0] + c / n
    tau = c_corr / (2.0 * gamma0_corr)
    tau_err = 2.0 * tau * np.sqrt(max(0.0, window + 0.5 - tau) / n)
    return GammaResult(float(value), float(np.sqrt(c_corr / n)), float(tau), float(tau_err),
                       int(window))


def gamma_method(series, s_tau: float = 1.5,
                 replicas: Optional[Sequence[int]] = None) -> GammaResult:
    """Mean of one series with its autocorrelation-aware error, tau_int and window.

    s_tau = 0 assumes no autocorrelation (W = 0). A constant series gives error 0, tau 0.5.
    replicas: lengths of independent chains of one point concatenated in series (None: one).
    Raises ValueError for fewer than 2 values, a non-finite value, a bad s_tau or bad replicas.
    """
    x = _as_series(series, "gamma_method")
    _check_s(s_tau, "gamma_method")
    lengths = _replica_lengths(replicas, x.size, "gamma_method")
    if np.all(x == x[0]):
        return GammaResult(float(x[0]), 0.0, 0.5, 0.0, 0)
    mean = x.mean()
    return _analyse(mean, x - mean, s_tau, lengths)


def gamma_method_derived(series: Sequence, f: Callable[[np.ndarray], float],
                         s_tau: float = 1.5,
                         replicas: Optional[Sequence[int]] = None) -> GammaResult:
    """f(<a_1>, ..., <a_n>) of n series measured at the same Monte Carlo times.

    Fluctuations are projected with the gradient of f at the means (central differences with
    step sigma/(2 sqrt N), as UWerr) and analysed like one series. f takes an array of n means.
    replicas: as for gamma_method, the same lengths for every series; f is taken at the means
    over all replicas (no replica bias correction).
    Raises ValueError for bad input and ArithmeticError where f or its gradient is not finite.
    """
    who = "gamma_method_derived"
    if len(series) == 0:
        raise ValueError(f"{who}: no series given")
    data = [_as_series(a, who) for a in series]
    n = data[0].size
    for k, a in enumerate(data):
        if a.size != n:
            raise ValueError(f"{who}: series {k} has length {a.size}, series 0 has {n}")
    _check_s(s_tau, who)
    lengths = _replica_lengths(replicas, n, who)
    means = np.array([a.mean() for a in data])
    sigmas = np.array([a.std() for a in data])
    value = float(f(means))
    if not np.isfinite(value):
        raise ArithmeticError(f"{who}: f is not finite at the means")
    projected = np.zeros(n)
    for k, a in enumerate(data):
        h = sigmas[k] / (2.0 * np.sqrt(n))
        if h == 0.0:
            continue  # a constant series contributes no fluctuation
        up, down = means.copy(), means.copy()
        up[k] += h
        down[k] -= h
        grad = (f(up) - f(down)) / (2.0 * h)
        if not np.isfinite(grad):
            raise ArithmeticError(f"{who}: gradient of f is not finite at the means "
                                  f"(component {k})")
        projected += grad * (a - means[k])
    return _analyse(value, projected, s_tau, lengths)
