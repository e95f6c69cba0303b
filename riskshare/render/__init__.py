"""Formatting only: terminal tables, comparison tables, tower geometry, plots and the HTML
report. Draws the results it is given; compiles nothing and runs nothing.

The only home of rich and matplotlib.
"""
