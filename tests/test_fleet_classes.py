"""Classes of identical users: the aggregated integer flow of `ilp` and the class master
LP of `lagrangian` against brute force on tiny fleets whose users repeat, and the flow
decomposition back to one path per user."""

from __future__ import annotations

import numpy as np
import pytest
from fleet_factory import brute_force, random_fleet
from hypothesis import given, settings
from hypothesis import strategies as st

from problems.fleet import FleetProblem
from solvers import make_solver
from solvers._fleet_mip import _FleetModel

SEEDS = st.integers(0, 2**31 - 1)
QUEUEING = st.sampled_from(["none", "ps"])


def repeated(seed: int, queueing: str, copies: int = 2) -> FleetProblem:
    """A tiny random fleet (K <= 2, n <= 2) with every user repeated `copies` times."""
    base = random_fleet(seed, queueing, max_users=2, max_blocks=2)
    return FleetProblem([u for u in base.users for _ in range(copies)], base.shared)


def solve(name, fleet, **params):
    return make_solver(name, params).solve(fleet, np.random.default_rng(0))


@settings(max_examples=20, deadline=None)
@given(SEEDS, QUEUEING)
def test_ilp_on_repeated_users_equals_brute_force(seed, queueing):
    fleet = repeated(seed, queueing)
    best, _ = brute_force(fleet)
    model = _FleetModel(fleet)
    assert len(model.classes) < fleet.n_users  # the aggregated flow runs
    sol = solve("ilp", fleet, backend="cbc")
    got = fleet.score(sol.assignment)
    assert got["feasible"]
    assert got["cost"] == pytest.approx(best, rel=1e-6)
    assert sol.info["bound"] <= best * (1 + 1e-6) + 1e-9


@settings(max_examples=25, deadline=None)
@given(SEEDS, QUEUEING, st.sampled_from(["classes", "users"]))
def test_lagrangian_formulations_bound_the_optimum_with_feasible_answers(seed, queueing, formulation):
    fleet = repeated(seed, queueing, copies=3)
    best, _ = brute_force(fleet)
    sol = solve("lagrangian", fleet, formulation=formulation)
    assert sol.info["formulation"].startswith(formulation) or sol.info["formulation"] == "classes+users"
    got = fleet.score(sol.assignment)
    assert got["feasible"]
    assert sol.info["lower_bound"] <= best * (1 + 1e-9) + 1e-9
    assert got["cost"] >= best * (1 - 1e-9)
    assert got["cost"] == pytest.approx(sol.info["value"], rel=1e-9)


def test_class_lagrangian_alone_bounds_and_is_feasible():
    """The class master alone (no per-user search) on a fleet too large for brute force:
    feasible, within its bound, and exact when no capacity binds."""
    from solvers._fleet import batched_dp
    from solvers._fleet_classes import group_tables, solve_classes

    base = random_fleet(11, "none", max_users=3, max_blocks=4)
    fleet = FleetProblem([u for u in base.users for _ in range(40)], base.shared)
    groups, tables = group_tables(fleet)
    X, info = solve_classes(fleet, groups, tables, lambda p: batched_dp(tables, p))
    got = fleet.score(X)
    assert got["feasible"]
    assert info["lower_bound"] <= got["cost"] * (1 + 1e-12)
    indep = fleet.score(solve("independent", fleet).assignment)
    if indep["feasible"]:  # no capacity binds: the DP at price 0 is optimal, the bound tight
        assert got["cost"] == pytest.approx(info["lower_bound"], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(SEEDS)
def test_flow_decomposition_gives_back_the_same_flow_cost_and_loads(seed):
    """Paths crossing at a tier may swap tails, so the paths can differ, never the flow."""
    base = random_fleet(seed, "none", max_users=3, max_blocks=4)
    fleet = FleetProblem([u for u in base.users for _ in range(4)], base.shared)
    rng = np.random.default_rng(seed)
    X = fleet.check(rng.integers(0, 3, (fleet.n_users, fleet.n_max)))[0]
    model = _FleetModel(fleet)
    Y = model.assignment(model.values_of(X))
    assert np.array_equal(model.values_of(Y), model.values_of(X))
    a, b = fleet.evaluate(X), fleet.evaluate(Y)
    assert np.allclose(a.loads.sum(axis=2), b.loads.sum(axis=2), rtol=1e-12)
    assert a.feasible[0] == b.feasible[0]
    if a.feasible[0]:
        assert b.cost[0] == pytest.approx(a.cost[0], rel=1e-12)


def test_fingerprint_follows_the_instance_content():
    from problems.fleet import FleetUser

    base = random_fleet(4, "none", max_users=3, max_blocks=3)
    again = FleetProblem(list(base.users), base.shared)
    assert again.fingerprint == base.fingerprint
    u = base.users[0]
    faster = FleetUser(u.name, u.rate_rps * 2, u.device, u.te, u.profile)
    other = FleetProblem([faster, *base.users[1:]], base.shared)
    assert other.fingerprint != base.fingerprint
