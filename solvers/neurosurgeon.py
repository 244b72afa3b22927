"""`neurosurgeon` (Kang et al., ASPLOS 2017): the best single split point.

Blocks 0..k-1 run on the device, k..n-1 on one server tier, k in 0..n, so device-only
(k = n) and server-only (k = 0) are candidates. All n+1 candidates are scored in one
batched `problem.evaluate` call and the one minimizing the configured objective wins;
ties go to the smaller k (the first minimum). In D2D the server is the collaborator.

On a DAG (spec section 12) the blocks are split in their topological order, the order of
the instance: a chain-minded method's single cut. Whatever the objective, `info` also
names the split of least weighted cost among the same candidates (`cost_split`,
`cost_split_cost`, from the same `evaluate` call): the best any single split can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from solvers._tiers import remote_tier
from solvers.base import Solution, Solver
from solvers.registry import register

#: objective name -> Evaluation field
OBJECTIVES = {"latency": "latency_ms", "energy": "energy_j", "cost": "cost"}


@dataclass
class NeurosurgeonConfig:
    objective: Literal["latency", "energy", "cost"] = "latency"  # Neuro-L, Neuro-E or the weighted cost
    server: Literal["cloud", "edge"] = "cloud"  # MEC server tier; D2D always uses the collaborator


def split_candidates(n: int, server: int) -> np.ndarray:
    """Row k places blocks 0..k-1 on the device (0) and k..n-1 on `server`; k = 0..n."""
    k = np.arange(n + 1)[:, None]
    return np.where(np.arange(n)[None, :] < k, 0, server).astype(np.int8)


@register
class Neurosurgeon(Solver):
    name = "neurosurgeon"
    Config = NeurosurgeonConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        server = remote_tier(problem, self.config.server)
        X = split_candidates(problem.n_blocks, server)
        ev = problem.evaluate(X)
        values = getattr(ev, OBJECTIVES[self.config.objective])
        split = int(np.argmin(values))  # first minimum: the smaller split point
        cost_split = int(np.argmin(ev.cost))
        info = {
            "split": split,
            "server": problem.tier_names[server],
            "objective": self.config.objective,
            "value": float(values[split]),
            "evaluations": int(X.shape[0]),
            "cost_split": cost_split,
            "cost_split_cost": float(ev.cost[cost_split]),
            "status": "optimal",  # optimal among the single-split candidates
        }
        return Solution(X[split].astype(np.int64), info)
