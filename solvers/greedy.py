"""`greedy`: independent's assignment, then load shed block by block until it is feasible.

While a server is over `rho_max` (the most overloaded first), the block that costs its
user the least per ms of relief is moved off it: to the device, or to the other server if
that one stays within its limit. A move's cost increase is the user's own cost without
queueing (its single-user problem re-scores the candidate), per ms of compute the block
leaves on the server. Every move takes load off an overloaded server and never overloads
the other, so it ends, and it ends feasible (device_only, with no server load, always is).
With `ps` the ratio ignores the congestion that a move relieves: a heuristic, scored by
the fleet like every other answer.
"""

from __future__ import annotations

import numpy as np

from problems import Problem
from problems.fleet import CLOUD, EDGE, FleetProblem
from solvers._fleet import batched_dp, require_fleet
from solvers.base import Solution, Solver
from solvers.registry import register


def _candidates(fleet: FleetProblem, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """delta [n_max, 3]: user k's cost increase of moving block i to tier t (inf: no move),
    and its relief c [n_max] on the block's current server (0 on the device)."""
    n = int(fleet.n_blocks_of[k])
    cur = X[k, :n]
    delta = np.full((fleet.n_max, 3), np.inf)
    relief = np.zeros(fleet.n_max)
    on_server = np.flatnonzero(cur > 0)
    if on_server.size:
        cands = np.repeat(cur[None], on_server.size * 3, axis=0)
        rows = np.arange(cands.shape[0])
        cands[rows, np.repeat(on_server, 3)] = np.tile(np.arange(3), on_server.size)
        problem = fleet.user_problems[k]
        cost = problem.evaluate(np.vstack([cur[None], cands])).cost
        d = (cost[1:] - cost[0]).reshape(on_server.size, 3)
        d[np.arange(on_server.size), cur[on_server]] = np.inf  # staying is not a move
        delta[on_server] = d
        relief[on_server] = fleet.tables.load[k, on_server, cur[on_server]]
    return delta, relief


def shed_load(fleet: FleetProblem, X: np.ndarray, max_moves: int | None = None) -> tuple[np.ndarray, int]:
    """X made feasible by the greedy moves of the module docstring; returns it and the moves."""
    X = X.copy()
    K = fleet.n_users
    delta = np.full((K, fleet.n_max, 3), np.inf)
    relief = np.zeros((K, fleet.n_max))
    for k in range(K):
        delta[k], relief[k] = _candidates(fleet, X, k)
    loads = fleet.server_load(X)  # [K, 2]
    limit = fleet.demand_limit()
    moves = 0
    while True:
        demand = fleet.demand(loads)
        rho = demand / fleet.work_capacity
        if fleet.feasible_of(rho[:, None])[0] or (max_moves is not None and moves >= max_moves):
            return X, moves
        s = int(np.argmax(demand / limit)) + 1  # the most overloaded server: 1 edge, 2 cloud
        other = CLOUD if s == EDGE else EDGE
        movable = np.equal(X, s) & (relief > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(movable[:, :, None], delta / np.where(movable, relief, 1.0)[:, :, None], np.inf)
        ratio[:, :, s] = np.inf
        # the other server takes the block only if it stays within its limit
        add = fleet.rates[:, None] * fleet.tables.load[:, :, other]  # [K, n]
        fits = demand[other - 1] + add <= limit[other - 1]
        ratio[:, :, other] = np.where(fits, ratio[:, :, other], np.inf)
        j = int(np.argmin(ratio))
        if not np.isfinite(ratio.flat[j]):
            raise RuntimeError(f"greedy: no move takes load off server {s}")
        k, i, t = np.unravel_index(j, ratio.shape)
        X[k, i] = t
        moves += 1
        loads[k] = fleet.user_server_load(k, X[k])
        delta[k], relief[k] = _candidates(fleet, X, k)


@register
class Greedy(Solver):
    name = "greedy"
    fleets = True

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        fleet = require_fleet(problem, self.name)
        start, _ = batched_dp(fleet.tables)
        X, moves = shed_load(fleet, start)
        return Solution(X, {"status": "heuristic", "moves": moves})
