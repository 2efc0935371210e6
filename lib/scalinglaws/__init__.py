"""Shared library of the Kaplan et al. (2020) scaling-laws book."""
__version__ = "0.1.0"
