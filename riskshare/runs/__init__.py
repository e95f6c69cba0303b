"""What a user asks for, each returning a typed result: simulate, explain, the bad years,
compare (on the same events) and sweep (over a grid).

Imports riskshare.model, riskshare.loading, riskshare.engine and riskshare.stats; never
render or cli.
"""
