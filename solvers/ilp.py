"""`ilp`: the full multi-tier partition as an integer program (OR-Tools).

The objective is the problem's scalar chain tables, so without side constraints the
program's optimum is the `dp` optimum. What `dp` cannot express directly are hard
limits on the expected latency or device energy (`max_latency_ms`, `max_energy_j`):
with them the problem is a resource-constrained shortest path, which the MIP solves
exactly. Early exits are linearized with reach variables (see `solvers._chain_mip`);
they need the scip or cbc backend. Backends: cbc (the default: the fastest on these
chain programs), scip, cp-sat (integer-scaled objective, one worker).

On a DAG (spec section 12) the program is `solvers._dag_mip`'s: a block's output is paid
once per destination tier, exact with any number of tiers and with every backend (where
`dp` does not apply). `info` records the backend's `status` and its proven `bound`.

`info.trace` (`solvers._trace`) lists the incumbents where the backend reports them
(cp-sat: every improving solution; evaluations count incumbents), each re-scored by the
problem; cbc and scip report only their final assignment through pywraplp, a single
point, and `info.incumbents` says which. ilp returns the best re-scored incumbent that
meets the limits: CP-SAT's rounded objective can rank two near-equal assignments the
other way round, and the exact score decides.

On a fleet (spec section 13) it is the exact reference: a MIP with the two capacity rows
(`queueing=none`, any backend) or outer approximation of the convex processor-sharing form
(`ps`, scip or cbc), see `solvers._fleet_mip`; `info.bound` is the proven lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from problems.errors import FieldError
from solvers._chain_mip import Limit, component_tables, limit_violations
from solvers._dag_mip import solve_partition
from solvers._fleet import is_fleet
from solvers._fleet_mip import solve_fleet
from solvers._mip import MipResult
from solvers._trace import Trace
from solvers.base import Solution, Solver, Unsupported
from solvers.registry import register


def check_positive(prefix: str, **values: float | None) -> None:
    for key, v in values.items():
        if v is not None and v <= 0:
            raise FieldError(f"{prefix}.{key}", "must be positive (or null for none)", v)


@dataclass
class IlpConfig:
    backend: Literal["cbc", "scip", "cp-sat"] = "cbc"
    max_latency_ms: float | None = None  # hard limit on the expected latency T
    max_energy_j: float | None = None  # hard limit on the expected device energy E
    time_limit_s: float | None = None  # stop the backend; the best assignment found is returned as "feasible"

    def validate(self, prefix: str) -> None:
        check_positive(prefix, max_latency_ms=self.max_latency_ms, max_energy_j=self.max_energy_j,
                       time_limit_s=self.time_limit_s)


def limits_of(problem: Problem, max_latency_ms: float | None, max_energy_j: float | None) -> list[Limit]:
    out = []
    if max_latency_ms is not None:
        out.append(Limit("latency_ms", component_tables(problem.chain, (1, 0, 0)), max_latency_ms))
    if max_energy_j is not None:
        out.append(Limit("energy_j", component_tables(problem.chain, (0, 1, 0)), max_energy_j))
    return out


def checked(problem: Problem, result, limits: list[Limit], backend: str, time_limit_s: float | None) -> dict:
    """The exact score of the MIP's assignment; Unsupported if there is none or it breaks a limit."""
    if result.assignment is None:
        if result.status == "infeasible":
            wanted = ", ".join(f"{lim.name} <= {lim.value:g}" for lim in limits)
            raise Unsupported(f"infeasible: no assignment meets {wanted}")
        if time_limit_s is not None:
            raise Unsupported(f"{backend} found no assignment within time_limit_s = {time_limit_s:g}")
        raise Unsupported(f"{backend} ended with status {result.status} and no assignment")
    score = problem.score(result.assignment)
    bad = limit_violations(score, limits)
    if bad:
        raise Unsupported(f"{backend} returned an assignment that breaks a limit: {'; '.join(bad)}")
    return score


def best_incumbent(problem: Problem, result: MipResult, limits: list[Limit], trace: Trace) -> None:
    """Re-score every incumbent in one `evaluate` call, trace those that meet the limits and
    make the best of them `result.assignment` (the first of equal costs)."""
    if not result.incumbents:
        return
    found = np.stack([x for _, x in result.incumbents])
    scores = problem.evaluate(found)
    best = None
    for i, (at, _) in enumerate(result.incumbents):
        row = scores.row(i)
        if limit_violations(row, limits):
            continue
        if best is None or row["cost"] < trace.best:
            best = i
        trace.record(i + 1, row["cost"], at=at)
    if best is None:
        return
    result.assignment = found[best]
    if best != len(found) - 1 and limit_violations(scores.row(len(found) - 1), limits):
        # the backend's final answer broke a limit after rounding: an earlier one is returned, unproven
        result.status = "feasible"
        result.info.update(status="feasible", returned=f"incumbent {best + 1} of {len(found)}: the last breaks "
                                                        "a limit when re-scored")


@register
class Ilp(Solver):
    name = "ilp"
    Config = IlpConfig

    fleets = True

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        cfg = self.config
        trace = Trace()
        if is_fleet(problem):
            if cfg.max_latency_ms is not None or cfg.max_energy_j is not None:
                raise Unsupported("ilp on fleets takes no max_latency_ms / max_energy_j (the fleet's limits are "
                                  "its servers' max_utilization)")
            X, info = solve_fleet(problem, cfg.backend, cfg.time_limit_s, trace)
            if info.get("bound") is not None:
                info["gap"] = max(0.0, (info["objective"] - info["bound"]) / max(abs(info["objective"]), 1e-12))
            info["trace"] = trace.points()
            return Solution(X, info)
        limits = limits_of(problem, cfg.max_latency_ms, cfg.max_energy_j)
        result = solve_partition(problem.cost_tables, range(problem.n_tiers), limits, cfg.backend, cfg.time_limit_s,
                                 incumbents=True)
        best_incumbent(problem, result, limits, trace)
        score = checked(problem, result, limits, cfg.backend, cfg.time_limit_s)
        info = dict(result.info)
        info["value"] = score["cost"]
        info["trace"] = trace.points()
        if info.get("bound") is not None:
            info["gap"] = max(0.0, (score["cost"] - info["bound"]) / max(abs(score["cost"]), 1e-12))
        return Solution(result.assignment, info)
