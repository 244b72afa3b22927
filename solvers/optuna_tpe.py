"""`optuna`: Optuna's TPE sampler over the assignment, one categorical per block.

A structure-blind black-box baseline: each block is a categorical parameter over the
tiers, trials run against an in-memory study with a fixed trial budget, and the sampler
is seeded from the run's generator, so the same seed gives the same assignment. The
module is not called `optuna` so that it does not shadow the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems import Problem
from problems.schema import bounded
from solvers._trace import Trace
from solvers.base import Solution, Solver
from solvers.registry import register


@dataclass
class OptunaConfig:
    trials: int = bounded(200, ge=1)  # fixed trial budget (one evaluation each)
    startup_trials: int = bounded(10, ge=0)  # random trials before TPE takes over
    ei_candidates: int = bounded(24, ge=1)  # candidates TPE scores per trial
    multivariate: bool = True  # joint TPE over all blocks (Optuna 5's single-objective default)


@register
class OptunaTpe(Solver):
    name = "optuna"
    Config = OptunaConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cfg = self.config
        sampler = optuna.samplers.TPESampler(
            seed=int(rng.integers(2**31 - 1)),
            n_startup_trials=cfg.startup_trials,
            n_ei_candidates=cfg.ei_candidates,
            multivariate=cfg.multivariate,
        )
        study = optuna.create_study(direction="minimize", sampler=sampler)  # in-memory storage
        n, tiers = problem.n_blocks, list(range(problem.n_tiers))
        row = np.empty((1, n), dtype=np.int8)
        trace = Trace()
        for number in range(cfg.trials):
            trial = study.ask()
            for i in range(n):
                row[0, i] = trial.suggest_categorical(f"b{i}", tiers)
            cost = float(problem.evaluate(row).cost[0])
            trace.record(number + 1, cost)
            study.tell(trial, cost)
        best = study.best_trial
        assignment = np.array([best.params[f"b{i}"] for i in range(n)], dtype=np.int64)
        info = {"value": float(best.value), "trials": len(study.trials), "iterations": len(study.trials),
                "evaluations": len(study.trials),
                "best_trial": best.number, "status": "heuristic", "trace": trace.points()}
        return Solution(assignment, info)
