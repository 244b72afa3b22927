"""The reference a result's gap is taken to: the exact optimum where it is proven, else the
best lower bound known (spec sections 12 and 13).

Chains: `dp`, exact in microseconds. Other problem kinds add their exact solver here
(`REFERENCES`), with `reference.time_limit_s`; one that stops early reports its proven bound
with `kind = "bound"`. The reference is always re-scored by the problem when it comes with
an assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from problems import Problem

KINDS = ("optimal", "bound", "none")


@dataclass(frozen=True)
class Reference:
    cost: float | None  # the optimum (kind optimal) or a lower bound (kind bound); None: none known
    kind: str
    solver: str
    assignment: np.ndarray | None = None
    note: str | None = None  # why there is none, or how the bound was proven


def _chain(problem: Problem, time_limit_s: float) -> Reference:
    from solvers.dp import optimum

    assignment, _ = optimum(problem.cost_tables)
    return Reference(problem.score(assignment)["cost"], "optimal", "dp", assignment)


def problem_class(problem: Problem) -> str:
    """`chain` or `dag` (fleets add their own class)."""
    return "dag" if getattr(problem, "is_dag", False) else getattr(problem, "problem_class", "chain")


#: problem class -> its reference solver
REFERENCES: dict[str, Callable[[Problem, float], Reference]] = {"chain": _chain}


def reference(problem: Problem, time_limit_s: float = 60.0) -> Reference:
    cls = problem_class(problem)
    finder = REFERENCES.get(cls)
    if finder is None:
        return Reference(None, "none", "", note=f"no exact reference for {cls} problems")
    return finder(problem, time_limit_s)
