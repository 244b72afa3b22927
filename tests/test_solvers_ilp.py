"""`ilp` equals `dp` without limits, and respects and optimizes under hard limits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from problem_factory import random_problem
from solver_helpers import all_assignments, paper_problems

from problems.errors import FieldError
from solvers import Unsupported, make_solver
from solvers._chain_mip import component_tables
from solvers.dp import optimum

BACKENDS = ("cbc", "scip", "cp-sat")
RNG = np.random.default_rng


def ilp(problem, **params):
    return make_solver("ilp", params).solve(problem, RNG(0))


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 9),
    kind=st.sampled_from(["mec", "d2d"]),
    exits=st.booleans(),
    backend=st.sampled_from(BACKENDS),
)
def test_equals_dp(seed, n, kind, exits, backend):
    problem = random_problem(seed, n, kind, exits, wide=True)
    if exits and backend == "cp-sat" and problem.chain.has_exits:
        with pytest.raises(Unsupported, match="cp-sat"):
            ilp(problem, backend=backend)
        return
    sol = ilp(problem, backend=backend)
    _, best = optimum(problem.cost_tables)
    assert problem.score(sol.assignment)["cost"] == pytest.approx(best, rel=1e-6)
    assert sol.info["value"] == pytest.approx(best, rel=1e-6)
    assert sol.info["status"] == "optimal"
    # the backend's own objective: cp-sat's is on integer-rounded coefficients (n + 1/2 units at most)
    slack = (n + 0.5) / sol.info["scale"] if backend == "cp-sat" else 0.0
    assert sol.info["objective"] == pytest.approx(best, rel=1e-6, abs=slack)


@pytest.mark.parametrize("backend", BACKENDS)
def test_equals_dp_on_paper_models(backend):
    for problem in paper_problems():
        sol = ilp(problem, backend=backend)
        assert sol.info["value"] == pytest.approx(optimum(problem.cost_tables)[1], rel=1e-6), problem.name


def test_exits_linearization_matches_dp_on_a_known_case():
    # exits on every block with large probabilities: the reach terms matter
    problem = random_problem(11, 7, "mec", exits=True, wide=True)
    assert problem.chain.has_exits
    plain = optimum(problem.cost_tables)
    sol = ilp(problem, backend="scip")
    assert sol.info["value"] == pytest.approx(plain[1], rel=1e-9)


def constrained_brute(problem, max_latency=np.inf, max_energy=np.inf):
    X = all_assignments(problem.n_blocks, range(problem.n_tiers))
    ev = problem.evaluate(X)
    ok = (ev.latency_ms <= max_latency) & (ev.energy_j <= max_energy)
    return (float(ev.cost[ok].min()) if ok.any() else None), ev


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 7),
    kind=st.sampled_from(["mec", "d2d"]),
    exits=st.booleans(),
    backend=st.sampled_from(BACKENDS),
    lat_q=st.floats(0.0, 1.0) | st.none(),
    eng_q=st.floats(0.0, 1.0) | st.none(),
)
def test_limits_are_respected_and_optimal(seed, n, kind, exits, backend, lat_q, eng_q):
    problem = random_problem(seed, n, kind, exits, wide=True)
    if backend == "cp-sat" and problem.chain.has_exits:
        backend = "scip"
    _, ev = constrained_brute(problem)
    # limits at quantiles of the values that assignments actually take
    max_lat = None if lat_q is None else float(np.quantile(ev.latency_ms, lat_q)) * (1 + 1e-9)
    max_eng = None if eng_q is None else float(np.quantile(ev.energy_j, eng_q)) * (1 + 1e-9) + 1e-12
    if (max_lat is not None and max_lat <= 0) or (max_eng is not None and max_eng <= 0):
        return
    params = {"backend": backend, "max_latency_ms": max_lat, "max_energy_j": max_eng}
    lat_cap, eng_cap = max_lat or np.inf, max_eng or np.inf
    strict, _ = constrained_brute(problem, lat_cap * (1 - 1e-6), eng_cap * (1 - 1e-6))
    loose, _ = constrained_brute(problem, lat_cap * (1 + 1e-6), eng_cap * (1 + 1e-6))
    try:
        sol = ilp(problem, **params)
    except Unsupported as exc:
        assert "infeasible" in str(exc)
        assert strict is None
        event("infeasible")
        return
    score = problem.score(sol.assignment)
    assert score["latency_ms"] <= lat_cap * (1 + 1e-6)
    assert score["energy_j"] <= eng_cap * (1 + 1e-6)
    assert loose is not None and loose * (1 - 1e-6) <= score["cost"]
    if strict is not None:
        assert score["cost"] <= strict * (1 + 1e-6)
    event(f"solved, limits: latency {max_lat is not None}, energy {max_eng is not None}")


def test_latency_limit_changes_the_answer():
    problem = paper_problems()[0]  # alexnet mec: the cost optimum is not the fastest assignment
    free = ilp(problem)
    t_free = problem.score(free.assignment)["latency_ms"]
    tight = ilp(problem, max_latency_ms=t_free * 0.95)
    assert problem.score(tight.assignment)["latency_ms"] <= t_free * 0.95
    assert tight.info["value"] > free.info["value"]


def test_infeasible_limit_is_unsupported():
    problem = random_problem(5, 6, "mec", wide=True)
    with pytest.raises(Unsupported, match="infeasible"):
        ilp(problem, max_latency_ms=1e-6)


@pytest.mark.parametrize("time_limit_s", [0.001, 0.2])
def test_time_limit_returns_a_valid_incumbent_or_says_why(time_limit_s):
    # 500 blocks with 120 tier changes at the optimum and a binding latency limit: not solved at the root
    problem = random_problem(13, 500, "d2d", wide=True)
    fastest = optimum(component_tables(problem.chain, (1, 0, 0)))[1]
    limit = fastest + 0.5 * (problem.score(optimum(problem.cost_tables)[0])["latency_ms"] - fastest)
    try:
        sol = ilp(problem, backend="scip", max_latency_ms=limit, time_limit_s=time_limit_s)
    except Unsupported as exc:
        assert f"within time_limit_s = {time_limit_s:g}" in str(exc)
        return
    assert sol.info["status"] in ("optimal", "feasible")
    assert problem.score(sol.assignment)["latency_ms"] <= limit * (1 + 1e-6)
    assert sol.info["bound"] <= sol.info["value"] * (1 + 1e-9)
    assert sol.info["gap"] >= 0 and (sol.info["status"] == "feasible" or sol.info["gap"] <= 1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_deterministic(backend):
    problem = random_problem(7, 9, "mec", wide=True)
    a = make_solver("ilp", {"backend": backend}).solve(problem, RNG(1)).assignment
    b = make_solver("ilp", {"backend": backend}).solve(problem, RNG(1)).assignment
    assert a.tolist() == b.tolist()


def test_info_records_the_backend_run():
    info = ilp(random_problem(3, 8, "mec", wide=True), time_limit_s=10.0).info
    for key in ("status", "backend", "objective", "bound", "gap", "nodes", "iterations", "variables", "wall_s"):
        assert key in info
    assert info["gap"] <= 1e-6


def test_config_errors_name_the_field():
    with pytest.raises(FieldError, match=r"solver\.backend"):
        make_solver("ilp", {"backend": "gurobi"})
    with pytest.raises(FieldError, match=r"solver\.max_latency_ms"):
        make_solver("ilp", {"max_latency_ms": -1})
    with pytest.raises(FieldError, match=r"solver\.time_limit"):
        make_solver("ilp", {"time_limit": 1})
