"""Fleet measurements for BENCHMARKS.md: `python -m benchmark.measure_fleet [--quick] [--users K]`.

Solver times go through `benchmark.runner.run` (one timed decision each; the runner owns
timing and re-scores every answer); `row cpu s` is the process CPU time of the whole row
(fleet reference included), a check on wall times under load. The scorer's throughput is
the median of 3 calls of `FleetProblem.evaluate` on 10,000 random joint assignments.
`--quick` gives the target table; without it the exact solver's time against K follows,
preset networks (4 classes of identical users) and sampled ones (every user distinct), up
to the first K it does not prove within 60 s. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmark.runner import TimingConfig, run
from problems.build import build_problem

MODELS = ["alexnet", "vgg16", "resnet32", "mobilenet_v1"]
ONE = TimingConfig(budget_s=0.0, max_repeats=1)


def fleet(users: int, load: float, queueing: str = "none", networks: str = "preset"):
    return build_problem({}, {"kind": "fleet", "users": users, "load": load, "queueing": queueing, "models": MODELS,
                              "user_networks": networks}, {"name": "5g_avg"})


def _row(problem, solver, params):
    c0 = time.process_time()
    r = run(problem, solver, params, timing=ONE)
    cpu = time.process_time() - c0
    info = r["info"]
    gap = info.get("certified_gap", info.get("gap"))
    return (f"| {solver} {params or ''} | {problem.name} | {r['status']} | {r['decision_ms'] / 1e3:.3f} | "
            f"{info.get('status')} | {'-' if gap is None else f'{100 * gap:.4f}'} | "
            f"{'-' if r['cost'] is None else format(r['cost'], '.3f')} | {info.get('formulation', '-')} | "
            f"{cpu:.2f} |"), r


def evaluate_rate(users: int = 64, pop: int = 10_000) -> float:
    f = fleet(users, 2.0)
    X = np.random.default_rng(0).integers(0, 3, (pop, users, f.n_max))
    f.evaluate(X[:10])
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        f.evaluate(X)
        times.append(time.perf_counter() - t0)
    return pop * users / float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="the issue's table only")
    ap.add_argument("--users", "--city", type=int, default=100_000, help="K of the large lagrangian run")
    args = ap.parse_args()
    if args.users < 1:
        raise SystemExit(f"--users: must be a positive integer, got {args.users}")
    c0 = time.process_time()
    rate = evaluate_rate()
    print(f"evaluate: {rate / 1e6:.2f} M user-assignments/s (10,000 joint assignments of K = 64; "
          f"{time.process_time() - c0:.2f} s CPU for 4 calls)")
    head = ("\n| solver | instance | status | decision s | solver status | gap % | cost | formulation | row cpu s |"
            "\n|---|---|---|---|---|---|---|---|---|")
    print(head)
    cases = [(lambda: fleet(64, 2.0), "ilp", {})]
    cases += [(lambda load=load: fleet(1000, load), "lagrangian", {}) for load in (1.0, 2.0, 4.0)]
    cases += [(lambda: fleet(16, 2.0, "ps"), "ilp", {}), (lambda: fleet(args.users, 2.0), "lagrangian", {}),
              (lambda: fleet(args.users, 2.0, "ps"), "lagrangian", {})]
    for build, solver, params in cases:
        t0 = time.perf_counter()
        problem = build()
        built = time.perf_counter() - t0
        line, _ = _row(problem, solver, params)
        print(line + f" built in {built:.2f} s", flush=True)
    if args.quick:
        return
    print("\nExact solver (ilp, cbc, none, load 2, time_limit_s 60) against K:" + head)
    for networks in ("preset", "sampled"):
        for k in (4, 16, 64, 256, 1024, 4096):
            line, r = _row(fleet(k, 2.0, "none", networks), "ilp", {"time_limit_s": 60})
            print(line, flush=True)
            if r["info"].get("status") != "optimal":
                break


if __name__ == "__main__":
    main()
