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

The backends (cbc, scip, cp-sat) and their numerics are `solvers._mip`'s; CP-SAT cannot
hold the continuous reach, so early exits need a MIP backend (scip or cbc).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from problems.tables import ChainTables, CostTables
from solvers._mip import BACKENDS, Limit, MipResult, Program, check_backend, limit_violations, solve_program
from solvers.base import Unsupported

__all__ = ["BACKENDS", "Limit", "MipResult", "component_tables", "limit_violations", "solve_chain"]


def component_tables(chain: ChainTables, weights: Sequence[float]) -> CostTables:
    """The chain with (T, E, D) folded by `weights`, e.g. (1, 0, 0) for the latency alone."""
    return chain.cost_view(weights)


@dataclass
class _Model(Program):
    """The chain program: x, then the moves y, then (exits on) the reach r and u."""

    exits: bool = False

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

def _structure(n: int, k: int, gain: np.ndarray | None) -> _Model:
    """Variables and rows of the program; `gain` (exits on: the reach kept per move) adds the reach variables."""
    exits = gain is not None
    n_x, n_y = n * k, (n - 1) * k * k
    n_vars = n_x + n_y + (n_y + (n - 1) * k if exits else 0)
    integer = np.zeros(n_vars, dtype=bool)
    integer[:n_x] = True
    m = _Model(n, k, integer, exits=exits)
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


def solve_chain(
    objective: CostTables,
    tiers: Sequence[int],
    limits: Sequence[Limit] = (),
    backend: str = "cbc",
    time_limit_s: float | None = None,
    incumbents: bool = False,
) -> MipResult:
    """Minimize the `objective` form over assignments to `tiers` subject to `limits`."""
    check_backend(backend)
    if objective.dag is not None:
        raise Unsupported("the chain program needs a chain; this instance is a DAG")
    tiers = list(tiers)
    obj = objective.restrict(tiers)
    n, k = obj.unary.shape
    exits = bool(obj.has_exits and n > 1)
    if exits and backend == "cp-sat":
        raise Unsupported("early exits need continuous reach variables, which cp-sat lacks; use backend scip or cbc")
    m = _structure(n, k, obj.gain if exits else None)
    c = _form(m, obj)
    lim_rows = []
    for lim in limits:
        lim_rows.append((lim.name, _form(m, lim.tables.restrict(tiers)), float(lim.value)))
    return solve_program(m, c, lim_rows, backend, time_limit_s, tiers, incumbents)
