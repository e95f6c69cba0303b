"""YAML and CSV to a checked Scenario, every problem with its line and column.

Imports riskshare.model and riskshare.errors; the only home of yaml.
"""
