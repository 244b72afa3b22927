"""Environment steps per second of the Stable-Baselines3 baselines (training, one thread).

    python -m benchmark.measure_sb3 --solver sb3_ddpg --steps 2000
    python -m benchmark.measure_sb3 --solver sb3_ddpg,sb3_td3,sb3_sac,sb3_ppo --steps 2000
    python -m benchmark.measure_sb3 --solver sb3_ddpg --steps 2000 --iorlo-nets   # hidden 50 / 30

Trains each solver for `--steps` environment steps on alexnet MEC 5g_avg (no cache) and
prints wall and CPU seconds and environment steps per CPU second (the off-policy
algorithms take a gradient step per environment step after their first 100).
40,000 / rate is what one job of `+experiment=learned` trains for, in CPU seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmark.measure_ensemble import paper_problem
from solvers.registry import make_solver


def measure(solver: str, steps: int, model: str, scenario: str, extra: dict) -> tuple[float, float, int]:
    problem = paper_problem(model, scenario, "5g_avg")
    s = make_solver(solver, {"total_steps": steps, "checkpoint_dir": None, "progress": False, "seed": 0, **extra})
    w, c = time.perf_counter(), time.process_time()
    s.prepare(problem, np.random.default_rng(0))
    return time.perf_counter() - w, time.process_time() - c, int(s.training_info["env_steps"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solver", default="sb3_ddpg", help="comma-separated solver names")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--model", default="alexnet")
    ap.add_argument("--scenario", default="mec")
    ap.add_argument("--iorlo-nets", action="store_true", help="iorlo's hidden sizes (actor 50, critic 30)")
    args = ap.parse_args()
    extra = {"actor_hidden": [50], "critic_hidden": [30]} if args.iorlo_nets else {}
    print("| solver | env steps | wall s | cpu s | env steps per cpu s | 40,000 steps, cpu s |")
    print("|---|---|---|---|---|---|")
    for name in args.solver.split(","):
        wall, cpu, done = measure(name, args.steps, args.model, args.scenario, extra)
        rate = done / cpu
        print(f"| {name} | {done} | {wall:.1f} | {cpu:.1f} | {rate:.0f} | {40_000 / rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
