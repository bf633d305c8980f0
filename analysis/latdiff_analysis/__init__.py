"""Offline analysis of latdiff output files (numpy, h5py; import with analysis/ on sys.path).

autocorrelation: Wolff's Gamma method (numpy only); errors, files, thermalization,
observables, report, cli: the latdiff-analyze program (analysis/latdiff-analyze).
"""

from .autocorrelation import GammaResult, gamma_method, gamma_method_derived

__all__ = ["GammaResult", "gamma_method", "gamma_method_derived"]
