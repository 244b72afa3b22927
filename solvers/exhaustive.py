"""`exhaustive`: score every one of the k^n assignments and keep the cheapest.

Every assignment's cost is computed explicitly, but not block by block: the chain is
cut into a prefix (blocks 0..m-1) and a suffix (m..n-1). The suffix tensor V[p, rest]
(expected cost after block m-1 ran on tier p, per unit of reach, pending exit included)
is built backwards by broadcasting, the prefix tensors (cost so far, reach) forwards;
each assignment then costs one multiply-add: acc[prefix] + reach[prefix] * V[last, rest].
Memory stays bounded by the chunk sizes whatever n is. Ties go to the first assignment
in lexicographic order (block 0 most significant). On a DAG every assignment is scored
by `Problem.evaluate` in batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from problems import Problem
from problems.schema import bounded
from problems.tables import CostTables
from solvers.base import Solution, Solver, Unsupported
from solvers.registry import register

SUFFIX_CELLS = 1 << 21  # entries of the suffix tensor, k^(s+1)
BATCH_CELLS = 1 << 22  # assignments scored per vectorized step


def _suffix(t: CostTables, m: int) -> np.ndarray:
    """V[p, rest] for blocks m..n-1; rest indexes t_m..t_{n-1}, t_m most significant."""
    n, k = t.unary.shape
    v = t.final[:, None]  # after the last block on tier p: [k, 1]
    for j in range(n - 1, m - 1, -1):
        # v[t_j, rest'] -> new[p, t_j, rest']
        step = t.unary[j][None, :] + t.trans[j]  # [p, t_j]
        body = step[:, :, None] + v[None, :, :]
        if t.has_exits and j >= 1:  # the boundary terms of problems.tables (0 and 1 without exits)
            body = t.pay[j - 1][:, :, None] + t.gain[j - 1][:, :, None] * body
        v = body.reshape(k, -1)
    return v


def _prefix(t: CostTables, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(cost so far, reach) for every prefix t_0..t_{m-1}, t_0 most significant."""
    k = t.unary.shape[1]
    acc = t.unary[0] + t.trans[0, 0]  # [k]
    reach = np.ones(k)
    for j in range(1, m):
        step = t.unary[j][None, :] + t.trans[j]  # [t_{j-1}, t_j]
        prev = np.arange(acc.size) % k  # last tier of each prefix
        if t.has_exits:
            a = acc[:, None] + reach[:, None] * (t.pay[j - 1][prev] + t.gain[j - 1][prev] * step[prev])
            r = reach[:, None] * t.gain[j - 1][prev]
        else:
            a = acc[:, None] + reach[:, None] * step[prev]
            r = np.broadcast_to(reach[:, None], a.shape)
        acc, reach = a.reshape(-1), np.ascontiguousarray(r).reshape(-1)
    return acc, reach


def enumerate_min(t: CostTables) -> tuple[int, float, int]:
    """(index of the cheapest assignment, its cost, number scored)."""
    n, k = t.unary.shape
    s = n
    while s > 0 and k ** (s + 1) > SUFFIX_CELLS:
        s -= 1
    m = n - s
    if m == 0:
        v = _suffix(t, 0)[0]
        idx = int(np.argmin(v))
        return idx, float(v[idx]), v.size
    suffix = _suffix(t, m)
    acc, reach = _prefix(t, m)
    width = suffix.shape[1]
    rows = max(1, BATCH_CELLS // width)
    best_val, best_idx = np.inf, -1
    for p in range(k):
        pre = np.arange(p, acc.size, k)
        for lo in range(0, pre.size, rows):
            sel = pre[lo : lo + rows]
            tot = acc[sel, None] + reach[sel, None] * suffix[p][None, :]
            flat = int(np.argmin(tot))
            val = float(tot.flat[flat])
            idx = int(sel[flat // width]) * width + flat % width
            if val < best_val or (val == best_val and idx < best_idx):
                best_val, best_idx = val, idx
    return best_idx, best_val, acc.size * width


def enumerate_dag(problem: Problem) -> tuple[int, float, int]:
    """(index, cost, number scored) of the cheapest DAG assignment: every assignment scored by
    `Problem.evaluate` in lexicographic batches (the chain's prefix/suffix split does not apply)."""
    n, k = problem.n_blocks, problem.n_tiers
    total = k**n
    rows = max(1, BATCH_CELLS // (4 * n))
    weights = k ** np.arange(n - 1, -1, -1, dtype=np.int64)
    best_val, best_idx = np.inf, -1
    for lo in range(0, total, rows):
        idx = np.arange(lo, min(lo + rows, total), dtype=np.int64)
        X = (idx[:, None] // weights[None, :]) % k
        cost = problem.evaluate(X).cost
        j = int(np.argmin(cost))
        if cost[j] < best_val:
            best_val, best_idx = float(cost[j]), int(idx[j])
    return best_idx, best_val, total


def decode(index: int, n: int, k: int) -> np.ndarray:
    digits = np.zeros(n, dtype=np.int64)
    for i in range(n - 1, -1, -1):
        index, digits[i] = divmod(index, k)
    return digits


@dataclass
class ExhaustiveConfig:
    limit: int = bounded(3**20, ge=1)  # refuse above this many assignments


@register
class Exhaustive(Solver):
    name = "exhaustive"
    Config = ExhaustiveConfig

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        n, k = problem.n_blocks, problem.n_tiers
        total = k**n
        if total > self.config.limit:
            size = f"{total:.3g}" if n * np.log10(k) < 300 else f"1e{n * np.log10(k):.0f}"  # beyond float range
            raise Unsupported(
                f"{k}^{n} = {size} assignments exceed solver.limit = {self.config.limit} ({k}^"
                f"{np.log(self.config.limit) / np.log(k):.3g})"
            )
        if problem.is_dag:
            idx, value, scored = enumerate_dag(problem)
        else:
            idx, value, scored = enumerate_min(problem.cost_tables)
        return Solution(decode(idx, n, k), {"value": value, "evaluations": scored})
