"""Result rows of fleet problems (spec section 13): the fleet's own re-scoring of an answer.

A fleet row records `feasible`, `rho_edge`, `rho_cloud`, `theta`, the assignment as K lists
of n_k tiers and, when feasible, the fleet cost, latency, energy and deploy share with its
gap to the reference. An infeasible answer gets status `infeasible`, its utilizations and
no cost or gap: it is never scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from problems import ProblemError


def is_fleet(problem) -> bool:
    return getattr(problem, "problem_class", None) == "fleet"


def fleet_fields(problem) -> dict[str, Any]:
    """Fields every fleet row has before its solver ran."""
    return {"users": problem.n_users, "queueing": problem.queueing, "max_utilization": problem.rho_max,
            "offered_load": problem.score(problem.fixed(2))["rho_cloud"],
            "feasible": None, "rho_edge": None, "rho_cloud": None, "theta": None}


def score_fleet(problem, assignment, row: dict[str, Any], gap) -> None:
    """Fill `row` with the fleet's scoring of `assignment` ([K, n_max] or K lists)."""
    try:
        X = problem.check(problem.as_array(assignment))
    except (ProblemError, ValueError, TypeError) as exc:
        raise RuntimeError(f"solver returned an invalid fleet assignment: {exc}") from None
    if X.shape[0] != 1:
        raise RuntimeError(f"solver returned {X.shape[0]} fleet assignments, not one")
    scored = problem.score(X[0])
    row["assignment"] = problem.unpack(X[0])
    row.update(scored)
    if not scored["feasible"]:
        row["status"] = "infeasible"
        row["error"] = (f"overloads a server: rho_edge = {scored['rho_edge']:.6g}, rho_cloud = "
                        f"{scored['rho_cloud']:.6g}, max_utilization = {problem.rho_max:g}")
        row["gap"] = None
    elif row.get("reference_cost") is not None:
        row["gap"] = gap(row["cost"], row["reference_cost"])


def describe_fleet(row: Mapping) -> list[str]:
    """Summary lines of a fleet row (after the header line)."""
    lines = [f"  users={row.get('users')}  queueing={row.get('queueing')}  rho_edge={row.get('rho_edge')}  "
             f"rho_cloud={row.get('rho_cloud')}  theta={row.get('theta')}  feasible={row.get('feasible')}"]
    if row.get("cost") is not None:
        ref = row.get("reference_cost")
        gap = row.get("gap")
        lines.append(f"  cost={row['cost']:.3f}  T={row['latency_ms']:.3f} ms  E={row['energy_j']:.4f} J  "
                     f"reference={'-' if ref is None else f'{ref:.3f}'} ({row.get('reference_kind')})  "
                     f"gap={'-' if gap is None else f'{100 * gap:.4f}%'}")
    if row.get("decision_ms") is not None:
        lines.append(f"  decision={row['decision_ms']:.4f} ms (median of {row['decision_repeats']})")
    return lines


def assignment_array(problem, assignment) -> np.ndarray:
    return problem.as_array(assignment)
