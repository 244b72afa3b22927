"""The scorers over the cost tables of `problems.tables`: the chain walk and the DAG sum.

Both work on stacks of instances that share a shape ([B, C, ...]: B instances, such as
one model under B network conditions, and C components, (T, E, D) or one folded
cost), so that `Problem.evaluate` and the learned solvers' batched scoring of many
conditions are the same code. Indices are flattened once and gathered with `take`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from problems.tables import ChainTables, CostTables, DagTables

#: assignments scored at once by the DAG sum (its [n, chunk] index arrays stay in cache)
DAG_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Stack:
    """Tables of B same-shaped instances with C components each."""

    unary: np.ndarray  # [B, C, n, k]
    trans: np.ndarray  # [B, C, n, k, k]
    pay: np.ndarray  # [B, C, n-1, k, k]
    gain: np.ndarray  # [B, n-1, k, k]
    final: np.ndarray  # [B, C, k]
    has_exits: bool
    dag: tuple[DagTables, ...] | None = None

    @classmethod
    def of_components(cls, t: ChainTables) -> Stack:
        """One instance, its three components (T, E, D)."""
        return cls(t.unary[None], t.trans[None], t.pay[None], t.gain[None], t.final[None], t.has_exits,
                   None if t.dag is None else (t.dag,))

    @classmethod
    def of_costs(cls, tables: Sequence[CostTables]) -> Stack:
        """B instances of one shape, each folded into one cost."""
        dags = [t.dag for t in tables]
        return cls(np.stack([t.unary for t in tables])[:, None], np.stack([t.trans for t in tables])[:, None],
                   np.stack([t.pay for t in tables])[:, None], np.stack([t.gain for t in tables]),
                   np.stack([t.final for t in tables])[:, None], any(t.has_exits for t in tables),
                   None if dags[0] is None else tuple(dags))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        B, C, n, k = self.unary.shape
        return B, C, n, k


def chain_walk(st: Stack, X: np.ndarray, start: int = 0, prev: np.ndarray | None = None):
    """Walk blocks start..start+w-1 of X [B, m, w] through the stacked chain tables.

    `prev` [B, m] is the tier of block start-1 (ignored for start = 0, which reads the raw
    input from the device); the move and exit decision into block `start` are included.
    Returns the component sums [B, C, m] relative to the reach at entry, and the reach [B, m]
    left at the end. The last block's return to the device is added when the walk ends at n.
    Vectorized over blocks too: the reach before each block is a cumulative product of the
    kept reach across the tier changes before it.
    """
    B, C, n, k = st.shape
    _, m, width = X.shape
    X = X.astype(np.intp, copy=False)
    first = np.zeros((B, m, 1), dtype=np.intp) if prev is None or start == 0 else prev[:, :, None]
    P = np.concatenate([first, X[:, :, :-1]], axis=2)  # [B, m, w] tier of the block before
    blocks = start + np.arange(width)  # [w]
    bc = (np.arange(B)[:, None] * C + np.arange(C)[None, :])[:, :, None, None]  # [B, C, 1, 1]
    at = (bc * n + blocks) * k  # [B, C, 1, w]
    s, p = X[:, None], P[:, None]  # [B, 1, m, w]
    step = st.unary.reshape(-1).take(at + s) + st.trans.reshape(-1).take((at + p) * k + s)  # [B, C, m, w]
    if not st.has_exits:
        acc = step.sum(axis=3)
        reach_end = np.ones((B, m))
    else:
        into = np.maximum(blocks - 1, 0)  # transition i-1 -> i (none into block 0)
        b1 = np.arange(B)[:, None, None]
        gain = st.gain.reshape(-1).take(((b1 * (n - 1) + into) * k + P) * k + X) if n > 1 else np.ones(X.shape)
        if start == 0:
            gain[:, :, 0] = 1.0
        reach = np.cumprod(gain, axis=2)  # [B, m, w] reach at each block, after the exit into it
        before = np.concatenate([np.ones((B, m, 1)), reach[:, :, :-1]], axis=2)  # reach before each exit decision
        pay = st.pay.reshape(-1).take((((bc * (n - 1)) + into) * k + p) * k + s) if n > 1 else np.zeros(step.shape)
        if start == 0:
            pay[:, :, :, 0] = 0.0
        acc = (before[:, None] * pay + reach[:, None] * step).sum(axis=3)
        reach_end = reach[:, :, -1]
    if start + width == n:
        last = X[:, None, :, -1]  # [B, 1, m]
        acc = acc + reach_end[:, None] * st.final.reshape(-1).take(bc[..., 0] * k + last)
    return acc, reach_end


def dag_sum(st: Stack, X: np.ndarray) -> np.ndarray:
    """Component sums [B, C, m] of DAG assignments X [B, m, n] (spec section 12): compute,
    each producer's output sent once to every other tier that reads it, the raw input once
    to every non-device tier that runs a raw-input block, and the final return.

    Per block, its tier and the set of other tiers its output goes to, one table entry holds
    its compute, those sends and (last block) the return; an assignment is then one lookup
    per block plus one for the raw input, block-major in chunks of DAG_CHUNK assignments."""
    B, C, n, k = st.shape
    m = X.shape[1]
    out = np.zeros((B, C, m))
    w = 1 << k
    base = np.arange(n)[:, None] * k  # [n, 1]
    for b in range(B):
        dag = st.dag[b]
        send_sets, raw_sets = dag.mask_tables  # [C, n, k, 2^k], [C, 2^k]
        table = st.unary[b][:, :, :, None] + send_sets
        table[:, n - 1] += st.final[b][:, :, None]
        flat = table.reshape(C, -1)
        for lo in range(0, m, DAG_CHUNK):
            xt = np.ascontiguousarray(X[b, lo : lo + DAG_CHUNK].T)  # [n, chunk]
            masks, raw = dag.reader_masks(xt)
            idx = (base + xt) * w + masks
            for c in range(C):
                out[b, c, lo : lo + DAG_CHUNK] = flat[c].take(idx).sum(axis=0) + raw_sets[c].take(raw)
    return out


def stacked_cost(st: Stack, X: np.ndarray) -> np.ndarray:
    """Expected value [B, C, m] of assignments X [B, m, n] on every stacked instance."""
    if st.dag is not None:
        return dag_sum(st, X)
    acc, _ = chain_walk(st, X)
    return acc
