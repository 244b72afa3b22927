"""The DAG partition (spec section 12) as a mixed-integer program, shared by `ilp` and `maui`.

Over the k tiers allowed, with E the edges u -> v of the data flow:

    x[v, s] in {0, 1}         block v runs on tier s;  sum_s x[v, s] = 1
    e[j, p, t] in [0, 1]      edge j = (u, v): u on p and v on t
                              sum_t e[j, p, t] = x[u, p],  sum_p e[j, p, t] = x[v, t]
    y[u, p, t] in [0, 1]      p != t, u read by several blocks: u's output sent from p to t
                              y[u, p, t] >= e[j, p, t] for every edge j out of u
    r[t] in [0, 1]            several raw-input blocks: the raw input sent to t
                              r[t] >= x[v, t] for every raw-input block v

At an integral x the transport rows make e = x[u, p] * x[v, t] exactly (as the chain
program's moves); y is then at least 1 exactly when some reader of u runs on t != S_u,
and r[t] when some raw-input block runs on t. Every cost coefficient is >= 0, so at the
optimum y and r sit at those values: a fan-out is paid once per destination tier, as the
spec counts it. A producer with one reader pays its send on e directly, and one raw-input
block pays the raw input on its own x, so a chain-like stretch has the chain program's
(integral) relaxation; y >= e on each edge is tighter than the product linearization
y >= x[u, p] + x[v, t] - 1.

Any quantity of the DAG tables (cost, latency, energy) is one linear form: x[v, s] carries
unary[v, s] (+ final[s] for the last block, + raw[s] for a lone raw-input block), e or y
carries send[u, p, t], r[t] carries raw[t]. Early exits are not defined on DAGs (spec
section 12), so no reach variables are needed. The backends are `solvers._mip`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from problems.tables import CostTables
from solvers._chain_mip import solve_chain
from solvers._mip import Limit, MipResult, Program, check_backend, solve_program


@dataclass
class _DagProgram(Program):
    """x, then e per edge, then y per multi-reader producer, then r (several raw-input blocks)."""

    edges: np.ndarray | None = None  # [E, 2] (u, v)
    e_idx: np.ndarray | None = None  # [E, k, k]
    fan_out: np.ndarray | None = None  # [F] producers with several readers
    y_idx: np.ndarray | None = None  # [F, k, k], -1 on the diagonal
    single: np.ndarray | None = None  # [E] bool: the edge's producer has one reader
    raw_readers: np.ndarray | None = None
    r_idx: np.ndarray | None = None  # [k] or None (one raw-input block)

    @property
    def terms(self) -> int:
        # unary per block, final, at most one send per edge or k-1 per producer, the raw input
        return self.n + 1 + len(self.edges) + self.n * (self.k - 1) + self.k


def _structure(n: int, k: int, producers: np.ndarray, readers: np.ndarray, raw_readers: np.ndarray) -> _DagProgram:
    edges = np.stack([producers, readers], axis=1).astype(np.intp)
    n_e = len(edges)
    counts = np.bincount(producers, minlength=n)
    fan_out = np.flatnonzero(counts > 1)
    base = n * k
    e_idx = base + np.arange(n_e * k * k).reshape(n_e, k, k)
    base += n_e * k * k
    off = ~np.eye(k, dtype=bool)
    y_idx = np.full((len(fan_out), k, k), -1, dtype=np.intp)
    y_idx[:, off] = base + np.arange(len(fan_out) * k * (k - 1)).reshape(len(fan_out), k * (k - 1))
    base += len(fan_out) * k * (k - 1)
    r_idx = None
    if len(raw_readers) > 1:
        r_idx = base + np.arange(k)
        base += k
    integer = np.zeros(base, dtype=bool)
    integer[: n * k] = True
    m = _DagProgram(n, k, integer, edges=edges, e_idx=e_idx, fan_out=fan_out, y_idx=y_idx,
                    single=counts[producers] == 1, raw_readers=raw_readers, r_idx=r_idx)
    x = m.x()
    ones = np.ones(k)
    for v in range(n):
        m.add(x[v], ones, 1.0, 1.0)
    flow = np.append(ones, -1.0)
    for j, (u, v) in enumerate(edges.tolist()):
        for p in range(k):
            m.add(np.append(e_idx[j, p, :], x[u, p]), flow, 0.0, 0.0)
        for t in range(k):
            m.add(np.append(e_idx[j, :, t], x[v, t]), flow, 0.0, 0.0)
    row_of = {int(u): f for f, u in enumerate(fan_out)}
    for j, u in enumerate(producers.tolist()):
        f = row_of.get(u)
        if f is None:
            continue
        for p in range(k):
            for t in range(k):
                if p != t:
                    m.add([e_idx[j, p, t], y_idx[f, p, t]], [1.0, -1.0], -np.inf, 0.0)
    if r_idx is not None:
        for v in raw_readers.tolist():
            for t in range(k):
                m.add([x[v, t], r_idx[t]], [1.0, -1.0], -np.inf, 0.0)
    return m


def _form(m: _DagProgram, t: CostTables) -> np.ndarray:
    """Coefficients of the linear form of DAG tables `t` (one component) over the program's variables."""
    dag = t.dag
    send, raw = dag.send[0], dag.raw[0]  # [n, k, k], [k]
    c = np.zeros(m.n_vars)
    x = m.x()
    np.add.at(c, x.ravel(), t.unary.ravel())
    np.add.at(c, x[m.n - 1], t.final)
    single = m.single
    if single.any():
        np.add.at(c, m.e_idx[single].ravel(), send[m.edges[single, 0]].ravel())
    if len(m.fan_out):
        off = m.y_idx >= 0
        np.add.at(c, m.y_idx[off], send[m.fan_out][off])
    if len(m.raw_readers) == 1:
        np.add.at(c, x[m.raw_readers[0]], raw)
    elif m.r_idx is not None:
        np.add.at(c, m.r_idx, raw)
    return c


def solve_dag(
    objective: CostTables,
    tiers: Sequence[int],
    limits: Sequence[Limit] = (),
    backend: str = "cbc",
    time_limit_s: float | None = None,
    incumbents: bool = False,
) -> MipResult:
    """Minimize the `objective` form of a DAG over assignments to `tiers` subject to `limits`."""
    check_backend(backend)
    tiers = list(tiers)
    obj = objective.restrict(tiers)
    dag = obj.dag
    n, k = obj.unary.shape
    m = _structure(n, k, dag.producers, dag.readers, dag.raw_readers)
    c = _form(m, obj)
    lim_rows = [(lim.name, _form(m, lim.tables.restrict(tiers)), float(lim.value)) for lim in limits]
    res = solve_program(m, c, lim_rows, backend, time_limit_s, tiers, incumbents)
    res.info.update(program="dag", edges=len(m.edges))
    return res


def solve_partition(
    objective: CostTables,
    tiers: Sequence[int],
    limits: Sequence[Limit] = (),
    backend: str = "cbc",
    time_limit_s: float | None = None,
    incumbents: bool = False,
) -> MipResult:
    """The DAG program on a DAG instance, the chain program otherwise."""
    if objective.dag is not None:
        return solve_dag(objective, tiers, limits, backend, time_limit_s, incumbents)
    return solve_chain(objective, tiers, limits, backend, time_limit_s, incumbents)
