"""`lagrangian` with `backend: ray`: every batched DP split across Ray tasks.

Given the prices the users' DPs are independent, so each step sends `tasks` slices of the
users to Ray (the padded tables are put in the object store once) and concatenates the
answers: the same numbers as the local DP, in the same order. Ray is optional (the `[ray]`
extra, docs/parallel.md); without it the solver refuses with one line.
"""

from __future__ import annotations

import itertools

import numpy as np

from problems.fleet import FleetTables
from solvers._fleet import batched_dp
from solvers.base import Unsupported


def _slice_dp(tables, price, lo: int, hi: int):
    return batched_dp(tables, price, lo, hi)


class RayDP:
    """Callable like the local DP over `tables`: price -> ([K, n_max] answers, [K] values)."""

    def __init__(self, tables: FleetTables, tasks: int, address: str | None):
        try:
            import ray
        except ImportError:
            raise Unsupported("lagrangian backend=ray needs Ray (the [ray] extra, see docs/parallel.md)") from None
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.ray = ray
        self.remote = ray.remote(_slice_dp)
        self.tables = ray.put(tables)
        K = tables.unary.shape[0]
        cuts = np.linspace(0, K, min(tasks, K) + 1).astype(int)
        self.slices = [(int(a), int(b)) for a, b in itertools.pairwise(cuts) if b > a]

    def __call__(self, price):
        price = tuple(float(p) for p in price)
        parts = self.ray.get([self.remote.remote(self.tables, price, lo, hi) for lo, hi in self.slices])
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
