"""Fleet solvers on random tiny fleets (K <= 3, n <= 3, both queueing modes): ilp against
brute force over the joint space, lagrangian's bound and feasibility, the heuristics'
feasibility, and the fleet rows of the runner."""

from __future__ import annotations

import numpy as np
import pytest
from fleet_factory import brute_force, random_fleet
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.runner import TimingConfig, run
from solvers import make_solver
from solvers._fleet import batched_dp

SEEDS = st.integers(0, 2**31 - 1)
QUEUEING = st.sampled_from(["none", "ps"])
FAST = TimingConfig(budget_s=0.0, max_repeats=1)


def tiny(seed, queueing):
    return random_fleet(seed, queueing, max_users=3, max_blocks=3)


def solve(name, fleet, **params):
    return make_solver(name, params).solve(fleet, np.random.default_rng(0))


@settings(max_examples=25, deadline=None)
@given(SEEDS, QUEUEING, st.sampled_from(["cbc", "scip", "cp-sat"]))
def test_ilp_equals_brute_force(seed, queueing, backend):
    fleet = tiny(seed, queueing)
    best, _ = brute_force(fleet)
    if queueing == "ps" and backend == "cp-sat":
        with pytest.raises(Exception, match="scip or cbc"):
            solve("ilp", fleet, backend=backend)
        return
    sol = solve("ilp", fleet, backend=backend)
    got = fleet.score(sol.assignment)
    assert got["feasible"]
    assert got["cost"] == pytest.approx(best, rel=1e-6)
    assert sol.info["bound"] <= best * (1 + 1e-6) + 1e-9


@settings(max_examples=40, deadline=None)
@given(SEEDS, QUEUEING)
def test_lagrangian_bound_is_below_the_optimum_and_its_answer_feasible(seed, queueing):
    fleet = tiny(seed, queueing)
    best, _ = brute_force(fleet)
    sol = solve("lagrangian", fleet)
    got = fleet.score(sol.assignment)
    assert got["feasible"]
    assert sol.info["lower_bound"] <= best * (1 + 1e-9) + 1e-9
    assert got["cost"] >= best * (1 - 1e-9)
    assert sol.info["certified_gap"] >= 0


@settings(max_examples=40, deadline=None)
@given(SEEDS, QUEUEING)
def test_greedy_and_genetic_are_feasible_whenever_device_only_is(seed, queueing):
    fleet = tiny(seed, queueing)
    assert fleet.score(fleet.fixed(0))["feasible"]  # no server load
    for name in ("greedy", "genetic"):
        assert fleet.score(solve(name, fleet).assignment)["feasible"], name


@settings(max_examples=30, deadline=None)
@given(SEEDS, QUEUEING)
def test_independent_is_every_users_single_user_optimum(seed, queueing):
    from solvers.dp import optimum

    fleet = tiny(seed, queueing)
    X = solve("independent", fleet).assignment
    for k, p in enumerate(fleet.user_problems):
        a, _ = optimum(p.cost_tables)
        assert p.score(X[k, : p.n_blocks])["cost"] == pytest.approx(p.score(a)["cost"], rel=1e-12)


def test_batched_dp_prices_move_load_off_the_servers():
    fleet = random_fleet(3, "none", max_users=3, max_blocks=4)
    X0, _ = batched_dp(fleet.tables)
    X1, _ = batched_dp(fleet.tables, (1e9, 1e9))
    assert (fleet.server_load(X1) == 0).all()
    assert fleet.demand(fleet.server_load(X0)).sum() >= 0


@settings(max_examples=15, deadline=None)
@given(SEEDS, QUEUEING)
def test_runner_rows_never_score_infeasible_answers(seed, queueing):
    fleet = tiny(seed, queueing)
    best, _ = brute_force(fleet)
    for name in ("cloud_only", "edge_only", "independent", "lagrangian", "device_only"):
        row = run(fleet, name, timing=FAST)
        assert row["reference_kind"] == "optimal"
        assert row["reference_cost"] == pytest.approx(best, rel=1e-6)
        assert [len(a) for a in row["assignment"]] == list(fleet.n_blocks_of)
        assert {"rho_edge", "rho_cloud", "theta", "feasible"} <= set(row)
        if row["feasible"]:
            assert row["status"] == "ok" and row["gap"] >= -1e-6
        else:
            assert row["status"] == "infeasible" and row["cost"] is None and row["gap"] is None
            assert row["rho_edge"] is not None and row["rho_cloud"] is not None


def test_single_user_solvers_refuse_fleets_in_one_line():
    fleet = random_fleet(1, "none")
    for name in ("dp", "exhaustive", "maui", "neurosurgeon", "iorlo", "collaborator_only"):
        row = run(fleet, name, timing=FAST)
        assert row["status"] == "unsupported", name
        assert "\n" not in row["error"]


def test_fleet_solvers_refuse_single_user_problems():
    from solver_helpers import paper_problem

    for name in ("independent", "greedy", "lagrangian"):
        row = run(paper_problem("alexnet"), name, timing=FAST)
        assert row["status"] == "unsupported", name


@pytest.mark.slow
def test_lagrangian_ray_backend_equals_local():
    """On a local Ray instance (127.0.0.1): the split DPs give the local answer exactly."""
    ray = pytest.importorskip("ray", reason="Ray not installed (the [ray] extra)")
    fleet = random_fleet(5, "none", max_users=3, max_blocks=4)
    local = solve("lagrangian", fleet)
    try:
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
        remote = solve("lagrangian", fleet, backend="ray", ray_tasks=2)
    finally:
        ray.shutdown()
    assert np.array_equal(local.assignment, remote.assignment)
    assert local.info["lower_bound"] == remote.info["lower_bound"]


def test_lagrangian_ray_backend_without_ray_refuses():
    import importlib.util

    if importlib.util.find_spec("ray") is not None:
        pytest.skip("Ray is installed")
    row = run(random_fleet(5, "none"), "lagrangian", {"backend": "ray"}, timing=FAST)
    assert row["status"] == "unsupported" and "Ray" in row["error"]
