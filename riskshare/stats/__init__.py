"""Exact figures of annual series: kept tails, merged summaries, exceedance curves.

Imports numpy and riskshare.errors only.
"""
