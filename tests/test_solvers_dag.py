"""Solvers on DAG instances (spec section 12): the exact ones agree with brute force, the
two-tier ones with their restricted optimum, and every heuristic runs through the runner."""

from __future__ import annotations

import numpy as np
import pytest
from dag_factory import random_dags, synthetic_dag
from hypothesis import given, settings
from hypothesis import strategies as st
from problem_factory import random_problem
from solver_helpers import all_assignments, brute_optimum

from benchmark.reference import reference
from benchmark.runner import TimingConfig, run
from solvers import Unsupported, make_solver
from solvers._chain_mip import component_tables
from solvers._dag_mip import solve_partition
from solvers.dp import optimum

BACKENDS = ("cbc", "scip", "cp-sat")
RNG = np.random.default_rng
QUICK = TimingConfig(budget_s=0.0, max_repeats=1)


def solve(name, problem, **params):
    return make_solver(name, params).solve(problem, RNG(0))


def server_tiers(problem, server: str) -> list[int]:
    return [0, 1] if problem.kind == "d2d" else [0, {"edge": 1, "cloud": 2}[server]]


@settings(max_examples=60, deadline=None)
@given(random_dags(), st.sampled_from(BACKENDS))
def test_ilp_equals_exhaustive_and_brute_force(problem, backend):
    best = brute_optimum(problem)
    sol = solve("ilp", problem, backend=backend)
    assert sol.info["status"] == "optimal"
    assert problem.score(sol.assignment)["cost"] == pytest.approx(best, rel=1e-9)
    assert sol.info["bound"] == pytest.approx(best, rel=1e-6)
    ex = solve("exhaustive", problem)
    assert problem.score(ex.assignment)["cost"] == pytest.approx(best, rel=1e-12)


@settings(max_examples=120, deadline=None)
@given(random_dags(), st.sampled_from(["edge", "cloud"]))
def test_mincut_is_the_two_tier_optimum(problem, server):
    tiers = server_tiers(problem, server)
    best = float(problem.evaluate(all_assignments(problem.n_blocks, tiers)).cost.min())
    sol = solve("mincut", problem, server=server)
    assert set(sol.assignment.tolist()) <= set(tiers)
    assert problem.score(sol.assignment)["cost"] == pytest.approx(best, rel=1e-9)
    assert sol.info["cut_value"] == pytest.approx(best, rel=1e-9)
    program = solve_partition(problem.cost_tables, tiers, backend="scip")
    assert problem.score(program.assignment)["cost"] == pytest.approx(best, rel=1e-9)
    if problem.kind == "d2d":  # two tiers: the cut is the optimum, and ilp's
        assert sol.info["value"] == pytest.approx(solve("ilp", problem).info["value"], rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.sampled_from(["mec", "d2d"]))
def test_mincut_on_chains(seed, n, kind):
    problem = random_problem(seed, n, kind, wide=True)
    tiers = server_tiers(problem, "cloud")
    best = float(problem.evaluate(all_assignments(n, tiers)).cost.min())
    assert solve("mincut", problem).info["value"] == pytest.approx(best, rel=1e-9)
    if kind == "d2d":
        assert solve("mincut", problem).info["value"] == pytest.approx(optimum(problem.cost_tables)[1], rel=1e-9)


def test_mincut_pays_both_directions_of_an_asymmetric_link():
    # device -> cloud and cloud -> device differ (te/ec up and down): a synthetic DAG whose optimum
    # goes back and forth between the two tiers exercises both auxiliary nodes
    for seed in range(6):
        problem = synthetic_dag(14, seed, "mec")
        best = float(problem.evaluate(all_assignments(14, [0, 2])).cost.min())
        assert solve("mincut", problem).info["value"] == pytest.approx(best, rel=1e-9), seed


def test_mincut_refuses_early_exits():
    with pytest.raises(Unsupported, match="early exits"):
        solve("mincut", random_problem(3, 5, "mec", exits=True, wide=True))


@settings(max_examples=30, deadline=None)
@given(random_dags(), st.sampled_from(["cbc", "scip"]))
def test_maui_solves_its_program_on_a_dag(problem, backend):
    sol = solve("maui", problem, backend=backend)
    tiers = server_tiers(problem, "cloud")
    ev = problem.evaluate(all_assignments(problem.n_blocks, tiers))
    budget = problem.score(problem.fixed(0))["latency_ms"]
    ok = ev.latency_ms <= budget * (1 + 1e-9)
    got = problem.score(sol.assignment)
    assert got["latency_ms"] <= budget * (1 + 1e-6)
    assert got["energy_j"] == pytest.approx(float(ev.energy_j[ok].min()), rel=1e-6, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(random_dags(kinds=("mec",)), st.floats(0.0, 1.0))
def test_ilp_latency_limit_on_a_dag(problem, q):
    X = all_assignments(problem.n_blocks, range(3))
    ev = problem.evaluate(X)
    limit = float(ev.latency_ms.min() + q * (ev.latency_ms.max() - ev.latency_ms.min())) + 1e-6
    sol = solve("ilp", problem, backend="scip", max_latency_ms=limit)
    ok = ev.latency_ms <= limit
    assert problem.score(sol.assignment)["latency_ms"] <= limit * (1 + 1e-6)
    assert sol.info["value"] == pytest.approx(float(ev.cost[ok].min()), rel=1e-6)


def test_neurosurgeon_splits_in_topological_order():
    problem = synthetic_dag(30, 1, "mec")
    sol = solve("neurosurgeon", problem, objective="cost")
    split = sol.info["split"]
    assert sol.assignment.tolist() == [0] * split + [2] * (30 - split)
    assert sol.info["value"] >= solve("ilp", problem, backend="scip").info["value"] * (1 - 1e-9)


def test_the_dag_reference_is_exact():
    mec, d2d = synthetic_dag(40, 2, "mec"), synthetic_dag(40, 2, "d2d")
    ref = reference(mec)
    assert (ref.kind, ref.solver) == ("optimal", "ilp")
    assert ref.cost == pytest.approx(solve("ilp", mec, backend="cbc").info["value"], rel=1e-9)
    ref = reference(d2d)
    assert (ref.kind, ref.solver) == ("optimal", "mincut")
    assert ref.cost == pytest.approx(solve("ilp", d2d).info["value"], rel=1e-9)


def test_an_unproven_reference_is_the_bound(monkeypatch):
    from solvers.ilp import Ilp

    problem = synthetic_dag(25, 4, "mec")
    best = solve("ilp", problem).info["value"]
    real = Ilp.solve

    def stopped(self, p, rng):  # as a time limit leaves it: a feasible assignment and a bound
        sol = real(self, p, rng)
        sol.info.update(status="feasible", bound=0.9 * best)
        return sol

    monkeypatch.setattr(Ilp, "solve", stopped)
    ref = reference(problem, time_limit_s=7.0)  # another time limit: not the cached reference
    assert ref.kind == "bound" and ref.cost == pytest.approx(0.9 * best)
    row = run(problem, "device_only", timing=QUICK, reference_time_limit_s=7.0)
    assert row["reference_kind"] == "bound" and row["optimal_cost"] is None
    assert row["gap"] == pytest.approx(row["cost"] / (0.9 * best) - 1)


def test_the_chain_reference_stays_dp():
    problem = random_problem(1, 8, "mec", wide=True)
    ref = reference(problem)
    assert (ref.kind, ref.solver) == ("optimal", "dp")


HEURISTICS = {
    "genetic": {},
    "random_search": {"evaluations": 2000},
    "optuna": {"trials": 30},
    "iorlo": {"episodes": 3, "steps": 20, "memory": 40, "batch_size": 8, "checkpoint_dir": None, "progress": False},
    "iorlo_ctx": {"updates": 4, "contexts": 4, "samples": 2, "checkpoint_dir": None, "progress": False},
}


@pytest.mark.parametrize("kind", ["mec", "d2d"])
@pytest.mark.parametrize("name", [*HEURISTICS, "neurosurgeon", "maui", "exhaustive", "mincut", "ilp",
                                  "device_only"])
def test_every_solver_runs_on_a_dag_through_the_runner(name, kind):
    problem = synthetic_dag(12, 5, kind)
    assert problem.is_dag
    row = run(problem, name, HEURISTICS.get(name, {}), seed=1, timing=QUICK)
    assert row["status"] == "ok", row["error"]
    assert row["reference_kind"] == "optimal"
    assert row["cost"] == pytest.approx(problem.score(row["assignment"])["cost"])
    assert row["gap"] >= -1e-9
    if name in ("exhaustive", "ilp") or (name == "mincut" and kind == "d2d"):
        assert row["gap"] == pytest.approx(0, abs=1e-9)


def test_dp_refuses_a_dag_through_the_runner():
    row = run(synthetic_dag(12, 5, "mec"), "dp", timing=QUICK)
    assert row["status"] == "unsupported" and "mincut" in row["error"] and "ilp" in row["error"]


def test_ilp_on_a_chain_keeps_the_chain_program():
    problem = random_problem(5, 12, "mec", wide=True)
    sol = solve("ilp", problem)
    assert "program" not in sol.info
    assert sol.info["value"] == pytest.approx(optimum(component_tables(problem.chain, None))[1], rel=1e-9)
