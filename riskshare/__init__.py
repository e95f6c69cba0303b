"""riskshare: simulate multi-layer risk sharing for technology insurance."""

__version__ = "1.0.0"
