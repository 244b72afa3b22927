"""The Lagrangian dual of a fleet over classes of identical users, by column generation.

Users with the same tables and rate (`FleetProblem.rate_classes`) form a class g of m_g
users. The master LP says how many users of each class take each known chain path (a
column): convexity rows sum_j x_gj = m_g, and the two capacity rows (`none`) or, with
`ps`, r_s tied to the loads and z_s above tangents of h(r) = r / (1 - r) (outer
approximation of section 13's convex form, a cut added at the LP's r_s while it is off h).
Over all paths this LP is the Lagrangian dual (the relaxation over each class's convex hull
of paths). Its load duals are the prices of the next DP, one per class, which adds every
class's best path at those prices; it stops when no new path or cut appears. Every DP also
evaluates LB(p) (`FleetProblem.server_dual`), so the bound is certified whatever the LP
did. The DPs run on one row per class, so their cost does not grow with K.

Rounding: each class's LP split is floored to whole users and the users left over take
the class's load-free device path (the loads only fall, so the answer stays feasible);
then each user left over moves to the path of its class that lowers the fleet objective
most while both servers keep within their limits. Only the few classes the LP splits
lose anything, at most about one user's cost each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from problems.fleet import FleetProblem, FleetTables

#: the class formulation is used (formulation auto) up to this many classes
MAX_CLASSES = 4096
#: master LP rounds at most
MAX_ROUNDS = 200
#: stop once the master's value is within this relative distance of the best certified bound
LP_TOL = 1e-8
#: ps: a tangent is added where h exceeds the LP's z by this relative amount
CUT_TOL = 1e-8
#: queueing none: the integer program over the known paths gets at most this long (s)
SPLIT_TIME_S = 1.0
#: up to this many paths the integer split frees every class, beyond only the fractional ones
SPLIT_ALL_COLUMNS = 200


def group_tables(fleet: FleetProblem) -> tuple[list[np.ndarray], FleetTables]:
    """The classes of identical users (same problem and rate) and one table row per class."""
    groups = fleet.rate_classes()
    rows = fleet.class_of[np.array([int(g[0]) for g in groups], dtype=np.intp)]
    t = fleet.class_tables
    return groups, FleetTables(t.unary[rows], t.trans[rows], t.final[rows], t.load[rows], t.n_blocks[rows])


class _Columns:
    """The known paths of every class, with their cost and loads."""

    def __init__(self, tables: FleetTables):
        self.tables = tables
        self.seen: set[tuple[int, bytes]] = set()
        self.group: list[int] = []
        self.paths: list[np.ndarray] = []
        self.cost = np.zeros(0)
        self.loads = np.zeros((0, 2))

    def add(self, X: np.ndarray) -> int:
        """Add each class's path X[g] not known yet; returns how many were new."""
        X = X.astype(np.int8)
        new = [g for g in range(X.shape[0]) if (g, X[g].tobytes()) not in self.seen]
        if not new:
            return 0
        rows = np.array(new, dtype=np.intp)
        cost, loads = self.tables.path_terms(rows, X[rows])
        for g in new:
            self.seen.add((g, X[g].tobytes()))
            self.group.append(g)
            self.paths.append(X[g])
        self.cost = np.concatenate([self.cost, cost])
        self.loads = np.concatenate([self.loads, loads])
        return len(new)


class _Master:
    """The restricted master LP over the known columns (module docstring)."""

    def __init__(self, fleet: FleetProblem, count: np.ndarray, lam: np.ndarray):
        self.fleet, self.count, self.lam = fleet, count, lam
        self.total = float(fleet.rates.sum())
        self.cuts: list[tuple[int, float]] = []  # ps: (server, r0) tangents of h
        self.ps = fleet.queueing == "ps"
        if self.ps:
            for r0 in np.linspace(0.0, min(fleet.rho_max, 1.0 - 1e-9), 8):
                for s in range(2):
                    self.cuts.append((s, float(r0)))

    def solve(self, cols: _Columns):
        """(x [N], prices [2], r [2], z [2] (ps), value) of the LP's optimum."""
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix, hstack, vstack

        f = self.fleet
        group = np.asarray(cols.group)
        N, G = group.size, self.count.size
        lam = self.lam[group]
        weighted = lam[:, None] * cols.loads  # [N, 2]
        convex = csr_matrix((np.ones(N), (group, np.arange(N))), shape=(G, N))
        cap = f.work_capacity
        limit = f.demand_limit()
        if not self.ps:
            c = lam * cols.cost / self.total
            res = linprog(c, A_ub=weighted.T / limit[:, None], b_ub=np.ones(2), A_eq=convex, b_eq=self.count,
                          bounds=(0, None), method="highs")
            if res.status != 0:
                raise RuntimeError(f"master LP: {res.message}")
            price = np.maximum(-res.ineqlin.marginals / limit * self.total, 0.0)
            return res.x, price, weighted.T @ res.x / cap, None, float(res.fun)
        # variables x [N], r [2], z [2]
        A = lam * (cols.cost - cols.loads.sum(axis=1)) / self.total
        c = np.concatenate([A, np.zeros(2), cap / self.total])
        tie = hstack([csr_matrix(weighted.T), csr_matrix(-np.diag(cap)), csr_matrix((2, 2))])
        A_eq = vstack([hstack([convex, csr_matrix((G, 4))]), tie]).tocsr()
        b_eq = np.concatenate([self.count, np.zeros(2)])
        rows = []
        rhs = []
        for s, r0 in self.cuts:  # h'(r0) r - z <= h'(r0) r0 - h(r0)
            h, slope = f.server_curve(r0)
            row = np.zeros(4)
            row[s], row[2 + s] = float(slope), -1.0
            rows.append(row)
            rhs.append(float(slope * r0 - h))
        A_ub = hstack([csr_matrix((len(rows), N)), csr_matrix(np.array(rows))]).tocsr()
        rmax = limit / cap
        bounds = [(0, None)] * N + [(0, float(rmax[0])), (0, float(rmax[1]))] + [(0, None)] * 2
        res = linprog(c, A_ub=A_ub, b_ub=np.array(rhs), A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"master LP: {res.message}")
        price = np.maximum(-res.eqlin.marginals[G:] * self.total - 1.0, 0.0)
        return res.x[:N], price, res.x[N: N + 2], res.x[N + 2:], float(res.fun)

    def add_cuts(self, r: np.ndarray, z: np.ndarray) -> int:
        added = 0
        for s in range(2):
            h, _ = self.fleet.server_curve(float(r[s]))
            if h - z[s] > CUT_TOL * max(1.0, float(h)):
                self.cuts.append((s, float(r[s])))
                added += 1
        return added


def _round(fleet: FleetProblem, cols: _Columns, x: np.ndarray, groups: list[np.ndarray], lam: np.ndarray,
           device: np.ndarray) -> np.ndarray:
    """Whole users per column [N] from the LP split, then the users left over placed greedily."""
    group = np.asarray(cols.group)
    count = np.array([len(g) for g in groups])
    users = np.floor(x + 1e-9).astype(np.int64)
    for g in range(count.size):  # never more users than the class has
        mine = np.flatnonzero(group == g)
        while users[mine].sum() > count[g]:
            users[mine[np.argmax(users[mine])]] -= 1
    limit = fleet.demand_limit()
    weighted = lam[group][:, None] * cols.loads
    A = cols.cost - cols.loads.sum(axis=1)  # cost without the server compute
    demand = users @ weighted
    while (demand > limit).any():  # the floor's tolerance overshot a limit: back to the device
        j = int(np.argmax(np.where(users > 0, weighted @ (demand > limit), -1.0)))
        users[j] -= 1
        demand = users @ weighted
    left = count - np.bincount(group, weights=users, minlength=count.size).astype(np.int64)
    users[device] += left
    A_total = float(users @ (lam[group] * A))
    now = float(fleet.scaled_cost(A_total, demand))
    for g in np.flatnonzero(left).tolist():
        mine = np.flatnonzero(group == g)
        for _ in range(int(left[g])):
            new_demand = demand[None, :] + weighted[mine] - weighted[device[g]]
            fits = (new_demand <= limit).all(axis=1)
            gain = lam[g] * (A[mine] - A[device[g]])
            with np.errstate(divide="ignore", invalid="ignore"):  # rows past a server's capacity: not taken
                value = np.where(fits, fleet.scaled_cost(A_total + gain, new_demand), np.inf)
            j = int(np.argmin(value))
            if not value[j] < now:
                break
            users[mine[j]] += 1
            users[device[g]] -= 1
            demand, A_total, now = new_demand[j], A_total + gain[j], float(value[j])
    return users


def _integer_split(fleet: FleetProblem, cols: _Columns, count: np.ndarray, lam: np.ndarray,
                   x: np.ndarray) -> np.ndarray | None:
    """queueing none: the best whole number of users per known path (a small MIP: the
    convexity and the two capacity rows), or None if HiGHS finds nothing in time. With more
    than SPLIT_ALL_COLUMNS paths only the classes the LP split `x` leaves fractional are
    free (a basic LP solution has few: two coupling rows); the others keep their LP split."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    group = np.asarray(cols.group)
    weighted = lam[group][:, None] * cols.loads
    limit = fleet.demand_limit()
    users = np.rint(x).astype(np.int64)
    free = np.ones(group.size, dtype=bool)
    if group.size > SPLIT_ALL_COLUMNS:
        fractional = np.abs(x - np.rint(x)) > 1e-9
        free = np.isin(group, np.unique(group[fractional]))
    if not free.any():
        return None
    fixed_load = users[~free] @ weighted[~free]
    classes, local = np.unique(group[free], return_inverse=True)
    N = int(free.sum())
    convex = csr_matrix((np.ones(N), (local, np.arange(N))), shape=(classes.size, N))
    rows = [LinearConstraint(convex, count[classes], count[classes]),
            LinearConstraint(weighted[free].T / limit[:, None], -np.inf, 1.0 - fixed_load / limit)]
    res = milp(lam[group[free]] * cols.cost[free] / float(fleet.rates.sum()), constraints=rows,
               integrality=np.ones(N), bounds=Bounds(0, count[group[free]]),
               options={"time_limit": SPLIT_TIME_S, "mip_rel_gap": 1e-9})
    if res.x is None:
        return None
    users[free] = np.rint(res.x).astype(np.int64)
    ok = (users @ weighted <= limit * (1 + 1e-12)).all() and (np.bincount(group, users, count.size) == count).all()
    return users if ok else None


def _assign(fleet: FleetProblem, cols: _Columns, users: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """[K, n_max]: each class's users laid onto its paths, users[j] of them on path j."""
    group = np.asarray(cols.group)
    X = np.zeros((fleet.n_users, fleet.n_max), dtype=np.intp)
    start = np.zeros(len(groups), dtype=np.int64)
    for j in np.flatnonzero(users).tolist():
        g = group[j]
        members = groups[g][start[g]: start[g] + users[j]]
        X[members] = cols.paths[j]
        start[g] += users[j]
    return X


def solve_classes(fleet: FleetProblem, groups: list[np.ndarray], tables: FleetTables,
                  dp: Callable, rounds: int = MAX_ROUNDS, tol: float = 1e-9) -> tuple[np.ndarray, dict]:
    """A feasible assignment from the class master LP and the best certified bound seen."""
    count = np.array([len(g) for g in groups], dtype=float)
    lam = fleet.rates[np.array([int(g[0]) for g in groups], dtype=np.intp)]
    total = float(fleet.rates.sum())
    cols = _Columns(tables)
    G = count.size
    cols.add(np.zeros((G, fleet.n_max), dtype=np.int8))  # device-only: load free, always feasible
    device = np.arange(G)
    master = _Master(fleet, count, lam)
    best_lb, best_price, dp_calls = -np.inf, np.zeros(2), 0

    def price_step(price):
        nonlocal best_lb, best_price, dp_calls
        X, value = dp(price)
        dp_calls += 1
        _, server = fleet.server_dual(price)
        lb = (float((count * lam) @ value) + float(server.sum())) / total
        if lb > best_lb:
            best_lb, best_price = lb, np.asarray(price, dtype=float).copy()
        return cols.add(X)

    price_step(np.zeros(2))
    lp_rounds = 0
    x = price = None
    lp_value = np.nan
    for _ in range(rounds):
        x, price, r, z, lp_value = master.solve(cols)
        lp_rounds += 1
        added = price_step(price)
        if abs(lp_value - best_lb) <= LP_TOL * abs(lp_value):
            break
        if master.ps:
            added += master.add_cuts(r, z)
        if not added:
            break
    assert x is not None and price is not None
    users = _round(fleet, cols, x, groups, lam, device)
    split = "rounded"
    if not master.ps:
        exact = _integer_split(fleet, cols, count, lam, x)
        if exact is not None and exact @ (lam[cols.group] * cols.cost) < users @ (lam[cols.group] * cols.cost):
            users, split = exact, "integer"
    X = _assign(fleet, cols, users, groups)
    info = {"formulation": "classes", "classes": G, "columns": len(cols.group), "lp_rounds": lp_rounds, "split": split,
            "dp_calls": dp_calls, "lp_value": lp_value, "lower_bound": best_lb, "prices": best_price.tolist()}
    return X, info
