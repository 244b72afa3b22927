"""`maui` (Cuervo et al., MobiSys 2010): minimum device energy under a latency budget.

MAUI's 0-1 program: each block runs on the device or remotely (the cloud in MEC, or the
edge with `remote: edge`; the collaborator in D2D), minimizing the device's expected
energy subject to the expected latency staying within `latency_budget_ms`. The default
budget is the device-only latency: offloading must never be slower than running
locally. Transfers, radio energy and early exits count exactly as the problem counts
them, through the same program as `ilp` restricted to the two tiers (on a DAG, the DAG
program of `solvers._dag_mip`: a fan-out is paid once per destination tier).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from solvers._chain_mip import Limit, component_tables
from solvers._dag_mip import solve_partition
from solvers._tiers import remote_tier
from solvers.base import Solution, Solver
from solvers.ilp import check_positive, checked
from solvers.registry import register


@dataclass
class MauiConfig:
    latency_budget_ms: float | None = None  # null: the device-only latency
    remote: Literal["cloud", "edge"] = "cloud"  # MEC remote tier; D2D always uses the collaborator
    backend: Literal["cbc", "scip", "cp-sat"] = "cbc"
    time_limit_s: float | None = None

    def validate(self, prefix: str) -> None:
        check_positive(prefix, latency_budget_ms=self.latency_budget_ms, time_limit_s=self.time_limit_s)


@register
class Maui(Solver):
    name = "maui"
    Config = MauiConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        cfg = self.config
        remote = remote_tier(problem, cfg.remote)
        budget = cfg.latency_budget_ms
        if budget is None:
            budget = problem.score(problem.fixed(0))["latency_ms"]
        limits = [Limit("latency_ms", component_tables(problem.chain, (1, 0, 0)), budget)]
        energy = component_tables(problem.chain, (0, 1, 0))
        result = solve_partition(energy, [0, remote], limits, cfg.backend, cfg.time_limit_s)
        score = checked(problem, result, limits, cfg.backend, cfg.time_limit_s)
        info = dict(result.info)
        info.update(budget_ms=budget, remote=problem.tier_names[remote], energy_j=score["energy_j"],
                    latency_ms=score["latency_ms"], value=score["cost"])
        return Solution(result.assignment, info)
