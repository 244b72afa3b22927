"""The reference a result's gap is taken to: the exact optimum where it is proven, else the
best lower bound known (spec sections 12 and 13).

- chains: `dp`, exact in microseconds;
- DAGs (spec section 12): `mincut` on two tiers (exact, milliseconds), `ilp` on three
  (NP-hard in general) with the scip backend, the fastest on the DAG programs measured,
  stopped after `reference.time_limit_s`: when it cannot prove optimality by then, the
  reference is its proven lower bound with `kind = "bound"`.

Other problem kinds add their exact solver here (`REFERENCES`). A reference with an
assignment is always re-scored by the problem. References are kept per process by the
content of the instance's tables, so the rows of one instance in a sweep share one solve.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from problems import Problem
from problems.schema import bounded

KINDS = ("optimal", "bound", "none")
#: the backend of the DAG reference (docs/bench-dag.md: the fastest on the zoo DAGs)
DAG_BACKEND = "scip"
#: references kept per process
CACHE_SIZE = 64


@dataclass
class ReferenceConfig:
    time_limit_s: float = bounded(60.0, gt=0)  # the exact solver stops here; its bound is the reference then


DEFAULT_TIME_LIMIT_S = ReferenceConfig().time_limit_s


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


def _dag(problem: Problem, time_limit_s: float) -> Reference:
    from solvers import Unsupported, make_solver

    rng = np.random.default_rng(0)
    if problem.n_tiers == 2:
        sol = make_solver("mincut").solve(problem, rng)
        return Reference(problem.score(sol.assignment)["cost"], "optimal", "mincut", sol.assignment)
    try:
        sol = make_solver("ilp", {"backend": DAG_BACKEND, "time_limit_s": time_limit_s}).solve(problem, rng)
    except Unsupported as exc:
        return Reference(None, "none", "ilp", note=str(exc))
    cost = problem.score(sol.assignment)["cost"]
    if sol.info.get("status") == "optimal":
        return Reference(cost, "optimal", "ilp", sol.assignment)
    bound = sol.info.get("bound")
    if bound is None or not np.isfinite(bound):
        return Reference(None, "none", "ilp", sol.assignment, note=f"no bound within {time_limit_s:g} s")
    return Reference(min(float(bound), cost), "bound", "ilp", sol.assignment,
                     note=f"{DAG_BACKEND} stopped after {time_limit_s:g} s; best assignment found costs {cost:.9g}")


#: fleet references already found in this process, by instance content (a sweep's jobs share them)
_FLEET_CACHE: dict[str, Reference] = {}


def _fleet(problem, time_limit_s: float) -> Reference:
    """The `ilp` optimum of a fleet (spec section 13) when proven within `time_limit_s`,
    else the best proven lower bound (the MIP's or lagrangian's, whichever is higher)."""
    from solvers._fleet_mip import solve_fleet
    from solvers.lagrangian import LagrangianConfig, lagrangian

    key = problem.fingerprint + f"/{time_limit_s!r}"
    if key in _FLEET_CACHE:
        return _FLEET_CACHE[key]
    X, info = solve_fleet(problem, "cbc", time_limit_s)
    if info["status"] == "optimal":
        ref = Reference(problem.score(X)["cost"], "optimal", "ilp", X)
    else:
        _, lag = lagrangian(problem, LagrangianConfig())
        bound = max(float(info["bound"]), float(lag["lower_bound"]))
        ref = Reference(bound, "bound", "ilp", X, note=f"ilp stopped at {time_limit_s:g} s; best lower bound")
    _FLEET_CACHE[key] = ref
    return ref


def problem_class(problem: Problem) -> str:
    """`chain`, `dag` or `fleet`."""
    return "dag" if getattr(problem, "is_dag", False) else getattr(problem, "problem_class", "chain")


def edge_count(problem: Problem) -> int:
    """Data-flow edges u -> v of the instance (a chain: n - 1)."""
    dag = getattr(getattr(problem, "chain", None), "dag", None)
    return len(dag.producers) if dag is not None else max(problem.n_blocks - 1, 0)


#: problem class -> its reference solver
REFERENCES: dict[str, Callable[[Problem, float], Reference]] = {"chain": _chain, "dag": _dag, "fleet": _fleet}
_CACHE: dict[tuple[str, str, float], Reference] = {}


def _content(problem: Problem) -> str | None:
    chain = getattr(problem, "chain", None)
    if chain is None:
        return None
    h = hashlib.sha256(problem.kind.encode())
    for arr in chain.arrays():
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return h.hexdigest()


def reference(problem: Problem, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Reference:
    cls = problem_class(problem)
    finder = REFERENCES.get(cls)
    if finder is None:
        return Reference(None, "none", "", note=f"no exact reference for {cls} problems")
    if cls == "chain":  # microseconds: nothing to keep
        return finder(problem, time_limit_s)
    content = _content(problem)
    key = (cls, content or "", float(time_limit_s))
    if content is not None and key in _CACHE:
        return _CACHE[key]
    ref = finder(problem, time_limit_s)
    if content is not None:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = ref
    return ref
