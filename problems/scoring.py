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
    """
    B, C, n, k = st.shape
    _, m, width = X.shape
    bc = (np.arange(B)[:, None] * C + np.arange(C)[None, :])[:, :, None]  # [B, C, 1] row of (b, c)
    b1 = np.arange(B)[:, None]  # [B, 1]
    unary, trans, final = st.unary.reshape(-1), st.trans.reshape(-1), st.final.reshape(-1)
    pay, gain = st.pay.reshape(-1), st.gain.reshape(-1)
    acc = np.zeros((B, C, m))
    reach = np.ones((B, m))
    prev = np.zeros((B, m), dtype=np.intp) if prev is None or start == 0 else prev
    for j in range(width):
        i = start + j
        s = X[:, :, j]
        move = prev * k + s  # [B, m]
        if i > 0 and st.has_exits:
            acc += reach[:, None] * pay.take((bc * (n - 1) + i - 1) * k * k + move[:, None])
            reach = reach * gain.take((b1 * (n - 1) + i - 1) * k * k + move)
        step = unary.take((bc * n + i) * k + s[:, None]) + trans.take((bc * n + i) * k * k + move[:, None])
        acc += reach[:, None] * step
        prev = s
    if start + width == n:
        acc += reach[:, None] * final.take(bc * k + prev[:, None])
    return acc, reach


def dag_sum(st: Stack, X: np.ndarray) -> np.ndarray:
    """Component sums [B, C, m] of DAG assignments X [B, m, n] (spec section 12): compute,
    each producer's output sent once to every other tier that reads it, the raw input once
    to every non-device tier that runs a raw-input block, and the final return."""
    B, C, n, k = st.shape
    out = np.zeros((B, C, X.shape[1]))
    for b in range(B):
        dag = st.dag[b]
        x = X[b]  # [m, n]
        masks, raw = dag.destination_masks(x)
        send_sets, raw_sets = dag.mask_tables  # [C, n, k, 2^k], [C, 2^k]
        w = 1 << k
        blocks = np.arange(n)[None, :]
        for c in range(C):
            comp = st.unary[b, c].reshape(-1).take(blocks * k + x).sum(axis=1)
            comp += send_sets[c].reshape(-1).take((blocks * k + x) * w + masks).sum(axis=1)
            comp += raw_sets[c].take(raw)
            comp += st.final[b, c].take(x[:, -1])
            out[b, c] = comp
    return out


def stacked_cost(st: Stack, X: np.ndarray) -> np.ndarray:
    """Expected value [B, C, m] of assignments X [B, m, n] on every stacked instance."""
    if st.dag is not None:
        return dag_sum(st, X)
    acc, _ = chain_walk(st, X)
    return acc
