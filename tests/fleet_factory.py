"""Random tiny fleets and a plain fleet scorer written from spec section 13's text."""

from __future__ import annotations

import itertools
import math

import numpy as np
from reference import _block_ref, _move

from problems.fleet import FleetProblem, FleetShared, FleetUser
from problems.profile import Block, Profile
from problems.scenario import Link, Tier


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_fleet(seed: int, queueing: str = "none", max_users: int = 3, max_blocks: int = 4) -> FleetProblem:
    """K <= max_users users with 1..max_blocks blocks, random links, rates and capacities;
    utilizations near the limit so that some assignments are infeasible."""
    rng = np.random.default_rng(seed)
    K = int(rng.integers(1, max_users + 1))

    def link() -> Link:
        return Link(_log_uniform(rng, 5, 500), _log_uniform(rng, 5, 500), float(rng.uniform(0, 30)))

    users = []
    for k in range(K):
        n = int(rng.integers(1, max_blocks + 1))
        sizes = [_log_uniform(rng, 0.5, 2000) for _ in range(n + 1)]
        blocks = []
        for i in range(n):
            lat, eng = _log_uniform(rng, 0.5, 100), _log_uniform(rng, 1e-3, 1.0)
            tier_lat = (tuple(_log_uniform(rng, 0.5, 200) for _ in range(3)) if rng.random() < 0.3 else None)
            blocks.append(Block(f"b{i}", sizes[i], sizes[i + 1], latency_ms=lat, energy_j=eng,
                                tier_latency_ms=tier_lat))
        device = Tier("device", float(rng.uniform(2, 20)), float(rng.uniform(0.5, 2)))
        users.append(FleetUser(f"u{k}", _log_uniform(rng, 0.5, 20), device, link(),
                               Profile(f"p{k}", tuple(blocks))))
    shared = FleetShared(edge=Tier("edge", 1.0), cloud=Tier("cloud", float(rng.uniform(0.2, 1.0))),
                         edge_workers=int(rng.integers(1, 3)), cloud_workers=int(rng.integers(1, 3)), ec=link(),
                         w_energy=float(rng.uniform(0, 600)), w_deploy=float(rng.uniform(0, 1000)),
                         max_utilization=float(rng.uniform(0.3, 1.0)), queueing=queueing)
    fleet = FleetProblem(users, shared, name=f"random-fleet-{seed}")
    # scale the rates so that cloud-only's cloud utilization is a random multiple of rho_max
    cloud_only = fleet.score(fleet.fixed(2))["rho_cloud"]
    scale = float(rng.uniform(0.2, 3.0)) * shared.max_utilization / cloud_only
    users = [FleetUser(u.name, u.rate_rps * scale, u.device, u.te, u.profile) for u in users]
    return FleetProblem(users, shared, name=fleet.name)


def _compute(user: FleetUser, shared: FleetShared, b: Block, s: int) -> float:
    if b.tier_latency_ms is not None:
        return b.tier_latency_ms[s]
    lat, _ = _block_ref(b)
    return (user.device, shared.edge, shared.cloud)[s].d * lat


def plain_fleet_score(fleet: FleetProblem, S) -> dict:
    """Section 13 loop by loop: S is K lists of n_k tiers."""
    sh = fleet.shared
    K = fleet.n_users
    W = np.zeros((3, K))
    for k, (u, Sk) in enumerate(zip(fleet.users, S, strict=True)):
        for i, b in enumerate(u.profile.blocks):
            if Sk[i] in (1, 2):
                W[Sk[i], k] += _compute(u, sh, b, Sk[i])
    lam = np.array([u.rate_rps for u in fleet.users])
    workers = {1: sh.edge_workers, 2: sh.cloud_workers}
    rho = {s: float(sum(lam[k] * W[s, k] for k in range(K)) / (1000 * workers[s])) for s in (1, 2)}
    feasible = all(rho[s] <= sh.max_utilization * (1 + 1e-9) for s in (1, 2))
    if sh.queueing == "ps":
        feasible = feasible and all(rho[s] < 1 for s in (1, 2))
    theta = math.inf
    for s in (1, 2):
        demand = sum(lam[k] * W[s, k] for k in range(K))
        if demand > 0:
            theta = min(theta, sh.max_utilization * 1000 * workers[s] / demand)
    out = {"rho_edge": rho[1], "rho_cloud": rho[2], "feasible": feasible, "theta": theta, "cost": None,
           "user_cost": None}
    if not feasible:
        return out
    costs, lats, engs = [], [], []
    deploy = list(sh.deploy_weights)
    for k, (u, Sk) in enumerate(zip(fleet.users, S, strict=True)):
        p = fleet.user_problems[k]  # only for its links (the plain _move reads problem.scenario)
        blocks = u.profile.blocks
        n = len(blocks)
        T = E = D = 0.0
        prev = 0
        for i, b in enumerate(blocks):
            s = Sk[i]
            c = _compute(u, sh, b, s)
            if s != 0 and sh.queueing == "ps":
                c = c / (1 - rho[s])
            mt, me = _move(p, b.in_kb, prev, s)
            _, eng = _block_ref(b)
            T += c + mt
            E += (u.device.e * eng if s == 0 else 0.0) + me
            D += deploy[s] / n
            prev = s
        mt, me = _move(p, blocks[-1].out_kb, prev, 0)
        T += mt
        E += me
        costs.append(T + sh.w_energy * E + sh.w_deploy * D)
        lats.append(T)
        engs.append(E)
    out["user_cost"] = costs
    out["cost"] = float(np.dot(lam, costs) / lam.sum())
    out["latency_ms"] = float(np.dot(lam, lats) / lam.sum())
    out["energy_j"] = float(np.dot(lam, engs) / lam.sum())
    return out


def joint_assignments(fleet: FleetProblem) -> np.ndarray:
    """Every joint assignment [3^(sum n_k), K, n_max] (pads 0)."""
    n = fleet.n_blocks_of
    rows = []
    for flat in itertools.product(range(3), repeat=int(n.sum())):
        X = np.zeros((fleet.n_users, fleet.n_max), dtype=np.intp)
        pos = 0
        for k, nk in enumerate(n):
            X[k, :nk] = flat[pos: pos + nk]
            pos += nk
        rows.append(X)
    return np.array(rows)


def brute_force(fleet: FleetProblem) -> tuple[float | None, np.ndarray | None]:
    """The optimum fleet cost over the joint space (None when nothing is feasible)."""
    X = joint_assignments(fleet)
    cost = fleet.evaluate(X).cost
    if np.isnan(cost).all():
        return None, None
    j = int(np.nanargmin(cost))
    return float(cost[j]), X[j]
