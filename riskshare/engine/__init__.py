"""A compiled plan to annual series: events drawn, laid out by year, allocated layer by
layer, checked and summarised, block by block and on workers.

Imports riskshare.model, riskshare.stats and riskshare.errors; never runs, render or
cli.
"""
