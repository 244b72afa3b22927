"""`lagrangian`: Lagrangian relaxation of the two capacity rows, with a certified bound.

Pricing each ms of compute on server s at `p_s` (on top of the compute time itself)
splits the fleet into K independent user problems: `min_S cost_k + p . W_k`, one chain DP
each, solved for all users at once by `solvers._fleet.batched_dp` ([K, n, tiers], numba).
With the servers' part of `FleetProblem.server_dual` (the capacity rows for `none`, the
convex `rho / (1 - rho)` of spec section 13 for `ps`, both through its conjugate),

    LB(p) = [sum_k lambda_k DP_k(p) + sum_s server_dual_s(p)] / sum_k lambda_k

is a lower bound on every feasible assignment's fleet cost for every p >= 0 (weak
duality), concave in p, with supergradient (sum_k lambda_k W[s, k] - 1000 workers_s r*_s) / sum lambda.

Multipliers: Kelley's cutting planes in a trust region (the bound is a concave function of
two variables: each step is one batched DP and a 3-variable LP). Primal: every DP answer
that is feasible is a candidate; at the end the best dual point's answer is repaired by
raising the prices of the overloaded servers (bisection on a scale, one batched DP per
step; high enough prices give device_only, always feasible), then users are switched back
to their cheaper dual answer while both servers keep within their limit; with `shed`, the
dual answer is also made feasible by greedy's block moves and filled the same way. With
`ps`, `congestion_steps` more DPs price each server at its marginal congestion cost
(`FleetProblem.congestion_price`) at utilizations averaged over the steps (Frank-Wolfe's
step sizes); each answer is a candidate. Last (up to 4096 users), a best-improvement local
search switches single users between the kept answers on the exact objective. The returned
assignment is re-scored exactly by the problem; `info.lower_bound` is the best LB and
`info.certified_gap` = (cost - LB) / cost.

Classes of identical users (same tables and rate; a built fleet with models cycled and
preset networks has 4) are decided by `solvers._fleet_classes` instead: column generation
on the class master LP reaches the dual optimum exactly (one DP row per class per step,
independent of K) and an integer split over the paths found rounds it; its bound is the
same certified LB(p). That is the `formulation` recorded in info.

`backend: ray` splits the users across `ray_tasks` Ray tasks at every DP (the DPs are
independent given the prices); its answers are identical to the local mode's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from problems import Problem
from problems.errors import FieldError
from problems.fleet import FleetProblem
from solvers._fleet import batched_dp, require_fleet
from solvers._fleet_classes import MAX_CLASSES, group_tables, solve_classes
from solvers._trace import Trace
from solvers.base import Solution, Solver
from solvers.greedy import shed_load
from solvers.registry import register

#: `shed: null` repairs by block moves up to this many users (each move rescans every block)
SHED_MAX_USERS = 512
#: the exact local search over the answers runs up to this many users
POLISH_MAX_USERS = 4096
#: DP answers (those of the best bounds) kept as candidates for the final fill
KEEP_ANSWERS = 12


@dataclass
class LagrangianConfig:
    iterations: int = 60  # multiplier steps (batched DPs) at most
    tol: float = 1e-4  # stop once (best cost - bound) / best cost <= tol
    repair_steps: int = 30  # bisection steps of the price repair
    congestion_steps: int = 20  # ps: DPs at the marginal congestion prices of averaged utilizations
    shed: bool | None = None  # also repair the dual answer by greedy's block moves; null: for K <= 512
    backend: Literal["local", "ray"] = "local"
    ray_tasks: int = 4  # Ray tasks per DP (backend ray)
    ray_address: str | None = None  # null: a local Ray instance (or the RAY_ADDRESS of the environment)
    # classes: the class master LP only; users: the per-user search only; auto: classes up to
    # MAX_CLASSES classes (plus the per-user search up to SHED_MAX_USERS users), else users
    formulation: Literal["auto", "classes", "users"] = "auto"

    def validate(self, prefix: str) -> None:
        for key in ("iterations", "repair_steps", "ray_tasks"):
            if getattr(self, key) < 1:
                raise FieldError(f"{prefix}.{key}", "must be a positive integer", getattr(self, key))
        if not self.tol >= 0:
            raise FieldError(f"{prefix}.tol", "must not be negative", self.tol)


class _Dual:
    """Evaluations of LB(p), with the DP answers they came from."""

    def __init__(self, fleet: FleetProblem, dp):
        self.fleet, self.dp = fleet, dp
        self.total_rate = float(fleet.rates.sum())
        self.calls = 0
        self.answers: list = []  # the DP answers of the best bounds: the fill's candidates

    def __call__(self, price: np.ndarray):
        self.calls += 1
        X, value = self.dp(price)
        loads = self.fleet.server_load(X)
        r, server = self.fleet.server_dual(price)
        lb = (float(self.fleet.rates @ value) + float(server.sum())) / self.total_rate
        demand = self.fleet.demand(loads)
        grad = (demand - self.fleet.work_capacity * r) / self.total_rate
        self.answers.append((lb, X.astype(np.int8), loads))
        self.answers.sort(key=lambda a: -a[0])
        del self.answers[KEEP_ANSWERS:]
        return lb, grad, X, loads


def _kelley_step(cuts, center: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
    """argmax over the box of min_j lb_j + g_j . (p - p_j), and the model's value there."""
    from scipy.optimize import linprog

    A = np.array([[-g[0], -g[1], 1.0] for _, g, _ in cuts])
    b = np.array([lb - g @ p for lb, g, p in cuts])
    lo = np.maximum(center - radius, 0.0)
    hi = center + radius
    res = linprog([0.0, 0.0, -1.0], A_ub=A, b_ub=b, bounds=[(lo[0], hi[0]), (lo[1], hi[1]), (None, None)],
                  method="highs")
    if not res.success:
        return center, -np.inf
    return np.asarray(res.x[:2]), float(res.x[2])


class _Primal:
    """The best feasible assignment seen, by the problem's exact score."""

    def __init__(self, fleet: FleetProblem, trace: Trace):
        self.fleet = fleet
        self.X: np.ndarray | None = None
        self.cost = np.inf
        self.trace, self.offers = trace, 0

    def offer(self, X: np.ndarray, loads: np.ndarray | None = None) -> bool:
        f = self.fleet
        loads = f.server_load(X) if loads is None else loads
        rho = f.demand(loads) / f.work_capacity
        if not f.feasible_of(rho[:, None])[0]:
            return False
        cost = f.evaluate(X[None]).cost[0]
        self.offers += 1
        self.trace.record(self.offers, cost)
        if cost < self.cost:
            self.X, self.cost = X.copy(), float(cost)
        return True


def _repair(fleet: FleetProblem, dual: _Dual, price: np.ndarray, X: np.ndarray, loads: np.ndarray, steps: int):
    """A feasible assignment near the DP answer at `price` (module docstring)."""
    limit = fleet.demand_limit()
    over = fleet.demand(loads) > limit
    if not over.any():
        return X, loads, price
    direction = np.where(over, 1.0 + price, 0.0)
    lo, hi = 0.0, 1.0
    while True:  # grow until feasible; device_only (feasible) is reached at a finite price
        p = price + hi * direction
        _, _, Xh, Lh = dual(p)
        demand = fleet.demand(Lh)
        if (demand <= limit).all():
            break
        direction = np.where(demand > limit, np.maximum(direction, 1.0 + p), direction)
        lo, hi = hi, hi * 4.0
        if hi > 1e30:
            return fleet.fixed(0), np.zeros_like(loads), price
    best = (Xh, Lh, p)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        p = price + mid * direction
        _, _, Xm, Lm = dual(p)
        if (fleet.demand(Lm) <= limit).all():
            hi, best = mid, (Xm, Lm, p)
        else:
            lo = mid
    return best


def _fill(fleet: FleetProblem, X: np.ndarray, loads: np.ndarray, Xd: np.ndarray, Ld: np.ndarray):
    """Switch users of the feasible X to their answer in Xd where that lowers the fleet cost
    (their own cost, and with ps the congestion at the current utilizations), largest saving
    per share of a server's limit first, while both servers keep within their limits."""
    diff = np.flatnonzero((Xd != X).any(axis=1))
    if diff.size == 0:
        return X, loads
    cost_now, _ = fleet.user_terms(X[None])
    cost_new, _ = fleet.user_terms(Xd[None])
    demand = fleet.demand(loads)
    congestion = fleet.congestion_price(demand / fleet.work_capacity)
    lam = fleet.rates[diff]
    delta_load = Ld[diff] - loads[diff]
    saving = lam * (cost_now[0, diff] - cost_new[0, diff] - delta_load @ congestion)
    limit = fleet.demand_limit()
    need = np.maximum((lam[:, None] * delta_load / limit[None, :]).max(axis=1), 1e-300)
    order = np.argsort(-saving / need, kind="stable")
    X, loads = X.copy(), loads.copy()
    for j in order.tolist():
        if saving[j] <= 0:
            break
        k = int(diff[j])
        add = fleet.rates[k] * (Ld[k] - loads[k])
        if (demand + add <= limit).all():
            demand = demand + add
            X[k], loads[k] = Xd[k], Ld[k]
    return X, loads


def _polish(fleet: FleetProblem, X: np.ndarray, pool: list[np.ndarray], max_moves: int) -> np.ndarray:
    """Best-improvement local search: switch one user at a time to its answer in another
    pool member while that lowers section 13's objective exactly (its convex form, with the
    utilizations after the switch) and keeps both servers within their limits."""
    cands = [X] + [a for a in pool if (a != X).any()]
    costs, loads = zip(*(fleet.user_terms(a[None]) for a in cands), strict=True)
    W = np.stack([w[0].T for w in loads])  # [C, K, 2]
    A = np.stack([c[0] for c in costs]) - W.sum(axis=2)  # [C, K]: cost without server compute
    lam, cap = fleet.rates, fleet.work_capacity
    limit = fleet.demand_limit()
    pick = np.zeros(fleet.n_users, dtype=np.intp)
    users = np.arange(fleet.n_users)
    demand = lam @ W[0]
    h_now, _ = fleet.server_curve(demand / cap)
    for _ in range(max_moves):
        new_demand = demand[None, None, :] + lam[None, :, None] * (W - W[pick, users][None])  # [C, K, 2]
        fits = (new_demand <= limit).all(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            h_new, _ = fleet.server_curve(np.minimum(new_demand / cap, 1.0 - 1e-15))
        delta = lam * (A - A[pick, users]) + (cap * (h_new - h_now)).sum(axis=2)
        delta = np.where(fits, delta, np.inf)
        j = int(np.argmin(delta))
        c, k = divmod(j, fleet.n_users)
        if not delta.flat[j] < -1e-12 * abs(float(lam @ A[pick, users])):
            break
        pick[k] = c
        demand = new_demand[c, k]
        h_now, _ = fleet.server_curve(demand / cap)
    return np.stack(cands)[pick, users]


def price_ceiling(fleet: FleetProblem, X0: np.ndarray) -> float:
    """A price above which every user's DP answer is device_only: the largest saving any
    user can get from the servers over the smallest compute any block puts on them."""
    cost0, _ = fleet.user_terms(X0[None])
    device, _ = fleet.user_terms(fleet.fixed(0)[None])
    load = fleet.tables.load[:, :, 1:]
    smallest = float(load[load > 0].min()) if (load > 0).any() else 1.0
    return max(float((device - cost0).max()) / smallest, 1.0) * 1.01


def lagrangian(fleet: FleetProblem, cfg: LagrangianConfig, make_dp=None) -> tuple[np.ndarray, dict]:
    """The fleet's repaired assignment and certified bound. `make_dp(tables)` gives the
    batched DP over those tables (local by default). Classes of identical users go through
    `solvers._fleet_classes` (see `LagrangianConfig.formulation`); with auto, small fleets
    also run the per-user search, and the better answer and the better bound are kept."""
    make_dp = make_dp or (lambda tables: lambda price: batched_dp(tables, price))
    trace = Trace()
    groups = fleet.rate_classes() if cfg.formulation != "users" else []
    if cfg.formulation == "users" or (cfg.formulation == "auto" and len(groups) > MAX_CLASSES):
        X, info = _by_users(fleet, cfg, make_dp(fleet.tables), trace)
        return X, info | {"trace": trace.points()}
    groups, tables = group_tables(fleet)
    X, info = solve_classes(fleet, groups, tables, make_dp(tables))
    cost = float(fleet.evaluate(X[None]).cost[0])
    trace.record(1, cost)  # the classes' answer: one scored assignment
    lb = info["lower_bound"]
    if cfg.formulation == "auto" and fleet.n_users <= SHED_MAX_USERS:
        Xu, iu = _by_users(fleet, cfg, make_dp(fleet.tables), trace, offset=1)
        cu = float(iu["value"])
        info["dp_calls"] += iu["dp_calls"]
        info["formulation"] = "classes+users"
        lb = max(lb, iu["lower_bound"])
        if cu < cost:
            X, cost = Xu, cu
    info.update(certificate(cost, lb), trace=trace.points())
    return X, info


def certificate(cost: float, lb: float) -> dict:
    """The answer's cost against the certified bound: value, gap and whether it is proven."""
    return {"lower_bound": lb, "value": cost,
            "certified_gap": max(0.0, (cost - lb) / abs(cost)) if cost else 0.0,
            "status": "optimal" if cost - lb <= 1e-9 * abs(cost) else "bound"}


def _by_users(fleet: FleetProblem, cfg: LagrangianConfig, dp, trace: Trace,
              offset: int = 0) -> tuple[np.ndarray, dict]:
    """Kelley's cutting planes on the prices with one DP row per user, then repair and fill.
    Every feasible assignment scored goes to `trace` (counted after `offset` earlier ones)."""
    dual = _Dual(fleet, dp)
    primal = _Primal(fleet, trace)
    primal.offers = offset
    lb, g, X, L = dual(np.zeros(2))
    X0 = X
    primal.offer(X, L)
    best = (lb, np.zeros(2), X, L)
    cuts = [(lb, g, np.zeros(2))]
    ceiling = np.full(2, price_ceiling(fleet, X))
    center, radius = ceiling / 2, float(ceiling[0])  # the whole box [0, ceiling]^2: plain Kelley
    steps, model = 0, np.inf
    while dual.calls < cfg.iterations:
        if primal.cost < np.inf and primal.cost - best[0] <= cfg.tol * abs(primal.cost):
            break
        p, model = _kelley_step(cuts, center, radius)
        if model - best[0] <= cfg.tol * 0.1 * max(abs(best[0]), 1e-12):
            break  # the bound is within tol / 10 of the dual optimum
        lb, g, X, L = dual(p)
        steps += 1
        cuts.append((lb, g, p))
        primal.offer(X, L)
        if lb > best[0]:
            best = (lb, p, X, L)
    lb, price, Xd, Ld = best
    if fleet.queueing == "ps":  # price each server at its marginal congestion along averaged utilizations
        rho = fleet.demand(Ld) / fleet.work_capacity
        for t in range(cfg.congestion_steps):
            p = np.minimum(fleet.congestion_price(np.minimum(rho, fleet.rho_max)), ceiling)
            _, _, Xc, Lc = dual(p)
            primal.offer(Xc, Lc)
            rho = rho + (fleet.demand(Lc) / fleet.work_capacity - rho) / (t + 2)
    Xr, Lr, _ = _repair(fleet, dual, price, Xd, Ld, cfg.repair_steps)
    primal.offer(Xr, Lr)
    Xf, Lf = Xr, Lr
    # users tied at the dual optimum take either side of it: the answers just below the best
    # prices and those of the other good bounds are further answers to switch users to
    for s in (None, 0, 1):
        below = price * (1 - 1e-6) if s is None else price - np.eye(2)[s] * 1e-6 * (1 + price[s])
        dual(np.maximum(below, 0.0))
    starts = [(Xf, Lf)]
    if cfg.shed if cfg.shed is not None else fleet.n_users <= SHED_MAX_USERS:
        for origin in (Xd, X0):  # the dual answer and independent's made feasible by greedy's block moves
            Xs, _ = shed_load(fleet, origin)
            starts.append((Xs, fleet.server_load(Xs)))
    for Xf, Lf in starts:
        for _, Xa, La in list(dual.answers):
            primal.offer(Xa.astype(np.intp), La)
            Xf, Lf = _fill(fleet, Xf, Lf, Xa.astype(np.intp), La)
        primal.offer(Xf, Lf)
    if fleet.n_users <= POLISH_MAX_USERS and primal.X is not None:
        pool = [a.astype(np.intp) for _, a, _ in dual.answers] + [Xd] + [x for x, _ in starts[1:]]
        primal.offer(_polish(fleet, primal.X, pool, 4 * fleet.n_users))
    assert primal.X is not None  # device_only is feasible
    cost = primal.cost
    info = {**certificate(cost, lb), "prices": price.tolist(), "dp_calls": dual.calls,
            "multiplier_steps": steps, "formulation": "users"}
    return primal.X, info


@register
class Lagrangian(Solver):
    name = "lagrangian"
    Config = LagrangianConfig
    fleets = True

    def solve(self, problem: Problem, rng: np.random.Generator) -> Solution:
        fleet = require_fleet(problem, self.name)
        make_dp = None
        if self.config.backend == "ray":
            from solvers._fleet_ray import RayDP

            def make_dp(tables):
                return RayDP(tables, self.config.ray_tasks, self.config.ray_address)
        X, info = lagrangian(fleet, self.config, make_dp)
        info["backend"] = self.config.backend
        return Solution(X, info)
