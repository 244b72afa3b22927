"""Shared pieces of the fleet solvers: the batched per-user DP and the fleet guard.

`batched_dp` is one backward DP over [K, n_max, 3] for every user at once, on the padded
tables of `problems.fleet.FleetTables` (the pad rule makes pad blocks free, so the
recursion needs no per-user length). A load price `price[s]` (cost units per ms of
compute on server s) is added to each block's unary term on that server: the Lagrangian
subproblem of the two capacity rows, and with price 0 exactly `independent`'s dp.
Compiled with numba: K = 100,000 users of 17 blocks take a few tens of ms.
"""

from __future__ import annotations

import numba
import numpy as np

from problems.fleet import FleetProblem, FleetSearchView, FleetTables
from solvers.base import Unsupported


def is_fleet(problem) -> bool:
    return getattr(problem, "problem_class", None) == "fleet"


def require_fleet(problem, name: str) -> FleetProblem:
    if not is_fleet(problem):
        raise Unsupported(f"{name} decides fleets (spec section 13); this is a single-user problem")
    return problem


@numba.njit(cache=True)
def _dp(unary, trans, final, load, price_e, price_c, lo, hi):  # pragma: no cover - compiled
    _, n, k = unary.shape
    out = np.zeros((hi - lo, n), dtype=np.int64)
    value = np.empty(hi - lo)
    choice = np.empty((n, k), dtype=np.int64)
    v = np.empty(k)
    nxt = np.empty(k)
    for u in range(lo, hi):
        for s in range(k):
            v[s] = final[u, s]
        for i in range(n - 1, 0, -1):
            for p in range(k):
                best = np.inf
                arg = 0
                for s in range(k):
                    c = unary[u, i, s] + trans[u, i, p, s] + v[s]
                    if s == 1:
                        c += price_e * load[u, i, 1]
                    elif s == 2:
                        c += price_c * load[u, i, 2]
                    if c < best:
                        best = c
                        arg = s
                nxt[p] = best
                choice[i, p] = arg
            for s in range(k):
                v[s] = nxt[s]
        best = np.inf
        first = 0
        for s in range(k):
            c = unary[u, 0, s] + trans[u, 0, 0, s] + v[s]
            if s == 1:
                c += price_e * load[u, 0, 1]
            elif s == 2:
                c += price_c * load[u, 0, 2]
            if c < best:
                best = c
                first = s
        value[u - lo] = best
        out[u - lo, 0] = first
        for i in range(1, n):
            out[u - lo, i] = choice[i, out[u - lo, i - 1]]
    return out, value


def batched_dp(tables: FleetTables, price=(0.0, 0.0), lo: int = 0, hi: int | None = None):
    """Every user's optimum of cost_k + price . W_k (users lo..hi-1): [m, n_max] tiers (pads 0)
    and [m] values. With price 0 it is each user's single-user optimum (ties: lower tier)."""
    hi = tables.unary.shape[0] if hi is None else hi
    return _dp(tables.unary, tables.trans, tables.final, tables.load, float(price[0]), float(price[1]), lo, hi)



def searchable(problem):
    """(what a black-box search evaluates, how its best flat answer becomes the solution):
    a fleet's flat search view, or the problem itself."""
    if not is_fleet(problem):
        return problem, lambda x: x
    view = FleetSearchView(problem)
    return view, lambda x: view.to_joint(np.asarray(x)[None])[0]
