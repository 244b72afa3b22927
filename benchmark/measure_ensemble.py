"""Time the batched IoRLO trainer: `--agents` agents in one ensemble against one alone.

    python -m benchmark.measure_ensemble --agents 8 --episodes 50

The agents are alexnet on the six MEC / D2D presets of the paper grid (one shape, so one
group), then more seeds. Wall and CPU seconds are printed per configuration, with the
ratio; `--repeats` runs each configuration that many times and reports medians. The
episodes are the published 200-step episodes with a 10,000-transition memory, so with
fewer than 50 episodes the learning steps (which dominate) are a smaller share.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

from problems.paper import paper_profile
from problems.presets import COLLABORATORS, mec_tiers, network_preset
from problems.problem import Problem
from problems.scenario import D2DScenario, MecScenario, Tier
from solvers import iorlo
from solvers._ensemble import AgentSpec, train_ensemble


def paper_problem(model: str, kind: str, network: str) -> Problem:
    net = network_preset(network)
    if kind == "mec":
        sc = MecScenario(tiers=mec_tiers(), te=net.te, ec=net.ec)
    else:
        sc = D2DScenario(device=mec_tiers()[0], collaborator=Tier("co-h", COLLABORATORS["co-h"]), link=net.d2d)
    return Problem(paper_profile(model), sc, name=f"{model}-{kind}-{network}")


def agents(count: int, cfg: iorlo.IorloConfig, model: str) -> list[AgentSpec]:
    cases = [(k, n) for k in ("mec", "d2d") for n in ("5g_avg", "5g_worst", "5g_best")]
    return [AgentSpec(iorlo.mdp(paper_problem(model, *cases[i % 6]), cfg), cfg, seed=i) for i in range(count)]


def timed(specs: list[AgentSpec]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    train_ensemble(specs, progress=False)
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--model", default="alexnet")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    cfg = dataclasses.replace(iorlo.IorloConfig(), episodes=args.episodes, progress=False)
    many = agents(args.agents, cfg, args.model)
    rows = {1: [], args.agents: []}
    for _ in range(args.repeats):
        rows[1].append(timed(many[:1]))
        rows[args.agents].append(timed(many))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
    steps = args.episodes * cfg.steps
    print("| agents | wall s | cpu s | env steps per agent | learning steps per agent |\n|---|---|---|---|---|")
    for k, (w, c) in med.items():
        print(f"| {k} | {w:.1f} | {c:.1f} | {steps} | {max(0, steps - cfg.memory + 1)} |")
    print(f"\nratio {args.agents} : 1 = {med[args.agents][0] / med[1][0]:.2f}x wall, "
          f"{med[args.agents][1] / med[1][1]:.2f}x cpu")


if __name__ == "__main__":
    main()
