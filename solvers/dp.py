"""`dp`: exact backward dynamic programming over (block, tier); the reference optimum.

W_i(s) is the expected cost still to come after block i ran on tier s, per unit of
reach: W_i(s) = min_t pay[i, s, t] + gain[i, s, t] * (step(i+1, s, t) + W_{i+1}(t)), with the
boundary terms of `problems.tables` (the exit branch paid and the reach kept at a tier
change; 0 and 1 without exits). Expectations are linear in the reach, so this is exact
with early exits too. Chains only: a DAG's fan-out is paid once per destination tier,
which this recursion cannot see. O(n k^2) time, O(n k) memory. Ties go to the lower
tier. Long chains run a loop compiled with numba (a decision on 10,000 blocks takes a
millisecond); short ones the same loop in plain Python floats, with the same operations
in the same order (so the same IEEE results, ties and answer), because
importing numba and loading its compiled code costs a fresh process about a second,
a thousand times the work on a paper model.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from problems import Problem
from problems.tables import CostTables
from solvers.base import Solution, Solver, Unsupported
from solvers.registry import register

#: chains of at most this many (block, tier) states take the plain-Python path
NUMPY_MAX_STATES = 1024
DAG_REASON = ("dp solves chains only: on a DAG a block's output is paid once per destination tier; "
              "use ilp (exact, any tiers) or mincut (exact, two tiers)")


def _backward_small(unary, trans, final, pay, gain):
    """`_backward` in plain Python floats: the same operations in the same order, so the
    same IEEE results, ties and answer; on a short chain faster than numpy's per-call cost."""
    n, k = unary.shape
    un, tr, pa, ga = unary.tolist(), trans.tolist(), pay.tolist(), gain.tolist()
    value = final.tolist()
    choice = [[0] * k for _ in range(n)]
    tiers = range(k)
    for i in range(n - 2, -1, -1):
        u, t_next, p_i, g_i, c_i = un[i + 1], tr[i + 1], pa[i], ga[i], choice[i]
        nxt = [0.0] * k
        for s in tiers:
            best, arg = math.inf, 0
            ts, ps, gs = t_next[s], p_i[s], g_i[s]
            for t in tiers:
                v = ps[t] + gs[t] * (u[t] + ts[t] + value[t])
                if v < best:
                    best, arg = v, t
            nxt[s], c_i[s] = best, arg
        value = nxt
    best, first = math.inf, 0
    for s in tiers:
        v = un[0][s] + tr[0][0][s] + value[s]
        if v < best:
            best, first = v, s
    out = np.empty(n, dtype=np.int64)
    out[0] = first
    for i in range(n - 1):
        out[i + 1] = choice[i][out[i]]
    return out, best


@functools.cache
def _compiled():
    """The numba loop, compiled (or loaded from numba's cache) on first use."""
    import numba

    return numba.njit(cache=True)(_backward)


def _backward(unary, trans, final, pay, gain):  # pragma: no cover - compiled
    n, k = unary.shape
    value = final.copy()
    choice = np.zeros((n, k), dtype=np.int64)
    nxt = np.empty(k)
    for i in range(n - 2, -1, -1):
        for s in range(k):
            best = np.inf
            arg = 0
            for t in range(k):
                v = pay[i, s, t] + gain[i, s, t] * (unary[i + 1, t] + trans[i + 1, s, t] + value[t])
                if v < best:
                    best = v
                    arg = t
            nxt[s] = best
            choice[i, s] = arg
        value[:] = nxt
    best = np.inf
    first = 0
    for s in range(k):
        v = unary[0, s] + trans[0, 0, s] + value[s]
        if v < best:
            best = v
            first = s
    out = np.empty(n, dtype=np.int64)
    out[0] = first
    for i in range(n - 1):
        out[i + 1] = choice[i, out[i]]
    return out, best


def optimum(tables: CostTables) -> tuple[np.ndarray, float]:
    """Optimal assignment and its expected cost for scalar chain tables."""
    if tables.dag is not None:
        raise Unsupported(DAG_REASON)
    args = (tables.unary, tables.trans, tables.final, tables.pay, tables.gain)
    if tables.unary.size <= NUMPY_MAX_STATES:
        return _backward_small(*args)
    return _compiled()(*args)


@register
class DP(Solver):
    name = "dp"

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        assignment, value = optimum(problem.cost_tables)
        return Solution(assignment, {"value": float(value), "states": problem.n_blocks * problem.n_tiers})
