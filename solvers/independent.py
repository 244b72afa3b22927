"""`independent`: every user's single-user optimum by dp, ignoring the others.

This is how every published partitioner decides (the paper, Neurosurgeon, MAUI: one
device, one request, an unloaded server), and the fleet baseline: whether it overloads a
server is what the fleet report counts. One batched DP over all users (`solvers._fleet`).
"""

from __future__ import annotations

import numpy as np

from problems import Problem
from solvers._fleet import batched_dp, require_fleet
from solvers.base import Solution, Solver
from solvers.registry import register


@register
class Independent(Solver):
    name = "independent"
    fleets = True

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        fleet = require_fleet(problem, self.name)
        X, _ = batched_dp(fleet.tables)
        return Solution(X, {"status": "heuristic", "users": fleet.n_users})
