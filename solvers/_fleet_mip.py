"""The fleet problem as an integer program (spec section 13), for `ilp` on fleets.

Each user k is the chain program of `solvers._chain_mip` (x[k, i, s] block i on tier s,
flow variables for the moves; identical users share one integer flow, see `_FleetModel`),
objective sum_k lambda_k / Lambda times its cost form, and the two capacity rows
sum_k lambda_k sum_i c(k, i, s) x[k, i, s] <= rho_max 1000 workers_s.

`queueing=none`: that MIP is the problem (a multiple-choice knapsack with two rows), exact.
With cp-sat every form is scaled to integers; the load coefficients are rounded up and the
capacities down, so every answer is truly feasible (an assignment within ~1e-9 of a limit
may be cut off).

`queueing=ps`: outer approximation. The objective is section 13's convex form
[sum_k lambda_k A_k + 1000 sum_s workers_s h(rho_s)] / Lambda, h(r) = r / (1 - r). With r_s
tied to the loads by an equality row and z_s >= every tangent of h taken so far, the MIP is
a relaxation (its bound is a lower bound on the optimum); its answer is re-scored exactly
(an upper bound); tangents at the answer's utilizations are added and the MIP solved again,
until (upper - lower) / upper <= `OA_GAP` (1e-6) or the time limit. 64 tangents evenly
spaced over [0, rho_max] start it. scip or cbc (CP-SAT has no continuous variables).
"""

from __future__ import annotations

import math
import time

import numpy as np

from problems.fleet import FleetProblem
from solvers._chain_mip import _form, _structure
from solvers._mip import CPSAT_UNITS, incumbent_recorder
from solvers._trace import Trace
from solvers.base import Unsupported

#: relative gap at which a fleet answer counts as proven optimal (MIP gap, and the ps loop's)
OA_GAP = 1e-6
MIP_GAP = 1e-7
#: tangents of h at the start of the outer approximation
OA_START_CUTS = 64
#: the largest utilization r may take with ps (h is finite only below 1)
PS_RHO_CAP = 1 - 1e-9


class _FleetModel:
    """Every class of identical users as one integer flow of m units through its chain
    program (x[i, s] = how many of its users run block i on tier s, y the moves), offset
    into one index space. An integer flow is m paths, one assignment per user, and every
    cost and load is linear in it: exact, without the symmetry of m copies of one user."""

    def __init__(self, fleet: FleetProblem):
        self.fleet = fleet
        self.classes = fleet.rate_classes()  # same blocks, device, te link and rate
        self.rows: list[tuple[np.ndarray, np.ndarray, float, float]] = []
        self.x_index: list[np.ndarray] = []  # per class [n, 3]
        self.y_index: list[np.ndarray] = []  # per class [n-1, 3, 3]
        self.cost = []  # per class: its users' cost form (without queueing) as (indices, coefficients)
        upper, integer = [], []
        base = 0
        for members in self.classes:
            k = members[0]
            m_users = len(members)
            n = int(fleet.n_blocks_of[k])
            m = _structure(n, 3, None)
            for idx, coef, lo, hi in m.rows:
                if lo == hi == 1.0:  # one tier per block: m_users of them
                    lo = hi = float(m_users)
                self.rows.append((idx + base, coef, lo, hi))
            c = _form(m, fleet.user_cost_tables[k])
            nz = np.flatnonzero(c)
            self.cost.append((nz + base, c[nz]))
            self.x_index.append(m.x() + base)
            self.y_index.append(m.y() + base)
            upper.append(np.full(m.n_vars, float(m_users)))
            integer.append(m.integer | (m_users > 1))  # several users: the moves must be whole too
            base += m.n_vars
        self.n_vars = base
        self.upper = np.concatenate(upper)
        self.is_integer = np.concatenate(integer)

    def load_row(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """sum_k lambda_k sum_i c(k, i, s) x[k, i, s] as (indices, coefficients)."""
        idx, coef = [], []
        for members, x in zip(self.classes, self.x_index, strict=True):
            k = members[0]
            c = self.fleet.server_loads[k][:, s]
            nz = np.flatnonzero(c)
            idx.append(x[nz, s])
            coef.append(self.fleet.rates[k] * c[nz])
        return np.concatenate(idx), np.concatenate(coef)

    def objective(self, minus_loads: bool) -> np.ndarray:
        """sum_k lambda_k / Lambda * cost_k (minus the server compute, for ps's A_k)."""
        lam = self.fleet.rates / self.fleet.rates.sum()
        c = np.zeros(self.n_vars)
        for members, (idx, coef) in zip(self.classes, self.cost, strict=True):
            np.add.at(c, idx, lam[members[0]] * coef)
        if minus_loads:
            for s in (1, 2):
                idx, coef = self.load_row(s)
                np.add.at(c, idx, -coef / self.fleet.rates.sum())
        return c

    def values_of(self, X: np.ndarray) -> np.ndarray:
        """The flow variables of a [K, n_max] assignment (a MIP start)."""
        v = np.zeros(self.n_vars)
        for members, x, y in zip(self.classes, self.x_index, self.y_index, strict=True):
            n = x.shape[0]
            paths, users = np.unique(X[members, :n], axis=0, return_counts=True)
            for row, m in zip(paths, users.astype(float), strict=True):
                v[x[np.arange(n), row]] += m
                if n > 1:
                    v[y[np.arange(n - 1), row[:-1], row[1:]]] += m
        return v

    def assignment(self, values: np.ndarray) -> np.ndarray:
        """Each class's flow split into one path per user: a path of positive flow is
        followed from the first block, as many users as its smallest flow take it."""
        f = self.fleet
        X = np.zeros((f.n_users, f.n_max), dtype=np.int64)
        v = np.rint(values).astype(np.int64)
        for members, x, y in zip(self.classes, self.x_index, self.y_index, strict=True):
            first = v[x[0]].copy()
            moves = v[y].copy()  # [n-1, 3, 3]
            n = x.shape[0]
            done = 0
            while done < len(members):
                path = [int(np.argmax(first > 0))]
                for i in range(1, n):
                    path.append(int(np.argmax(moves[i - 1, path[-1]] > 0)))
                m = min([int(first[path[0]])] + [int(moves[i - 1, path[i - 1], path[i]]) for i in range(1, n)])
                m = max(1, min(m, len(members) - done))
                first[path[0]] -= m
                for i in range(1, n):
                    moves[i - 1, path[i - 1], path[i]] -= m
                X[members[done: done + m], :n] = path
                done += m
        return X


def _start(fleet: FleetProblem):
    """lagrangian's feasible answer and its cost: a MIP start and a first upper bound."""
    from solvers.lagrangian import LagrangianConfig, lagrangian

    few = len(fleet.rate_classes()) < fleet.n_users  # identical users: the class master alone is near optimal
    X, _ = lagrangian(fleet, LagrangianConfig(formulation="classes" if few else "auto"))
    cost = float(fleet.evaluate(X[None]).cost[0])
    return (X, cost) if np.isfinite(cost) else None


def _status(code, pywraplp) -> str:
    return {pywraplp.Solver.OPTIMAL: "optimal", pywraplp.Solver.FEASIBLE: "feasible",
            pywraplp.Solver.INFEASIBLE: "infeasible"}.get(code, "no_solution")


def solve_fleet(fleet: FleetProblem, backend: str, time_limit_s: float | None,
                trace: Trace | None = None) -> tuple[np.ndarray, dict]:
    """The exact fleet optimum (or the best found and a proven bound within the time limit).

    `trace` gets the incumbents, re-scored by the fleet: cp-sat's from its solution callback;
    with cbc or scip the feasible start and each outer-approximation round's answer (pywraplp
    reports no incumbents within a solve)."""
    trace = Trace() if trace is None else trace
    if backend == "cp-sat":
        if fleet.queueing == "ps":
            raise Unsupported("ilp with queueing=ps uses outer approximation with continuous utilizations; "
                              "use backend scip or cbc")
        return _solve_cpsat(fleet, _FleetModel(fleet), time_limit_s, trace)
    return _solve_linear(fleet, _FleetModel(fleet), backend, time_limit_s, trace)


def _solve_linear(fleet: FleetProblem, m: _FleetModel, backend: str, time_limit_s: float | None, trace: Trace):
    from ortools.linear_solver import pywraplp

    t0 = time.perf_counter()
    solver = pywraplp.Solver.CreateSolver(backend.upper())
    if solver is None:
        raise Unsupported(f"MIP backend {backend} is not available in this OR-Tools build")
    var = [solver.IntVar(0.0, u, "") if b else solver.NumVar(0.0, u, "") for b, u in
           zip(m.is_integer.tolist(), m.upper.tolist(), strict=True)]
    for idx, coef, lo, hi in m.rows:
        row = solver.Constraint(-solver.infinity() if lo == -math.inf else lo, hi)
        for j, a in zip(idx.tolist(), coef.tolist(), strict=True):
            row.SetCoefficient(var[j], a)
    ps = fleet.queueing == "ps"
    workers = fleet.shared.workers
    total = float(fleet.rates.sum())
    r_vars, z_vars = [], []
    for s in (1, 2):
        idx, coef = m.load_row(s)
        if ps:  # r_s = sum lambda W / (1000 workers_s), r_s in [0, min(rho_max, 1))
            r = solver.NumVar(0.0, min(fleet.rho_max, PS_RHO_CAP), "")
            row = solver.Constraint(0.0, 0.0)
            row.SetCoefficient(r, 1000.0 * workers[s - 1])
            r_vars.append(r)
            z_vars.append(solver.NumVar(0.0, solver.infinity(), ""))
        else:
            row = solver.Constraint(-solver.infinity(), 1.0)  # relative to the capacity
        scale = -1.0 if ps else 1.0 / fleet.capacity[s - 1]
        for j, a in zip(idx.tolist(), coef.tolist(), strict=True):
            row.SetCoefficient(var[j], a * scale)
    objective = solver.Objective()
    c = m.objective(minus_loads=ps)
    for j in np.flatnonzero(c).tolist():
        objective.SetCoefficient(var[j], float(c[j]))
    for s, z in enumerate(z_vars):
        objective.SetCoefficient(z, 1000.0 * workers[s] / total)
    objective.SetMinimization()

    def add_cut(s: int, r0: float) -> None:  # z_s >= h(r0) + h'(r0) (r_s - r0)
        h, slope = fleet.server_curve(r0)
        row = solver.Constraint(float(h - slope * r0), solver.infinity())
        row.SetCoefficient(z_vars[s], 1.0)
        row.SetCoefficient(r_vars[s], -float(slope))

    if ps:
        for r0 in np.linspace(0.0, min(fleet.rho_max, PS_RHO_CAP), OA_START_CUTS):
            for s in range(2):
                add_cut(s, float(r0))
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, MIP_GAP)
    best_X, best_cost, bound, status, rounds = None, math.inf, -math.inf, "no_solution", 0
    start = _start(fleet)
    found = 0
    if start is not None:  # a feasible start prunes from the first node
        best_X, best_cost = start
        solver.SetHint(var, m.values_of(start[0]).tolist())
        found += 1
        trace.record(found, best_cost)
    while True:
        if time_limit_s is not None:
            left = time_limit_s - (time.perf_counter() - t0)
            if left <= 0:
                break
            solver.SetTimeLimit(max(1, int(left * 1000)))
        rounds += 1
        status = _status(solver.Solve(params), pywraplp)
        if status not in ("optimal", "feasible"):
            break
        xs = np.array([v.solution_value() for v in var])
        X = m.assignment(xs)
        cost = fleet.evaluate(X[None]).cost[0]
        found += 1
        if np.isfinite(cost):
            trace.record(found, float(cost))
        if np.isfinite(cost) and cost < best_cost:
            best_X, best_cost = X, float(cost)
        round_bound = objective.BestBound()
        if not ps:
            bound = round_bound
            break
        bound = max(bound, round_bound) if status == "optimal" else bound
        if status != "optimal" or best_cost - bound <= OA_GAP * abs(best_cost):
            break
        added = False
        at = [(r.solution_value(), z.solution_value()) for r, z in zip(r_vars, z_vars, strict=True)]
        for s, (r0, z0) in enumerate(at):  # read every value before the model changes
            h, _ = fleet.server_curve(r0)
            if h - z0 > 1e-12 * max(1.0, h):
                add_cut(s, float(r0))
                added = True
        if not added:
            break
    if best_X is None:
        if status == "infeasible":
            raise Unsupported("infeasible: no assignment keeps both servers within max_utilization")
        raise Unsupported(f"{backend} found no assignment within time_limit_s = {time_limit_s}")
    proven = best_cost - bound <= OA_GAP * abs(best_cost)
    info = {"status": "optimal" if proven else "feasible", "bound": float(bound), "objective": best_cost,
            "backend": backend, "variables": solver.NumVariables(), "constraints": solver.NumConstraints(),
            "oa_rounds": rounds, "wall_s": time.perf_counter() - t0,
            "incumbents": f"the start and each round's answer: pywraplp reports no incumbents of {backend}"}
    return best_X, info


def _solve_cpsat(fleet: FleetProblem, m: _FleetModel, time_limit_s: float | None, trace: Trace):
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    model = cp_model.CpModel()
    var = [model.new_int_var(0, int(u), "") for u in m.upper.tolist()]
    for idx, coef, lo, hi in m.rows:
        model.add_linear_constraint(
            cp_model.LinearExpr.weighted_sum([var[j] for j in idx], [int(a) for a in coef]),
            cp_model.INT_MIN if lo == -math.inf else int(lo), int(hi))
    for s in (1, 2):
        idx, coef = m.load_row(s)
        cap = float(fleet.capacity[s - 1])
        scale = CPSAT_UNITS / max(cap, 1e-300)
        ints = np.ceil(coef * scale).astype(np.int64)  # loads up, capacity down: always truly feasible
        model.add(cp_model.LinearExpr.weighted_sum([var[j] for j in idx], ints.tolist()) <= math.floor(cap * scale))
    c = m.objective(minus_loads=False)
    total = float(np.abs(c).sum())
    scale = CPSAT_UNITS / total if total > 0 else 1.0
    ints = np.rint(c * scale).astype(np.int64)
    nz = np.flatnonzero(ints)
    model.minimize(cp_model.LinearExpr.weighted_sum([var[j] for j in nz], ints[nz].tolist()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = float(time_limit_s)
    recorder = incumbent_recorder(var, m.assignment)
    code = solver.solve(model, recorder)
    status = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible",
              cp_model.INFEASIBLE: "infeasible"}.get(code, "no_solution")
    if status not in ("optimal", "feasible"):
        if status == "infeasible":
            raise Unsupported("infeasible: no assignment keeps both servers within max_utilization")
        raise Unsupported(f"cp-sat found no assignment within time_limit_s = {time_limit_s}")
    xs = np.array([solver.value(v) for v in var], dtype=float)
    X = m.assignment(xs)
    cost = float(fleet.evaluate(X[None]).cost[0])
    if recorder.found:  # the best re-scored incumbent (the scaled objective may rank near-ties the other way)
        found = np.stack([x for _, x in recorder.found])
        costs = fleet.evaluate(found).cost
        for i, (at, _) in enumerate(recorder.found):
            if np.isfinite(costs[i]):
                trace.record(i + 1, float(costs[i]), at=at)
        i = int(np.argmin(costs))
        if costs[i] < cost:
            X, cost = found[i], float(costs[i])
    # the scaled objective rounds each term by at most half a unit: the bound is loosened by that much
    slack = 0.5 * (fleet.n_blocks * 10 + 1) / scale
    info = {"status": status, "bound": solver.best_objective_bound / scale - slack, "objective": cost,
            "backend": "cp-sat", "variables": m.n_vars, "wall_s": time.perf_counter() - t0,
            "branches": int(solver.num_branches), "incumbents": "every improving solution (CP-SAT solution callback)"}
    return X, info
