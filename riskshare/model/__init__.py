"""What a scenario is, with no I/O: amounts and shares, value types, distributions, the
scenario's models and its cross-field checks.

Imports the standard library, numpy, pydantic and riskshare.errors only.
"""
