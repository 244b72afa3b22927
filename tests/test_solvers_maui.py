"""`maui` equals a brute force over device/remote assignments under the latency budget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from problem_factory import random_problem
from solver_helpers import all_assignments, paper_problems

from problems.errors import FieldError
from solvers import Unsupported, make_solver

REMOTE = {"cloud": 2, "edge": 1}


def brute_min_energy(problem, remote: int, budget: float) -> float | None:
    ev = problem.evaluate(all_assignments(problem.n_blocks, (0, remote)))
    ok = ev.latency_ms <= budget
    return float(ev.energy_j[ok].min()) if ok.any() else None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 9),
    kind=st.sampled_from(["mec", "d2d"]),
    exits=st.booleans(),
    remote=st.sampled_from(["cloud", "edge"]),
    factor=st.none() | st.floats(0.02, 1.5),
    backend=st.sampled_from(["cbc", "scip", "cp-sat"]),
)
def test_equals_brute_force_under_budget(seed, n, kind, exits, remote, factor, backend):
    problem = random_problem(seed, n, kind, exits, wide=True)
    if backend == "cp-sat" and problem.chain.has_exits:
        backend = "scip"
    local = problem.score(problem.fixed(0))["latency_ms"]
    budget = local if factor is None else local * factor
    tier = REMOTE[remote] if kind == "mec" else 1
    params = {"remote": remote, "backend": backend, "latency_budget_ms": None if factor is None else budget}
    strict = brute_min_energy(problem, tier, budget * (1 - 1e-6))
    loose = brute_min_energy(problem, tier, budget * (1 + 1e-6))
    try:
        sol = make_solver("maui", params).solve(problem, np.random.default_rng(0))
    except Unsupported as exc:
        assert "infeasible" in str(exc)
        assert factor is not None and strict is None
        event("infeasible")
        return
    assert set(sol.assignment.tolist()) <= {0, tier}
    score = problem.score(sol.assignment)
    assert score["latency_ms"] <= budget * (1 + 1e-6)
    assert loose is not None and score["energy_j"] >= loose * (1 - 1e-6) - 1e-12
    if strict is not None:
        assert score["energy_j"] <= strict * (1 + 1e-6) + 1e-12
    assert sol.info["energy_j"] == pytest.approx(score["energy_j"])
    event("offloads" if (sol.assignment != 0).any() else "device only")


def test_default_budget_is_never_slower_than_local():
    for problem in paper_problems():
        sol = make_solver("maui").solve(problem, np.random.default_rng(0))
        local = problem.score(problem.fixed(0))
        score = problem.score(sol.assignment)
        assert sol.info["budget_ms"] == pytest.approx(local["latency_ms"])
        assert score["latency_ms"] <= local["latency_ms"] * (1 + 1e-6)
        assert score["energy_j"] <= local["energy_j"]


def test_tight_budget_is_unsupported_with_reason():
    problem = random_problem(2, 5, "mec", wide=True)
    with pytest.raises(Unsupported, match="infeasible: no assignment meets latency_ms"):
        make_solver("maui", {"latency_budget_ms": 1e-6}).solve(problem, np.random.default_rng(0))


def test_deterministic():
    problem = random_problem(9, 9, "d2d", wide=True)
    runs = [make_solver("maui").solve(problem, np.random.default_rng(s)).assignment.tolist() for s in (1, 1, 2)]
    assert runs[0] == runs[1] == runs[2]


def test_config_errors_name_the_field():
    with pytest.raises(FieldError, match=r"solver\.latency_budget_ms"):
        make_solver("maui", {"latency_budget_ms": 0})
    with pytest.raises(FieldError, match=r"solver\.remote"):
        make_solver("maui", {"remote": "device"})
