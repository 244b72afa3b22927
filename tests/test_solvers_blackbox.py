"""`random_search` and `optuna`: budgets, validity and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from problem_factory import random_problem
from solver_helpers import all_assignments

from problems.errors import FieldError
from solvers import make_solver
from solvers.dp import optimum


@pytest.mark.parametrize("kind", ["mec", "d2d"])
def test_random_search_keeps_the_cheapest_sample(kind):
    problem = random_problem(4, 6, kind, exits=True, wide=True)
    sol = make_solver("random_search", {"evaluations": 300, "batch": 64}).solve(problem, np.random.default_rng(3))
    assert sol.info["evaluations"] == 300
    # replay the draws: the same generator yields the same batches
    rng = np.random.default_rng(3)
    draws = np.vstack([rng.integers(0, problem.n_tiers, (m, 6), dtype=np.int8) for m in (64, 64, 64, 64, 44)])
    cost = problem.evaluate(draws).cost
    assert sol.info["value"] == pytest.approx(cost.min(), rel=1e-12)
    assert sol.assignment.tolist() == draws[int(np.argmin(cost))].tolist()


def test_random_search_finds_the_optimum_when_the_budget_covers_the_space():
    problem = random_problem(8, 5, "mec", wide=True)  # 243 assignments
    sol = make_solver("random_search", {"evaluations": 20000}).solve(problem, np.random.default_rng(0))
    assert sol.info["value"] == pytest.approx(optimum(problem.cost_tables)[1], rel=1e-9)


def test_optuna_is_seeded_and_budgeted():
    problem = random_problem(6, 5, "mec", wide=True)
    cfg = {"trials": 30, "startup_trials": 5}
    a = make_solver("optuna", cfg).solve(problem, np.random.default_rng(11))
    b = make_solver("optuna", cfg).solve(problem, np.random.default_rng(11))
    assert a.assignment.tolist() == b.assignment.tolist()
    assert a.info["trials"] == 30
    assert a.info["value"] == pytest.approx(problem.score(a.assignment)["cost"], rel=1e-12)


def test_optuna_finds_the_optimum_of_a_tiny_space():
    problem = random_problem(2, 3, "d2d", wide=True)  # 8 assignments
    sol = make_solver("optuna", {"trials": 60}).solve(problem, np.random.default_rng(0))
    best = problem.evaluate(all_assignments(3, (0, 1))).cost.min()
    assert sol.info["value"] == pytest.approx(best, rel=1e-12)


def test_config_errors_name_the_field():
    with pytest.raises(FieldError, match=r"solver\.evaluations"):
        make_solver("random_search", {"evaluations": 0})
    with pytest.raises(FieldError, match=r"solver\.trials"):
        make_solver("optuna", {"trials": 0})
    with pytest.raises(FieldError, match=r"solver\.n_trials"):
        make_solver("optuna", {"n_trials": 10})
