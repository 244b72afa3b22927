"""`random_search`: uniform random assignments, the cheapest kept.

The structure-blind floor of the black-box baselines: with the same evaluation budget
as `genetic` (its default is the genetic algorithm's maximum), it shows how much of a
metaheuristic's result is search and how much is sampling. Samples are scored in
batches through `problem.evaluate`; ties keep the first sample drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems import Problem
from problems.schema import bounded
from solvers._fleet import searchable
from solvers._trace import Trace
from solvers.base import Solution, Solver
from solvers.genetic import GeneticConfig
from solvers.registry import register


@dataclass
class RandomSearchConfig:
    evaluations: int = bounded(GeneticConfig().max_evaluations(), ge=1)  # the genetic algorithm's budget
    batch: int = bounded(4096, ge=1)  # assignments drawn and scored per call


@register
class RandomSearch(Solver):
    name = "random_search"
    Config = RandomSearchConfig

    fleets = True  # on the joint assignment, through the fleet's flat search view

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        problem, answer = searchable(problem)
        n, k = problem.n_blocks, problem.n_tiers
        best_x, best = None, np.inf
        done = batches = 0
        trace = Trace()
        while done < self.config.evaluations:
            m = min(self.config.batch, self.config.evaluations - done)
            X = rng.integers(0, k, (m, n), dtype=np.int8)
            cost = problem.evaluate(X).cost
            j = int(np.argmin(cost))
            if cost[j] < best or best_x is None:  # the first draw stands when nothing is feasible
                trace.record_batch(done, cost)
                best, best_x = float(cost[j]), X[j]
            done += m
            batches += 1
        info = {"value": best, "evaluations": done, "iterations": batches, "status": "heuristic",
                "trace": trace.points()}
        return Solution(answer(best_x.astype(np.int64)), info)
