"""The chain partition as a mixed-integer program, shared by `ilp` and `maui`.

Over the k tiers allowed (a subset for two-tier methods):

    x[i, s] in {0, 1}       block i runs on tier s;  sum_s x[i, s] = 1
    y[i, p, s] in [0, 1]    i >= 1: the move into block i from tier p to tier s
                            sum_s y[i, p, s] = x[i-1, p],  sum_p y[i, p, s] = x[i, s]

Flow conservation makes y = x[i-1, p] * x[i, s] whenever x is integral, so y needs no
integrality; without side constraints the relaxation is a shortest path and integral.

Early exits scale what follows an active exit by keep[i]. The expectation stays linear in
reach variables: r[i, s] (reach at block i on tier s, r[0, .] = x[0, .]) and u[i, p, s]
(reach carried along the move), with sum_s u[i, p, s] = r[i-1, p], u <= y and
r[i, s] = sum_p g[p, s] u[i, p, s], g = gain[i-1] of `problems.tables` (keep[i-1] off the
diagonal, 1 on it). Given x
these values are unique, so the program is exact. Without exits r = x and u = y.

Any quantity the chain tables describe (cost, latency, energy) is then one linear form:
x[0, s] carries unary[0, s] + trans[0, 0, s], r[i, s] carries unary[i, s], u[i, p, s]
carries trans[i, p, s] (with exits pay[i-1, p, s] + gain[i-1, p, s] * trans[i, p, s]), and the
last block's reach carries final[s].

CP-SAT takes integers only: forms are scaled to about 2^32 units and rounded (an
assignment's value moves by at most n + 1/2 units, below 1e-6 relative for chains of
hundreds of blocks; the answer is re-scored exactly); it cannot hold the continuous reach, so
early exits need a MIP backend (scip or cbc). It runs one worker (deterministic) with the
full LP relaxation (linearization level 2): with the default level a 500-block chain
with many tier changes did not close its gap in 30 s; with it, it solves in 0.15 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from problems.tables import ChainTables, CostTables
from solvers.base import Unsupported

BACKENDS = ("cbc", "scip", "cp-sat")
#: relative MIP gap asked of scip and cbc (the default of the wrapper is 1e-4)
MIP_GAP = 1e-9
#: side constraints are met to this relative tolerance (solver feasibility tolerances)
LIMIT_RTOL = 1e-6
#: CP-SAT scales every form so that its coefficients sum to this many units; with 2^50 it
#: returned 'optimal' answers 38 % above the optimum once a side limit was added (rare, but seen)
CPSAT_UNITS = 2.0**32


def component_tables(chain: ChainTables, weights: Sequence[float]) -> CostTables:
    """The chain with (T, E, D) folded by `weights`, e.g. (1, 0, 0) for the latency alone."""
    return chain.cost_view(weights)


def restrict(t: CostTables, tiers: Sequence[int]) -> CostTables:
    """The tables over a subset of tiers (in that order)."""
    return t.restrict(tiers)


@dataclass(frozen=True)
class Limit:
    """A side constraint: the quantity of `tables` at most `value`."""

    name: str
    tables: CostTables
    value: float


@dataclass
class _Model:
    n: int
    k: int
    exits: bool
    integer: np.ndarray  # [n_vars] bool
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return self.integer.size

    # variable index blocks
    def x(self) -> np.ndarray:
        return np.arange(self.n * self.k).reshape(self.n, self.k)

    def y(self) -> np.ndarray:  # [n-1, k, k] for i = 1..n-1
        base = self.n * self.k
        return base + np.arange((self.n - 1) * self.k * self.k).reshape(self.n - 1, self.k, self.k)

    def r(self) -> np.ndarray:  # [n, k]: reach at block i on tier s
        if not self.exits:
            return self.x()
        base = self.n * self.k * (1 + self.k) - self.k * self.k
        rest = base + np.arange((self.n - 1) * self.k).reshape(self.n - 1, self.k)
        return np.vstack([self.x()[:1], rest])

    def u(self) -> np.ndarray:  # [n-1, k, k]: reach carried along each move
        if not self.exits:
            return self.y()
        base = self.n * self.k * (1 + self.k) - self.k * self.k + (self.n - 1) * self.k
        return base + np.arange((self.n - 1) * self.k * self.k).reshape(self.n - 1, self.k, self.k)

    def add(self, idx, coef, lo: float, hi: float) -> None:
        self.rows.append((np.asarray(idx, dtype=np.intp), np.asarray(coef, dtype=float), lo, hi))


def _structure(n: int, k: int, gain: np.ndarray | None) -> _Model:
    """Variables and rows of the program; `gain` (exits on: the reach kept per move) adds the reach variables."""
    exits = gain is not None
    n_x, n_y = n * k, (n - 1) * k * k
    n_vars = n_x + n_y + (n_y + (n - 1) * k if exits else 0)
    integer = np.zeros(n_vars, dtype=bool)
    integer[:n_x] = True
    m = _Model(n, k, exits, integer)
    x, y, r, u = m.x(), m.y(), m.r(), m.u()
    ones = np.ones(k)
    for i in range(n):
        m.add(x[i], ones, 1.0, 1.0)
    flow = np.append(ones, -1.0)
    for i in range(1, n):
        for p in range(k):
            m.add(np.append(y[i - 1, p, :], x[i - 1, p]), flow, 0.0, 0.0)
        for s in range(k):
            m.add(np.append(y[i - 1, :, s], x[i, s]), flow, 0.0, 0.0)
    if gain is not None:
        for i in range(1, n):
            for p in range(k):
                m.add(np.append(u[i - 1, p, :], r[i - 1, p]), flow, 0.0, 0.0)
                for s in range(k):
                    m.add([u[i - 1, p, s], y[i - 1, p, s]], [1.0, -1.0], -math.inf, 0.0)
            for s in range(k):  # r[i, s] = sum_p g[p, s] u[i, p, s]
                m.add(np.append(u[i - 1, :, s], r[i, s]), np.append(-gain[i - 1, :, s], 1.0), 0.0, 0.0)
    return m


def _form(m: _Model, t: CostTables) -> np.ndarray:
    """Coefficients of the linear form of chain tables `t` over the model's variables."""
    n = m.n
    c = np.zeros(m.n_vars)
    r, u = m.r(), m.u()
    np.add.at(c, r.ravel(), t.unary.ravel())
    np.add.at(c, r[0], t.trans[0, 0])
    np.add.at(c, r[n - 1], t.final)
    if n > 1:
        move = t.trans[1:]  # [n-1, p, s]
        if m.exits:  # the boundary terms of problems.tables: exit paid, what follows scaled by the reach kept
            move = t.pay + t.gain * move
        np.add.at(c, u.ravel(), move.ravel())
    return c


@dataclass
class MipResult:
    assignment: np.ndarray | None
    status: str  # optimal | feasible | infeasible | no_solution
    info: dict


def solve_chain(
    objective: CostTables,
    tiers: Sequence[int],
    limits: Sequence[Limit] = (),
    backend: str = "cbc",
    time_limit_s: float | None = None,
) -> MipResult:
    """Minimize the `objective` form over assignments to `tiers` subject to `limits`."""
    if backend not in BACKENDS:
        raise Unsupported(f"unknown MIP backend {backend!r}; choose one of {list(BACKENDS)}")
    if objective.dag is not None:
        raise Unsupported("the chain program needs a chain; this instance is a DAG")
    tiers = list(tiers)
    obj = restrict(objective, tiers)
    n, k = obj.unary.shape
    exits = bool(obj.has_exits and n > 1)
    if exits and backend == "cp-sat":
        raise Unsupported("early exits need continuous reach variables, which cp-sat lacks; use backend scip or cbc")
    m = _structure(n, k, obj.gain if exits else None)
    c = _form(m, obj)
    lim_rows = []
    for lim in limits:
        lim_rows.append((lim.name, _form(m, restrict(lim.tables, tiers)), float(lim.value)))
    if backend == "cp-sat":
        res = _solve_cpsat(m, c, lim_rows, time_limit_s)
    else:
        res = _solve_linear(m, c, lim_rows, backend, time_limit_s)
    res.info.update(backend=backend, variables=m.n_vars, constraints=len(m.rows) + len(lim_rows))
    if res.assignment is not None:
        res.assignment = np.asarray(tiers, dtype=np.int64)[res.assignment]
    return res


def _solve_linear(m: _Model, c: np.ndarray, limits, backend: str, time_limit_s: float | None) -> MipResult:
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


def _solve_cpsat(m: _Model, c: np.ndarray, limits, time_limit_s: float | None) -> MipResult:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    var = [model.new_bool_var("") for _ in range(m.n_vars)]
    for idx, coef, lo, hi in m.rows:
        model.add_linear_constraint(
            cp_model.LinearExpr.weighted_sum([var[j] for j in idx], [int(a) for a in coef]),
            cp_model.INT_MIN if lo == -math.inf else int(lo), int(hi),
        )
    slack = 2 * m.n + 1  # rounding error bound: half a unit per term of an assignment
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
    code = solver.solve(model)
    names = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible"}
    status = names.get(code, "no_solution")
    info = {"status": status, "wall_s": solver.wall_time, "branches": int(solver.num_branches),
            "conflicts": int(solver.num_conflicts), "scale": scale}
    if status not in ("optimal", "feasible"):
        return MipResult(None, status, info)
    xs = np.array([solver.value(var[j]) for j in m.x().ravel()]).reshape(m.n, m.k)
    info.update(objective=solver.objective_value / scale, bound=solver.best_objective_bound / scale)
    return MipResult(np.argmax(xs, axis=1), status, info)


def limit_violations(values: dict[str, float], limits: Sequence[Limit]) -> list[str]:
    """Limits an assignment's exact values exceed beyond the numerical tolerance."""
    bad = []
    for lim in limits:
        v = values[lim.name]
        if v > lim.value * (1 + LIMIT_RTOL) + 1e-12:
            bad.append(f"{lim.name} = {v:.9g} > {lim.value:.9g}")
    return bad
