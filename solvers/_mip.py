"""The MIP backends (OR-Tools: cbc, scip, cp-sat) behind the chain and the DAG programs.

A program (`Program`) is its variables (which are integral), its linear rows and where
the assignment variables x[i, s] sit; `solve_program` minimizes a linear form over it
subject to side limits (each a form at most a value) with one backend, and reads the
assignment back. `solvers._chain_mip` and `solvers._dag_mip` only build programs and forms.

CP-SAT takes integers only: forms are scaled to about 2^32 units and rounded (an
assignment's value moves by at most half a unit per nonzero term it pays, which is
`Program.terms` at most; the answer is re-scored exactly); it cannot hold continuous
variables, so every variable is a boolean there (the programs' continuous variables are
0-1 valued at an integral x). It runs one worker (deterministic) with the full LP
relaxation (linearization level 2): with the default level a 500-block chain with many
tier changes did not close its gap in 30 s; with it, it solves in 0.15 s.

Incumbents: asked with `incumbents=True`, CP-SAT hands every improving solution to a
solution callback (`CpSolverSolutionCallback`), which stamps it with `perf_counter` and
reads its x block; `MipResult.incumbents` then lists them in the problem's tiers, for the
caller to re-score (`solvers.ilp` builds `info.trace` from them). pywraplp exposes no
incumbent callback for cbc or scip, so there the list is the final assignment alone
and `MipResult.info["incumbents"]` says "final only".
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from problems.tables import CostTables
from solvers.base import Unsupported

BACKENDS = ("cbc", "scip", "cp-sat")
#: relative MIP gap asked of scip and cbc (the default of the wrapper is 1e-4)
MIP_GAP = 1e-9
#: side constraints are met to this relative tolerance (solver feasibility tolerances)
LIMIT_RTOL = 1e-6
#: CP-SAT scales every form so that its coefficients sum to this many units; with 2^50 it
#: returned 'optimal' answers 38 % above the optimum once a side limit was added (rare, but seen)
CPSAT_UNITS = 2.0**32


@dataclass(frozen=True)
class Limit:
    """A side constraint: the quantity of `tables` at most `value`."""

    name: str
    tables: CostTables
    value: float


@dataclass
class Program:
    """Variables (integral where `integer`), rows lo <= a.x <= hi, and the x[i, s] block."""

    n: int
    k: int
    integer: np.ndarray  # [n_vars] bool
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return self.integer.size

    def x(self) -> np.ndarray:
        """Indices [n, k] of the assignment variables: the first n * k variables."""
        return np.arange(self.n * self.k).reshape(self.n, self.k)

    @property
    def terms(self) -> int:
        """Most nonzero terms one assignment pays in a form (bounds CP-SAT's rounding)."""
        return 2 * self.n + 1

    def add(self, idx, coef, lo: float, hi: float) -> None:
        self.rows.append((np.asarray(idx, dtype=np.intp), np.asarray(coef, dtype=float), lo, hi))


@dataclass
class MipResult:
    assignment: np.ndarray | None
    status: str  # optimal | feasible | infeasible | no_solution
    info: dict
    #: (perf_counter when found, assignment) per incumbent, oldest first; asked with `incumbents=True`
    incumbents: list[tuple[float, np.ndarray]] = field(default_factory=list)


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise Unsupported(f"unknown MIP backend {backend!r}; choose one of {list(BACKENDS)}")


def solve_program(m: Program, c: np.ndarray, limits: Sequence[tuple[str, np.ndarray, float]], backend: str,
                  time_limit_s: float | None, tiers: Sequence[int], incumbents: bool = False) -> MipResult:
    """Minimize form `c` over program `m` subject to `limits` (name, form, value); the
    assignment (and with `incumbents`, every incumbent) is mapped back to the problem's
    tier indices `tiers`."""
    check_backend(backend)
    if backend == "cp-sat":
        res = _solve_cpsat(m, c, limits, time_limit_s, incumbents)
    else:
        res = _solve_linear(m, c, limits, backend, time_limit_s)
        if incumbents and res.assignment is not None:
            res.incumbents = [(time.perf_counter(), res.assignment)]
            res.info["incumbents"] = f"final only: pywraplp reports no incumbents of {backend}"
    res.info.update(backend=backend, variables=m.n_vars, constraints=len(m.rows) + len(limits))
    to_tiers = np.asarray(list(tiers), dtype=np.int64)
    if res.assignment is not None:
        res.assignment = to_tiers[res.assignment]
    res.incumbents = [(at, to_tiers[x]) for at, x in res.incumbents]
    return res


def _solve_linear(m: Program, c: np.ndarray, limits, backend: str, time_limit_s: float | None) -> MipResult:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(backend.upper())
    if solver is None:
        raise Unsupported(f"MIP backend {backend} is not available in this OR-Tools build")
    if backend == "scip":
        # SCIP's presolve in this build can cut off the optimum of the reach rows under a side
        # limit (seen: a feasible all-device assignment at half the returned cost); the model is
        # small and its relaxation tight, so it solves without presolve.
        solver.SetSolverSpecificParametersAsString("numerics/feastol = 1e-9\npresolving/maxrounds = 0\n")
    if time_limit_s is not None:
        solver.SetTimeLimit(max(1, int(time_limit_s * 1000)))
    var = [solver.BoolVar("") if b else solver.NumVar(0.0, 1.0, "") for b in m.integer]
    for idx, coef, lo, hi in m.rows:
        row = solver.Constraint(-solver.infinity() if lo == -math.inf else lo, hi)
        for j, a in zip(idx.tolist(), coef.tolist(), strict=True):
            row.SetCoefficient(var[j], a)
    for _name, form, value in limits:
        scale = 1.0 / value if value > 0 else 1.0  # rows relative to the limit
        row = solver.Constraint(-solver.infinity(), 1.0 if value > 0 else 0.0)
        for j in np.flatnonzero(form).tolist():
            row.SetCoefficient(var[j], float(form[j]) * scale)
    objective = solver.Objective()
    for j in np.flatnonzero(c).tolist():
        objective.SetCoefficient(var[j], float(c[j]))
    objective.SetMinimization()
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, MIP_GAP)
    code = solver.Solve(params)
    names = {
        pywraplp.Solver.OPTIMAL: "optimal",
        pywraplp.Solver.FEASIBLE: "feasible",
        pywraplp.Solver.INFEASIBLE: "infeasible",
    }
    status = names.get(code, "no_solution")
    info = {"status": status, "wall_s": solver.wall_time() / 1e3, "nodes": int(solver.nodes()),
            "iterations": int(solver.iterations())}
    if status not in ("optimal", "feasible"):
        return MipResult(None, status, info)
    xs = np.array([var[j].solution_value() for j in m.x().ravel()]).reshape(m.n, m.k)
    info.update(objective=objective.Value(), bound=objective.BestBound())
    return MipResult(np.argmax(xs, axis=1), status, info)


def _scaled(form: np.ndarray) -> tuple[np.ndarray, float]:
    total = float(np.abs(form).sum())
    scale = CPSAT_UNITS / total if total > 0 else 1.0
    return np.rint(form * scale).astype(np.int64), scale


def incumbent_recorder(variables: Sequence, decode):
    """A CP-SAT solution callback keeping (perf_counter, decode(values of `variables`)) per solution."""
    from ortools.sat.python import cp_model

    class Incumbents(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[float, np.ndarray]] = []

        def on_solution_callback(self) -> None:
            at = time.perf_counter()
            self.found.append((at, decode(np.array([self.value(v) for v in variables], dtype=float))))

    return Incumbents()


def _solve_cpsat(m: Program, c: np.ndarray, limits, time_limit_s: float | None, incumbents: bool) -> MipResult:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    var = [model.new_bool_var("") for _ in range(m.n_vars)]
    for idx, coef, lo, hi in m.rows:
        model.add_linear_constraint(
            cp_model.LinearExpr.weighted_sum([var[j] for j in idx], [int(a) for a in coef]),
            cp_model.INT_MIN if lo == -math.inf else int(lo), int(hi),
        )
    slack = m.terms  # rounding error bound: half a unit per term of an assignment
    for _name, form, value in limits:
        ints, scale = _scaled(form)
        nz = np.flatnonzero(ints)
        hi = min(int(ints[ints > 0].sum()), math.floor(value * scale)) + slack
        model.add(cp_model.LinearExpr.weighted_sum([var[j] for j in nz], ints[nz].tolist()) <= hi)
    ints, scale = _scaled(c)
    nz = np.flatnonzero(ints)
    model.minimize(cp_model.LinearExpr.weighted_sum([var[j] for j in nz], ints[nz].tolist()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # a single worker is deterministic
    solver.parameters.linearization_level = 2  # the full LP: the flow relaxation is (near) integral
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = float(time_limit_s)
    x_vars = [var[j] for j in m.x().ravel()]
    recorder = incumbent_recorder(x_vars, lambda xs: np.argmax(xs.reshape(m.n, m.k), axis=1)) if incumbents else None
    code = solver.solve(model, recorder)
    names = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible"}
    status = names.get(code, "no_solution")
    info = {"status": status, "wall_s": solver.wall_time, "branches": int(solver.num_branches),
            "conflicts": int(solver.num_conflicts), "scale": scale}
    if status not in ("optimal", "feasible"):
        return MipResult(None, status, info)
    xs = np.array([solver.value(v) for v in x_vars]).reshape(m.n, m.k)
    info.update(objective=solver.objective_value / scale, bound=solver.best_objective_bound / scale)
    if recorder is not None:
        info["incumbents"] = "every improving solution (CP-SAT solution callback)"
    return MipResult(np.argmax(xs, axis=1), status, info, recorder.found if recorder is not None else [])


def limit_violations(values: dict[str, float], limits: Sequence[Limit]) -> list[str]:
    """Limits an assignment's exact values exceed beyond the numerical tolerance."""
    bad = []
    for lim in limits:
        v = values[lim.name]
        if v > lim.value * (1 + LIMIT_RTOL) + 1e-12:
            bad.append(f"{lim.name} = {v:.9g} > {lim.value:.9g}")
    return bad
