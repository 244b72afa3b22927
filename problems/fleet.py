"""Fleets (spec section 13): K MEC users sharing one edge tier and one cloud tier.

Each user is a single-user MEC `Problem` (its own device, `te` link and chain of blocks;
the shared edge, cloud, `ec`, power, deploy weights and cost weights), so every per-user
term comes from `problems.tables`. The fleet adds only what section 13 adds: the server
loads `W[s, k]`, the utilizations, feasibility, the processor-sharing slowdown, the
rate-weighted fleet cost and the throughput headroom `theta`.

Users with the same blocks, device and link form a class and share one `Problem` and one
row of every table (`class_of` maps a user to it): a fleet of 100,000 users of a few
models builds a few classes' tables, and the per-user tables are gathers of class rows.

Scoring gathers, for every (assignment, user, block), one row of the class's stacked
components (T, E, D, edge load, cloud load: the block's own term plus its move in from the
tier before) and adds the final return, in one compiled pass over [pop, K, n_max]. Users
with fewer blocks than `n_max` are padded after their last block so that the pad is
ignored exactly: the first pad block carries the user's return to the device (`final`,
which depends only on the tier of the last real block) in its move term, every other pad
term is 0, and the padded `final` is 0. So whatever tiers an assignment puts past `n_k`,
they cost nothing. Two slower paths over the same tables (`chain_walk` on the per-user
stack, and each class's own `Problem.evaluate`) cross-check it in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numba
import numpy as np

from problems.errors import FieldError, ProblemError
from problems.problem import Problem
from problems.profile import Profile
from problems.scenario import EarlyExit, Link, MecPower, MecScenario, Tier
from problems.scoring import Stack, chain_walk
from problems.tables import CostTables

QUEUEING = ("none", "ps")
#: relative tolerance of the capacity rows (spec section 13)
RHO_RTOL = 1e-9
#: server tiers of the MEC encoding
EDGE, CLOUD = 1, 2
SERVERS = (EDGE, CLOUD)
#: evaluate() walks at most this many (assignment, user) pairs at once
CHUNK_PAIRS = 1 << 18


@dataclass(frozen=True)
class FleetUser:
    """User k: its request rate, device, device-edge link and chain of blocks."""

    name: str
    rate_rps: float
    device: Tier
    te: Link
    profile: Profile


@dataclass(frozen=True)
class FleetShared:
    """What the users share: the servers, the edge-cloud link, power and cost weights."""

    edge: Tier
    cloud: Tier
    edge_workers: int
    cloud_workers: int
    ec: Link
    power: MecPower = field(default_factory=MecPower)
    deploy_weights: tuple[float, float, float] = (0.0, 1.0, 1.0)
    w_energy: float = 300.0
    w_deploy: float = 500.0
    max_utilization: float = 0.9
    queueing: str = "none"

    @property
    def early_exit(self) -> EarlyExit:
        """Fleets have no early exits (spec section 13)."""
        return EarlyExit()

    @property
    def workers(self) -> np.ndarray:
        """Workers of (edge, cloud)."""
        return np.array([self.edge_workers, self.cloud_workers], dtype=float)

    def user_scenario(self, user: FleetUser) -> MecScenario:
        return MecScenario(
            tiers=(user.device, self.edge, self.cloud), te=user.te, ec=self.ec, power=self.power,
            deploy_weights=self.deploy_weights, w_energy=self.w_energy, w_deploy=self.w_deploy,
        )


@dataclass(frozen=True)
class FleetEvaluation:
    """Scores of a population of joint assignments. Infeasible rows have NaN costs,
    latencies and energies (never a finite number) but their utilizations and theta."""

    cost: np.ndarray  # [pop] rate-weighted mean cost per request
    latency_ms: np.ndarray  # [pop] rate-weighted mean latency
    energy_j: np.ndarray  # [pop] rate-weighted mean device energy
    deploy: np.ndarray  # [pop] rate-weighted mean deploy share
    user_cost: np.ndarray  # [pop, K]
    user_latency_ms: np.ndarray  # [pop, K]
    user_energy_j: np.ndarray  # [pop, K]
    loads: np.ndarray  # [pop, 2, K] W[s, k]: ms of server compute per request (edge, cloud)
    rho_edge: np.ndarray  # [pop]
    rho_cloud: np.ndarray  # [pop]
    feasible: np.ndarray  # [pop] bool
    theta: np.ndarray  # [pop] throughput headroom (inf without server load)

    def row(self, j: int = 0) -> dict:
        """One assignment's fleet-level numbers (None where it has no cost)."""
        def num(a):
            v = float(a[j])
            return v if np.isfinite(v) else None

        return {"cost": num(self.cost), "latency_ms": num(self.latency_ms), "energy_j": num(self.energy_j),
                "deploy": num(self.deploy), "feasible": bool(self.feasible[j]),
                "rho_edge": float(self.rho_edge[j]), "rho_cloud": float(self.rho_cloud[j]),
                "theta": float(self.theta[j])}


@dataclass(frozen=True, eq=False)
class FleetTables:
    """The users' tables padded to n_max (see the module docstring), for solvers.

    `cost` is the scalar cost without queueing (`queueing=none`'s cost_k); `load[k, i, s]` is
    c(k, i, s) on the server tiers and 0 on the device and on pads."""

    unary: np.ndarray  # [K, n_max, 3]
    trans: np.ndarray  # [K, n_max, 3, 3]
    final: np.ndarray  # [K, 3]
    load: np.ndarray  # [K, n_max, 3]
    n_blocks: np.ndarray  # [K]

    def path_terms(self, rows: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cost without queueing [m] and server loads W [m, 2] (edge, cloud) of the paths
        X [m, n_max] through table rows `rows` [m] (pads 0, which the pad rule ignores)."""
        m, n = X.shape
        X = X.astype(np.intp)
        prev = np.concatenate([np.zeros((m, 1), dtype=np.intp), X[:, :-1]], axis=1)
        r, i = rows[:, None], np.arange(n)[None, :]
        cost = (self.unary[r, i, X] + self.trans[r, i, prev, X]).sum(axis=1) + self.final[rows, X[:, -1]]
        picked = self.load[r, i, X]
        return cost, np.stack([(picked * (X == EDGE)).sum(axis=1), (picked * (X == CLOUD)).sum(axis=1)], axis=1)


def _pad_stack(tables: Sequence[np.ndarray], finals: Sequence[np.ndarray], n_max: int):
    """unary [K, C, n_max, 3], trans [K, C, n_max, 3, 3], final [K, C, 3] of per-user
    component tables unary [C, n, 3], trans [C, n, 3, 3], final [C, 3]."""
    K = len(tables)
    C = tables[0][0].shape[0]
    unary = np.zeros((K, C, n_max, 3))
    trans = np.zeros((K, C, n_max, 3, 3))
    final = np.zeros((K, C, 3))
    for k, ((u, t), f) in enumerate(zip(tables, finals, strict=True)):
        n = u.shape[1]
        unary[k, :, :n] = u
        trans[k, :, :n] = t
        if n == n_max:
            final[k] = f
        else:  # the return to the device from the last real block, paid on the first pad block
            trans[k, :, n] = f[:, :, None]
    return unary, trans, final


def _user_problem(k: int, user: FleetUser, shared: FleetShared) -> Problem:
    """User k's single-user MEC problem; its structural errors are named under `users[k]`."""
    try:
        return Problem(user.profile, shared.user_scenario(user), name=user.name)
    except FieldError as exc:
        raise FieldError(f"users[{k}].{exc.field}", str(exc)[len(exc.field) + 2:], show_value=False) from None
    except ProblemError as exc:
        raise ProblemError(f"users[{k}].{exc}") from None


@numba.njit(cache=True)
def _gather_walk(X, class_of, moves, final):  # pragma: no cover - compiled
    """[pop, K, C] component sums of X [pop, K, n]: rows of `moves` [(class, block, tier
    before, tier), C] (tier before block 0: the device) plus `final` [(class, last tier), C]."""
    pop, K, n = X.shape
    C = moves.shape[1]
    out = np.zeros((pop, K, C))
    for j in range(pop):
        for k in range(K):
            base = class_of[k] * n
            prev = 0
            for i in range(n):
                s = X[j, k, i]
                r = ((base + i) * 3 + prev) * 3 + s
                for c in range(C):
                    out[j, k, c] += moves[r, c]
                prev = s
            r = class_of[k] * 3 + prev
            for c in range(C):
                out[j, k, c] += final[r, c]
    return out


def _members(labels: np.ndarray, count: int) -> list[np.ndarray]:
    """The indices holding each label 0..count-1, ascending."""
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(count + 1))
    return [order[cuts[c]: cuts[c + 1]] for c in range(count)]


def _user_classes(users: Sequence[FleetUser], shared: FleetShared) -> tuple[tuple[Problem, ...], np.ndarray]:
    """One single-user Problem per class of identical users (same blocks, device and link)
    and each user's class [K]. Users holding the very same objects (a built fleet's users
    do) are matched by identity first, so a large fleet hashes each distinct profile once."""
    by_object: dict[tuple[int, int, int], int] = {}
    by_value: dict = {}
    problems: list[Problem] = []
    class_of = np.empty(len(users), dtype=np.intp)
    for k, u in enumerate(users):
        ident = (id(u.profile), id(u.device), id(u.te))
        c = by_object.get(ident)
        if c is None:
            key = (u.profile.blocks, u.device, u.te)
            c = by_value.get(key)
            if c is None:
                c = by_value[key] = len(problems)
                problems.append(_user_problem(k, u, shared))
            by_object[ident] = c
        class_of[k] = c
    return tuple(problems), class_of


class FleetProblem:
    """K users sharing the edge and the cloud, scored exactly as spec section 13 says."""

    problem_class = "fleet"
    kind = "fleet"

    def __init__(self, users: Sequence[FleetUser], shared: FleetShared, name: str = "fleet"):
        if not users:
            raise ProblemError("users: the user list is empty")
        if shared.queueing not in QUEUEING:
            raise ProblemError(f"scenario.queueing: expected one of {list(QUEUEING)}, got {shared.queueing!r}")
        self.users = tuple(users)
        self.shared = shared
        self.name = name
        self.class_problems, self.class_of = _user_classes(self.users, shared)
        for c, p in enumerate(self.class_problems):
            if p.is_dag or p.chain.has_exits:
                k = int(np.argmax(self.class_of == c))
                raise ProblemError(f"users[{k}].blocks: fleets take chains without early exits (spec section 13)")
        self.user_problems = tuple(self.class_problems[c] for c in self.class_of.tolist())
        self.rates = np.array([u.rate_rps for u in self.users], dtype=float)
        self.n_blocks_of = np.array([p.n_blocks for p in self.class_problems], dtype=np.intp)[self.class_of]

    # -- encoding ---------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_max(self) -> int:
        return int(self.n_blocks_of.max())

    @property
    def n_blocks(self) -> int:
        """Decisions of a joint assignment (sum of n_k)."""
        return int(self.n_blocks_of.sum())

    @property
    def n_tiers(self) -> int:
        return 3

    @property
    def tier_names(self) -> list[str]:
        return ["device", "edge", "cloud"]

    @property
    def queueing(self) -> str:
        return self.shared.queueing

    @property
    def rho_max(self) -> float:
        return self.shared.max_utilization

    @property
    def scenario(self) -> FleetShared:
        return self.shared

    @property
    def is_dag(self) -> bool:
        return False

    @cached_property
    def valid_mask(self) -> np.ndarray:
        """[K, n_max] True where block i exists for user k."""
        return np.arange(self.n_max)[None, :] < self.n_blocks_of[:, None]

    def check(self, X) -> np.ndarray:
        """X as a [pop, K, n_max] intp array of valid tiers (pads forced to 0), or a ProblemError."""
        X = np.asarray(X)
        if X.ndim == 2:
            X = X[None]
        K, n = self.n_users, self.n_max
        if X.ndim != 3 or X.shape[1:] != (K, n):
            raise ProblemError(f"assignment: expected shape [pop, {K}, {n}], got {list(X.shape)}")
        if X.size and not np.issubdtype(X.dtype, np.integer):
            raise ProblemError(f"assignment: expected integer tiers, got dtype {X.dtype}")
        if not self.valid_mask.all():  # pads are ignored: any value there becomes 0
            X = X * self.valid_mask[None].astype(X.dtype)
        if X.size and (X.min() < 0 or X.max() >= 3):
            raise ProblemError("assignment: tiers must lie in 0..2")
        return X

    def pack(self, assignments: Sequence[Sequence[int]]) -> np.ndarray:
        """K lists of n_k tiers as one [K, n_max] array (pads 0)."""
        if len(assignments) != self.n_users:
            raise ProblemError(f"assignment: expected {self.n_users} users, got {len(assignments)}")
        X = np.zeros((self.n_users, self.n_max), dtype=np.intp)
        for k, a in enumerate(assignments):
            a = np.asarray(a)
            if a.shape != (self.n_blocks_of[k],):
                raise ProblemError(f"assignment[{k}]: expected {self.n_blocks_of[k]} tiers, got {list(a.shape)}")
            X[k, : a.size] = a
        return X

    def unpack(self, X) -> list[list[int]]:
        """A [K, n_max] assignment as K lists of n_k tiers."""
        X = np.asarray(X)
        return [[int(t) for t in X[k, : self.n_blocks_of[k]]] for k in range(self.n_users)]

    def fixed(self, tier: int) -> np.ndarray:
        """Every block of every user on one tier ([K, n_max], pads 0)."""
        return np.where(self.valid_mask, tier, 0).astype(np.intp)

    # -- structure for solvers ----------------------------------------------------
    @cached_property
    def user_cost_tables(self) -> tuple[CostTables, ...]:
        """Each user's scalar cost tables without queueing (cost_k of queueing=none)."""
        per_class = [p.cost_tables for p in self.class_problems]
        return tuple(per_class[c] for c in self.class_of.tolist())

    @cached_property
    def class_server_loads(self) -> tuple[np.ndarray, ...]:
        """Per class of identical users [n, 3]: c(i, s) on the server tiers, 0 on the device."""
        out = []
        for p in self.class_problems:
            c = p.chain.compute.copy()
            c[:, 0] = 0.0
            out.append(c)
        return tuple(out)

    @cached_property
    def server_loads(self) -> tuple[np.ndarray, ...]:
        """Per user [n_k, 3]: c(k, i, s) on the server tiers, 0 on the device."""
        return tuple(self.class_server_loads[c] for c in self.class_of.tolist())

    @cached_property
    def work_capacity(self) -> np.ndarray:
        """1000 * workers_s: the ms of compute per second each server has (rho's denominator)."""
        return 1000.0 * self.shared.workers

    def demand_limit(self) -> np.ndarray:
        """The most rate-weighted load (ms/s) each server may take: `capacity`, and with ps
        strictly below saturation (h is finite only below rho = 1)."""
        limit = self.capacity.copy()
        if self.queueing == "ps":
            limit = np.minimum(limit, self.work_capacity * (1 - 1e-12))
        return limit

    @cached_property
    def capacity(self) -> np.ndarray:
        """rho_max * 1000 * workers_s: the most rate-weighted load (ms/s) each server takes."""
        return self.rho_max * 1000.0 * self.shared.workers

    @cached_property
    def class_tables(self) -> FleetTables:
        """FleetTables of the classes of identical users (one row per class)."""
        ct = [p.cost_tables for p in self.class_problems]
        unary, trans, final = _pad_stack([(t.unary[None], t.trans[None]) for t in ct], [t.final[None] for t in ct],
                                         self.n_max)
        load = np.zeros((len(ct), self.n_max, 3))
        for c, w in enumerate(self.class_server_loads):
            load[c, : w.shape[0]] = w
        n = np.array([p.n_blocks for p in self.class_problems], dtype=np.intp)
        return FleetTables(unary[:, 0], trans[:, 0], final[:, 0], load, n)

    @cached_property
    def tables(self) -> FleetTables:
        """The padded scalar tables and loads of every user (see FleetTables): each user's
        class row."""
        t, c = self.class_tables, self.class_of
        return FleetTables(t.unary[c], t.trans[c], t.final[c], t.load[c], self.n_blocks_of.copy())

    @cached_property
    def _class_stack(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Components (T, E, D, edge load, cloud load) of every class, padded: unary
        [G, 5, n_max, 3], trans [G, 5, n_max, 3, 3], final [G, 5, 3]."""
        comps, finals = [], []
        for p, c in zip(self.class_problems, self.class_server_loads, strict=True):
            ch = p.chain
            n = p.n_blocks
            u = np.zeros((5, n, 3))
            u[:3] = ch.unary
            u[3, :, EDGE] = c[:, EDGE]
            u[4, :, CLOUD] = c[:, CLOUD]
            t = np.zeros((5, n, 3, 3))
            t[:3] = ch.trans
            f = np.zeros((5, 3))
            f[:3] = ch.final
            comps.append((u, t))
            finals.append(f)
        return _pad_stack(comps, finals, self.n_max)

    @cached_property
    def _stack(self) -> Stack:
        """Components (T, E, D, edge load, cloud load) of every user, padded."""
        unary, trans, final = self._class_stack
        cls = self.class_of
        shape = (self.n_users, 5, max(self.n_max - 1, 0), 3, 3)
        pay = np.broadcast_to(np.zeros((1, *shape[1:])), shape)  # no early exits: never read
        gain = np.broadcast_to(np.ones((1, *shape[2:])), (shape[0], *shape[2:]))
        return Stack(unary[cls], trans[cls], pay, gain, final[cls], False)

    @cached_property
    def _class_moves(self) -> tuple[np.ndarray, np.ndarray]:
        """The stacked components as rows of 5: [(class, block, tier before, tier), 5] each
        block's own term plus its move in, and [(class, last tier), 5] the final return."""
        unary, trans, final = self._class_stack
        moves = trans + unary[:, :, :, None, :]  # [G, 5, n, 3, 3]
        return (np.ascontiguousarray(moves.transpose(0, 2, 3, 4, 1)).reshape(-1, 5),
                np.ascontiguousarray(final.transpose(0, 2, 1)).reshape(-1, 5))

    @cached_property
    def fingerprint(self) -> str:
        """A hash of everything the fleet is scored from (per-class component tables, each
        user's class and rate, the shared scenario): equal for equal instances, and cheap
        for large K, unlike serializing the instance."""
        import hashlib

        digest = hashlib.sha256(repr(self.shared).encode())
        for a in (*self._class_stack, self.class_of, self.rates):
            digest.update(np.ascontiguousarray(a).tobytes())
            digest.update(repr(a.shape).encode())
        return digest.hexdigest()

    # -- scoring ----------------------------------------------------------------------
    @cached_property
    def _classes(self) -> list[tuple[Problem, np.ndarray]]:
        """Users that share one single-user Problem, with their indices."""
        return list(zip(self.class_problems, _members(self.class_of, len(self.class_problems)), strict=True))

    def rate_classes(self) -> list[np.ndarray]:
        """Users that are the same problem and have the same rate, in first-seen order."""
        pairs = np.stack([self.class_of.astype(float), self.rates], axis=1)
        _, first, inverse = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
        members = _members(inverse.ravel(), first.size)
        return [members[g] for g in np.argsort(first, kind="stable").tolist()]

    def components(self, X) -> np.ndarray:
        """Per-user (T without queueing, E, D, W_edge, W_cloud): [5, pop, K]."""
        X = self.check(X)
        return self._components_gathered(X)

    def _components_gathered(self, X: np.ndarray) -> np.ndarray:
        """One gather per (assignment, user, block) from the class rows of `_class_moves`
        (the block's term and its move in from the tier before), summed over the blocks,
        plus the final return: one compiled pass over [pop, K, n_max], no loop over classes."""
        moves, final = self._class_moves
        out = _gather_walk(np.ascontiguousarray(X, dtype=np.int64), self.class_of.astype(np.int64), moves, final)
        return out.transpose(2, 0, 1)

    def _components_by_class(self, X: np.ndarray) -> np.ndarray:
        """A cross-check of the gather: each class of identical users is scored by its own Problem's
        batched evaluate (its group tables), all its users and assignments at once; the loads
        are the load table's rows summed per tier."""
        pop, K, _ = X.shape
        out = np.empty((5, pop, K))
        for problem, users in self._classes:
            n = problem.n_blocks
            rows = X[:, users, :n].reshape(-1, n)
            ev = problem.evaluate(rows)
            shape = (pop, users.size)
            out[0][:, users] = ev.latency_ms.reshape(shape)
            out[1][:, users] = ev.energy_j.reshape(shape)
            out[2][:, users] = ev.deploy.reshape(shape)
            load = self.server_loads[int(users[0])]  # [n, 3], 0 on the device
            picked = load.ravel().take(np.arange(n) * 3 + rows)  # c(i, S_i) per block
            edge = np.where(rows == EDGE, picked, 0.0).sum(axis=1)
            out[3][:, users] = edge.reshape(shape)
            out[4][:, users] = (picked.sum(axis=1) - edge).reshape(shape)
        return out

    def _components_stacked(self, X: np.ndarray) -> np.ndarray:
        pop, K, _ = X.shape
        out = np.empty((5, pop, K))
        step = max(1, CHUNK_PAIRS // K)
        for lo in range(0, pop, step):
            part = np.ascontiguousarray(X[lo: lo + step].transpose(1, 0, 2))  # [K, m, n]
            acc, _ = chain_walk(self._stack, part)  # [K, 5, m]
            out[:, lo: lo + step] = acc.transpose(1, 2, 0)
        return out

    def user_terms(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-user cost without queueing [pop, K] and server loads W [pop, 2, K] of any
        assignments, feasible or not: the separable parts solvers search over."""
        T, E, D, We, Wc = self.components(X)
        w = self.shared
        return T + w.w_energy * E + w.w_deploy * D, np.stack([We, Wc], axis=1)

    def server_load(self, X) -> np.ndarray:
        """W [K, 2] (edge, cloud) of one [K, n_max] assignment, read from the load table."""
        X = self.check(X)[0]
        picked = np.take_along_axis(self.tables.load, X[:, :, None], axis=2)[:, :, 0]
        return np.stack([(picked * (X == EDGE)).sum(axis=1), (picked * (X == CLOUD)).sum(axis=1)], axis=1)

    def user_server_load(self, k: int, tiers) -> np.ndarray:
        """W[k] (edge, cloud) of user k's tiers [n_max] (pads ignored)."""
        row = np.where(self.valid_mask[k], np.asarray(tiers), 0)
        picked = self.tables.load[k, np.arange(self.n_max), row]
        return np.array([picked[row == EDGE].sum(), picked[row == CLOUD].sum()])

    def demand(self, loads: np.ndarray) -> np.ndarray:
        """sum_k lambda_k W[s, k] (ms of compute per second) of loads [K, 2]: [2]."""
        return self.rates @ loads

    def utilization(self, loads: np.ndarray) -> np.ndarray:
        """rho [2, pop] of loads [pop, 2, K]: sum_k lambda_k W[s, k] / (1000 workers_s)."""
        return (loads @ self.rates).T / self.work_capacity[:, None]

    def feasible_of(self, rho: np.ndarray) -> np.ndarray:
        ok = (rho <= self.rho_max * (1 + RHO_RTOL)).all(axis=0)
        if self.queueing == "ps":
            ok &= (rho < 1.0).all(axis=0)
        return ok

    def theta_of(self, loads: np.ndarray) -> np.ndarray:
        """min over loaded servers of rho_max * 1000 * workers_s / sum_k lambda_k W[s, k]."""
        demand = (loads @ self.rates).T  # [2, pop]
        with np.errstate(divide="ignore"):
            head = np.where(demand > 0, self.capacity[:, None] / np.where(demand > 0, demand, 1.0), np.inf)
        return head.min(axis=0)

    def evaluate(self, X) -> FleetEvaluation:
        """Score a population of joint assignments [pop, K, n_max] (or one [K, n_max])."""
        T, E, D, We, Wc = self.components(X)
        loads = np.stack([We, Wc], axis=1)  # [pop, 2, K]
        rho = self.utilization(loads)
        feasible = self.feasible_of(rho)
        if self.queueing == "ps":
            with np.errstate(divide="ignore", invalid="ignore"):
                slow = np.where(rho < 1.0, rho / (1.0 - rho), np.inf)  # 1 / (1 - rho) - 1
                T = T + We * slow[0][:, None] + Wc * slow[1][:, None]
        w = self.shared
        cost = T + w.w_energy * E + w.w_deploy * D
        bad = ~feasible[:, None]
        user_cost = np.where(bad, np.nan, cost)
        user_T = np.where(bad, np.nan, T)
        user_E = np.where(bad, np.nan, E)
        lam = self.rates / self.rates.sum()
        with np.errstate(invalid="ignore"):
            return FleetEvaluation(
                cost=user_cost @ lam, latency_ms=user_T @ lam, energy_j=user_E @ lam,
                deploy=np.where(feasible, D @ lam, np.nan),
                user_cost=user_cost, user_latency_ms=user_T, user_energy_j=user_E, loads=loads,
                rho_edge=rho[0], rho_cloud=rho[1], feasible=feasible, theta=self.theta_of(loads),
            )

    def server_dual(self, price) -> tuple[np.ndarray, np.ndarray]:
        """The servers' part of the Lagrangian bound at load prices `price` [2] (cost per ms
        of compute, on top of the compute time itself): per server s, r*_s and
        1000 workers_s * min over r in [0, rho_max] of (h(r) - (1 + price_s) r), with h of
        `closed_form_cost`. Then for every assignment and every price,
        fleet cost >= [sum_k lambda_k min_S (cost_k + price . W_k) + sum_s value_s] / sum_k lambda_k,
        cost_k without queueing (weak duality on rho_s = sum_k lambda_k W[s, k] / (1000 workers_s))."""
        p = np.asarray(price, dtype=float)
        if self.queueing == "none":
            r = np.where(p >= 0, self.rho_max, 0.0)  # at p = 0 any r in [0, rho_max] attains it
            h = r
        else:  # h'(r) = 1 / (1 - r)^2 = 1 + p
            r = np.clip(1.0 - 1.0 / np.sqrt(np.maximum(1.0 + p, 1.0)), 0.0, self.rho_max)
            h = r / (1.0 - r)
        return r, self.work_capacity * (h - (1.0 + p) * r)

    def scaled_cost(self, a_total, demand: np.ndarray):
        """Section 13's fleet cost times sum lambda, from sum_k lambda_k A_k (the users' costs
        without queueing) and the servers' demand [..., 2]: sum lambda A + 1000 sum_s workers_s
        h(rho_s), one value per row of `demand` (with `a_total` per row or shared)."""
        cap = self.work_capacity
        h, _ = self.server_curve(np.asarray(demand) / cap)
        return a_total + (cap * h).sum(axis=-1)

    def server_curve(self, r):
        """h(r) and h'(r) of section 13's form: r and 1 (none), r / (1 - r) and 1 / (1 - r)^2 (ps)."""
        r = np.asarray(r, dtype=float)
        if self.queueing == "none":
            return r, np.ones_like(r)
        return r / (1.0 - r), 1.0 / (1.0 - r) ** 2

    def congestion_price(self, rho) -> np.ndarray:
        """d(fleet cost * sum lambda) / d(sum_k lambda_k W[s, k]) beyond the compute itself:
        0 without queueing, 1 / (1 - rho_s)^2 - 1 with ps (the slope of section 13's form)."""
        rho = np.asarray(rho, dtype=float)
        if self.queueing == "none":
            return np.zeros_like(rho)
        with np.errstate(divide="ignore"):
            return np.where(rho < 1, 1.0 / (1.0 - np.minimum(rho, 1.0)) ** 2 - 1.0, np.inf)

    def closed_form_cost(self, X) -> np.ndarray:
        """Fleet cost by section 13's convex form: [sum_k lambda_k A_k + 1000 sum_s workers_s
        h(rho_s)] / sum_k lambda_k, h(r) = r (none) or r / (1 - r) (ps); NaN where infeasible.
        A_k is user k's cost without its server compute."""
        T, E, D, We, Wc = self.components(X)
        w = self.shared
        A = T - We - Wc + w.w_energy * E + w.w_deploy * D
        rho = self.utilization(np.stack([We, Wc], axis=1))
        feasible = self.feasible_of(rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = rho if self.queueing == "none" else rho / (1.0 - rho)
        total = A @ self.rates + 1000.0 * (w.workers[:, None] * h).sum(axis=0)
        return np.where(feasible, total / self.rates.sum(), np.nan)

    def score(self, assignment) -> dict:
        """Fleet numbers of one assignment: a [K, n_max] array or K lists of n_k tiers."""
        return self.evaluate(self.as_array(assignment)[None]).row(0)

    def as_array(self, assignment) -> np.ndarray:
        """[K, n_max] from an array or from K lists of n_k tiers."""
        if isinstance(assignment, np.ndarray) and assignment.ndim == 2:
            return assignment
        if isinstance(assignment, list | tuple) and assignment and isinstance(assignment[0], list | tuple | np.ndarray):
            return self.pack(assignment)
        return np.asarray(assignment)


@dataclass(frozen=True)
class SearchScore:
    cost: np.ndarray  # [pop] fleet cost, +inf where infeasible


class FleetSearchView:
    """A fleet's joint assignment as one flat vector of sum_k n_k tiers (user 0's blocks,
    then user 1's, ...), for black-box search (genetic, random_search). `evaluate(X).cost`
    is the fleet cost with +inf for infeasible answers: a search fitness that ranks every
    feasible answer first, never a reported score."""

    def __init__(self, fleet: FleetProblem):
        self.fleet = fleet
        self.n_blocks = fleet.n_blocks
        self.n_tiers = 3
        self.name = fleet.name
        users = np.repeat(np.arange(fleet.n_users), fleet.n_blocks_of)
        blocks = np.concatenate([np.arange(n) for n in fleet.n_blocks_of])
        self._flat_index = users * fleet.n_max + blocks

    def to_joint(self, X) -> np.ndarray:
        """[pop, sum n_k] flat answers as [pop, K, n_max] (pads 0)."""
        X = np.asarray(X)
        out = np.zeros((X.shape[0], self.fleet.n_users * self.fleet.n_max), dtype=np.intp)
        out[:, self._flat_index] = X
        return out.reshape(X.shape[0], self.fleet.n_users, self.fleet.n_max)

    def evaluate(self, X) -> SearchScore:
        ev = self.fleet.evaluate(self.to_joint(X))
        return SearchScore(np.where(ev.feasible, ev.cost, np.inf))
