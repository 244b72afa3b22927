"""Anytime traces: monotone best-so-far points, capped, scored by the problem itself."""

from __future__ import annotations

import numpy as np
import pytest
from problem_factory import random_problem

from benchmark.runner import TimingConfig, run
from solvers import make_solver
from solvers._trace import LIMIT, Trace, thin

SEARCHERS = {
    "genetic": {"population": 16, "generations": 30, "patience": 30},
    "random_search": {"evaluations": 3000, "batch": 256},
    "optuna": {"trials": 40},
}


def check_trace(trace: list, final_cost: float, evaluations: int) -> None:
    assert 1 <= len(trace) <= LIMIT
    seconds, evals, best = (np.array(column, dtype=float) for column in zip(*trace, strict=True))
    assert np.all(np.diff(seconds) >= 0) and seconds[0] >= 0
    assert np.all(np.diff(evals) > 0) and evals[0] >= 1 and evals[-1] <= evaluations
    assert np.all(np.diff(best) < 0)  # a point only when the best improved
    assert best[-1] == pytest.approx(final_cost, rel=1e-12)


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_searchers_return_a_monotone_trace_ending_at_their_answer(name):
    problem = random_problem(3, 14, "mec", wide=True)
    solution = make_solver(name, SEARCHERS[name]).solve(problem, np.random.default_rng(0))
    final = problem.score(solution.assignment)["cost"]  # the problem's own score of the answer
    check_trace(solution.info["trace"], final, solution.info["evaluations"])


def test_trace_survives_the_runner_as_json():
    row = run(random_problem(5, 10, "d2d", wide=True), "genetic", SEARCHERS["genetic"], seed=1,
              timing=TimingConfig(budget_s=0.0, max_repeats=1))
    assert row["status"] == "ok"
    check_trace(row["info"]["trace"], row["cost"], row["info"]["evaluations"])


def test_batch_records_every_improving_row_with_its_evaluation_count():
    trace = Trace()
    trace.record_batch(0, np.array([5.0, 6.0, 4.0, 4.0, 1.0]))
    trace.record_batch(5, np.array([3.0, 2.0]))  # no improvement: no point
    trace.record(8, 0.5)
    assert [(p[1], p[2]) for p in trace.points()] == [(1, 5.0), (3, 4.0), (5, 1.0), (8, 0.5)]


def test_long_traces_are_capped_and_thinned_evenly():
    trace = Trace()
    for i in range(1, 1001):
        trace.record(i, 1000.0 - i)
    points = trace.points()
    assert len(points) == LIMIT
    assert points[0][1] == 1 and points[-1][1] == 1000  # first and last kept
    steps = np.diff([p[1] for p in points])
    assert steps.max() - steps.min() <= 1  # evenly by index
    assert np.all(np.diff([p[2] for p in points]) < 0)
    assert thin(list(range(5)), 10) == list(range(5))


def test_a_batch_with_many_improvements_stays_capped():
    trace = Trace()
    trace.record_batch(0, np.linspace(10.0, 1.0, 5000))
    assert len(trace.points()) == LIMIT
