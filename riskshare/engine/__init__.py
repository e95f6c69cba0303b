"""A compiled plan to annual series: events drawn, laid out by year, allocated layer by
layer, checked and summarised, block by block and on workers.

The modules, in the one order in which they import one another (each imports only
modules to its left):

    workers → shocks → events → plan → layout → allocation → premiums
      → series → block → memory → passes → schedule

- ``workers``: the pool of forked worker processes, which knows nothing of risk;
- ``shocks``: occurrences of several parts (format 1.2 ``hits``), drawn and given up
  part by part;
- ``events``: frequency and severity sampling into arrays, block by block;
- ``plan``: a scenario compiled for the core, names resolved to indices, terms to floats;
- ``layout``: a block's events in rank-major order, where sums within a year are steps
  of vectors;
- ``allocation``: where the layer terms are applied, to every event of a block at once;
- ``premiums``: the premium and cost arithmetic, and nothing else has any;
- ``series``: the typed keys of the annual series, a block's series, the balance check
  and the count of exhausted years;
- ``block``: one block drawn, laid out, allocated, checked and summarised (the fast
  path of a run, and the plain path the tests hold it to);
- ``memory``: what a run will take, where it keeps its tails and costs' inputs, and
  whether it fits;
- ``passes``: one pass over a run's blocks, on the workers, merged in block order;
- ``schedule``: where a run's blocks are scheduled: which passes it takes, with which
  jobs, its priced premiums first.

Imports riskshare.model, riskshare.stats and riskshare.errors; never runs, render or
cli.
"""
