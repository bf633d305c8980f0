"""Offline analysis of latdiff output files (numpy, h5py; import with analysis/ on sys.path)."""

from .autocorrelation import GammaResult, gamma_method, gamma_method_derived

__all__ = ["GammaResult", "gamma_method", "gamma_method_derived"]
