"""What a common shock costs: a source with 10 hits against 10 single-bearer sources.

    .venv/bin/python benchmarks/shocks.py [--years N] [--hits K] [--repeat R]

Builds two scenarios with K enterprises (default 10), each with its own policy on
``net:`` with a lead insurer, a ground_up quota share, and a per-occurrence cover on
the lead's net:

- *shock*: one source of rate 2 a year whose occurrences strike all K enterprises
  (``hits``, every probability 100%): 2 occurrences a year, 2 K parts;
- *single*: K independent sources of rate 2, one per enterprise: 2 K events a year.

Both have the same number of losses (parts or events) per year, so the ratio of their
times is what an occurrence of K hits costs against K single-bearer events. Runs each
R times (default 3) in one process with one worker, after a short warm-up, and prints
the best time of each, per year and per loss.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import riskshare
from riskshare.model.scenario import Scenario


def scenario(hits: int, shock: bool) -> Scenario:
    names = [f"e{i}" for i in range(hits)]
    severity: dict[str, Any] = {"lognormal": {"mean": 10e6, "cv": 1.5}}
    if shock:
        events: list[dict[str, Any]] = [
            {
                "name": "shock",
                "frequency": {"poisson": 2.0},
                "hits": [{"bearer": n, "severity": severity} for n in names],
            }
        ]
    else:
        events = [
            {"name": f"own {n}", "bearer": n, "frequency": {"poisson": 2.0}, "severity": severity}
            for n in names
        ]
    layers: list[dict[str, Any]] = [
        {"name": "quota share", "party": "lead", "share": 0.2},
        *(
            {"name": f"policy {n}", "party": "lead", "from": f"net:{n}", "attachment": 2e6}
            for n in names
        ),
        {"name": "cat", "party": "pool", "from": "net:lead", "attachment": 50e6, "limit": 200e6},
    ]
    return Scenario.model_validate(
        {
            "name": "shock" if shock else "single",
            "parties": {
                **{n: {"kind": "enterprise"} for n in names},
                "lead": {"kind": "insurer"},
                "pool": {"kind": "consortium", "members": {"A": 0.5, "B": 0.5}},
            },
            "residual": names[0],
            "events": events,
            "layers": layers,
        }
    )


def best(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=500_000)
    parser.add_argument("--hits", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for shock in (True, False):
        s = scenario(args.hits, shock)
        riskshare.simulate(s, years=10_000, seed=1, workers=1)  # warm up
        result: dict[str, Any] = {}

        def run(s: Scenario = s, result: dict[str, Any] = result) -> None:
            result["r"] = riskshare.simulate(s, years=args.years, seed=1, workers=1)

        seconds = best(run, args.repeat)
        events = result["r"].events
        losses = events * args.hits if shock else events
        rows.append((s.name, events, losses, seconds))
    print(f"{args.years:,} years, {args.hits} enterprises, best of {args.repeat}, one worker")
    print(f"{'scenario':<8} {'events':>12} {'losses':>12} {'seconds':>8} {'µs per loss':>12}")
    for name, events, losses, seconds in rows:
        print(
            f"{name:<8} {events:>12,} {losses:>12,} {seconds:>8.2f} {seconds / losses * 1e6:>12.3f}"
        )
    shock_time, single_time = rows[0][3], rows[1][3]
    print(
        f"an occurrence of {args.hits} hits costs {shock_time / single_time:.2f} × "
        f"what {args.hits} single-bearer events cost"
    )


if __name__ == "__main__":
    main()
