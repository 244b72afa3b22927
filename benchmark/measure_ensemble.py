"""Time the batched IoRLO trainer: `--agents` agents in one ensemble against one alone.

    python -m benchmark.measure_ensemble --agents 8 --episodes 50
    python -m benchmark.measure_ensemble --gaps CHECKPOINT_DIR    # after benchmark.pretrain

`--gaps` scores the decisions of the paper grid's iorlo agents found in CHECKPOINT_DIR
(as `python -m benchmark.pretrain -m +experiment=paper solver=iorlo
solver.checkpoint_dir=CHECKPOINT_DIR` wrote them) against the exact optimum.

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
import sys
import time

from problems.build import make_scenario
from problems.paper import paper_profile
from problems.problem import Problem
from solvers import iorlo
from solvers._ensemble import AgentSpec, train_ensemble


def paper_problem(model: str, kind: str, network: str) -> Problem:
    return Problem(paper_profile(model), make_scenario(kind, network), name=f"{model}-{kind}-{network}")


def agents(count: int, cfg: iorlo.IorloConfig, model: str) -> list[AgentSpec]:
    cases = [(k, n) for k in ("mec", "d2d") for n in ("5g_avg", "5g_worst", "5g_best")]
    return [AgentSpec(iorlo.mdp(paper_problem(model, *cases[i % 6]), cfg), cfg, seed=i) for i in range(count)]


def timed(specs: list[AgentSpec]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    train_ensemble(specs, progress=False)
    return time.perf_counter() - w, time.process_time() - c


def gaps(checkpoint_dir: str) -> None:
    """Decision and best-seen gaps of the paper grid's iorlo agents in `checkpoint_dir`."""
    import numpy as np
    import torch

    from benchmark.job import resolve_problem, solver_params
    from benchmark.pretrain import job_configs
    from benchmark.reference import reference
    from benchmark.runner import seeds
    from solvers._ddpg import NumpyActor, training_seed
    from solvers.registry import make_solver

    rows = []
    for data in job_configs(["+experiment=paper", "solver=iorlo", f"solver.checkpoint_dir={checkpoint_dir}"]):
        name, params = solver_params(data)
        problem = resolve_problem(data)
        cfg = make_solver(name, params).config
        job = iorlo.Job(problem, cfg, training_seed(cfg.seed, seeds(data.get("seed", 0))[0]))
        path = job.path
        if not path.exists():  # written under another cache key (an older revision): the instance's one file
            found = sorted(path.parent.glob(f"{problem.name}-iorlo-*.pt"))
            if len(found) != 1:
                print(f"{problem.name}: no checkpoint", file=sys.stderr)
                continue
            path = found[0]
        saved = torch.load(path, map_location="cpu", weights_only=True)
        actor, _ = iorlo.build_nets(problem.n_blocks, cfg, torch.Generator())
        actor.load_state_dict(saved["nets"]["actor"])
        env = iorlo.mdp(problem, cfg)
        x = env.decode(NumpyActor.copy(actor)(env.observe(env.start())))
        opt = reference(problem).cost
        rows.append((problem.name, problem.kind, problem.score(x)["cost"] / opt - 1,
                     saved["meta"]["best_seen_cost"] / opt - 1, "".join("dec"[t] if problem.kind == "mec" else "dc"[t]
                                                                       for t in x)))
    print("| instance | decision | gap | gap best seen |\n|---|---|---|---|")
    for name, _, g, b, x in rows:
        print(f"| {name} | {x} | {100 * g:.2f} % | {100 * b:.2f} % |")
    for kind in ("mec", "d2d"):
        g = [r[2] for r in rows if r[1] == kind]
        b = [r[3] for r in rows if r[1] == kind]
        if g:
            print(f"{kind}: median gap {100 * np.median(g):.2f} %, median best-seen gap {100 * np.median(b):.2f} %, "
                  f"{sum(v <= 0.01 for v in g)} of {len(g)} within 1 %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--model", default="alexnet")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--gaps", metavar="CHECKPOINT_DIR")
    args = ap.parse_args()
    if args.gaps:
        gaps(args.gaps)
        return
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
