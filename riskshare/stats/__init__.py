"""Exact figures of annual series: kept tails and merged summaries.

Imports numpy only; nothing else of riskshare.
"""
