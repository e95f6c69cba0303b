"""Formatting only: terminal tables, comparison tables, exceedance curves, tower geometry,
plots, the HTML report, and the terminal the command line prints to. Draws the results it
is given; compiles nothing and runs nothing.

The only home of rich and matplotlib.
"""
