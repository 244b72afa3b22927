"""Fleet measurements for BENCHMARKS.md: `python -m benchmark.measure_fleet [--quick]`.

Solver times go through `benchmark.runner.run` (one timed decision each; the runner owns
timing and re-scores every answer). The scorer's throughput is the median of 3 calls of
`FleetProblem.evaluate` on 10,000 random joint assignments. Prints markdown tables.
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
    r = run(problem, solver, params, timing=ONE)
    info = r["info"]
    gap = info.get("certified_gap", info.get("gap"))
    return (f"| {solver} {params or ''} | {problem.name} | {r['status']} | {r['decision_ms'] / 1e3:.3f} | "
            f"{info.get('status')} | {'-' if gap is None else f'{100 * gap:.4f}'} | "
            f"{'-' if r['cost'] is None else format(r['cost'], '.3f')} |")


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
    ap.add_argument("--big", type=int, default=100_000, help="K of the large lagrangian run")
    args = ap.parse_args()
    print(f"evaluate: {evaluate_rate() / 1e6:.2f} M user-assignments/s (10,000 joint assignments of K = 64)")
    print("\n| solver | instance | status | decision s | solver status | gap % | cost |\n|---|---|---|---|---|---|---|")
    cases = [(fleet(64, 2.0), "ilp", {}), (fleet(1000, 2.0), "lagrangian", {}),
             (fleet(16, 2.0, "ps"), "ilp", {}), (fleet(args.big, 2.0), "lagrangian", {}),
             (fleet(args.big, 2.0, "ps"), "lagrangian", {})]
    if not args.quick:
        for k in (4, 16, 64, 256):
            for q in ("none", "ps"):
                cases.append((fleet(k, 2.0, q, "sampled"), "ilp", {"time_limit_s": 60}))
    for problem, solver, params in cases:
        print(_row(problem, solver, params), flush=True)


if __name__ == "__main__":
    main()
