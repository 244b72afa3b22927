"""The runner's public timing path: `time_solve`, `gap`, the memory hook and the learned solvers'
decision API, as the measurement scripts use them."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from solver_helpers import paper_problem

from benchmark.reference import reference
from benchmark.runner import TimingConfig, gap, peak_rss_mb, rss_mb, run, time_solve
from solvers import make_solver
from solvers.base import Solution


class Sleeper:
    """A solver whose first call takes `first_s` and every later one `then_s`."""

    def __init__(self, first_s: float, then_s: float):
        self.delays = [first_s, then_s]
        self.calls = 0
        self.seeds: list[int] = []

    def solve(self, problem, rng):
        time.sleep(self.delays[min(self.calls, 1)])
        self.calls += 1
        self.seeds.append(int(rng.integers(1 << 30)))
        return Solution(np.zeros(problem.n_blocks, dtype=int))


def test_fast_solver_is_repeated_within_budget_and_the_median_is_the_decision():
    problem = paper_problem("alexnet")
    solver = Sleeper(0.0, 0.001)
    timed = time_solve(solver, problem, seed=3, timing=TimingConfig(budget_s=0.2, max_repeats=1000))
    assert 3 <= timed.repeats == len(timed.repeats_s) < 1000
    assert solver.calls == timed.repeats + 1
    assert timed.decision_ms == pytest.approx(1e3 * float(np.median(timed.repeats_s)))
    assert len(set(solver.seeds)) == 1  # every call with the same solve seed


def test_slow_first_call_is_the_only_one():
    solver = Sleeper(0.03, 0.0)
    timed = time_solve(solver, paper_problem("alexnet"), seed=0, timing=TimingConfig(budget_s=0.01))
    assert solver.calls == 1 and timed.repeats == 1 and timed.repeats_s == []
    assert timed.decision_ms == pytest.approx(1e3 * timed.first_s)


def test_at_least_three_repeats_and_at_most_max_repeats():
    solver = Sleeper(0.0, 0.05)  # two repeats spend the budget, a third is the minimum
    assert time_solve(solver, paper_problem("alexnet"), 0, TimingConfig(budget_s=0.06)).repeats == 3
    capped = TimingConfig(budget_s=5, max_repeats=7)
    assert time_solve(Sleeper(0.0, 0.0), paper_problem("alexnet"), 0, capped).repeats == 7


def test_gap_definition():
    assert gap(110.0, 100.0) == pytest.approx(0.1)
    assert gap(100.0, 100.0) == 0.0
    assert gap(0.0, 0.0) == 0.0
    assert gap(1.0, 0.0) == math.inf


def test_run_row_uses_the_same_timing_and_gap():
    problem = paper_problem("vgg16", "d2d")
    row = run(problem, "device_only", timing=TimingConfig(budget_s=0.01))
    assert row["gap"] == gap(row["cost"], reference(problem).cost)
    assert row["decision_repeats"] >= 3 and row["decision_ms"] > 0
    assert "memory_MB" not in row  # only measurements ask for it


def test_memory_hook():
    row = run(paper_problem("alexnet"), "dp", timing=TimingConfig(budget_s=0.01), memory=True)
    peak = peak_rss_mb()
    if peak is None:
        pytest.skip("no /proc/self/status on this system")
    mem = row["memory_MB"]
    assert 0 < mem["start"] <= mem["prepared"] <= mem["peak"] <= peak
    assert 0 < rss_mb() <= peak
    assert row["first_solve_ms"] > 0


SHORT_CTX = {"updates": 3, "contexts": 2, "samples": 1, "search_rounds": 1, "hidden": 8, "seed": 0,
             "checkpoint_dir": None, "progress": False}
SHORT_IORLO = {"episodes": 1, "steps": 10, "memory": 16, "batch_size": 8, "seed": 0, "checkpoint_dir": None,
               "progress": False}


def test_iorlo_ctx_decides_for_another_condition_without_training():
    ctx = make_solver("iorlo_ctx", SHORT_CTX)
    avg, worst = paper_problem("alexnet", network="5g_avg"), paper_problem("alexnet", network="5g_worst")
    assert ctx.training_info == {}
    with pytest.raises(RuntimeError, match="prepare"):
        ctx.decide(avg)
    ctx.prepare(avg, np.random.default_rng(0))
    info = ctx.training_info
    assert info["cached"] is False and info["train_s"] > 0
    decided = ctx.decide(worst)
    assert decided.assignment.shape == (worst.n_blocks,)
    np.testing.assert_array_equal(decided.assignment, ctx.solve(worst, np.random.default_rng(5)).assignment)
    assert ctx.training_info == info  # deciding trained nothing
    with pytest.raises(RuntimeError, match="prepare"):
        ctx.decide(paper_problem("vgg16"))


def test_iorlo_decides_only_for_its_prepared_instance():
    solver = make_solver("iorlo", SHORT_IORLO)
    problem = paper_problem("alexnet", "d2d")
    solver.prepare(problem, np.random.default_rng(0))
    assert "best_seen_cost" in solver.training_info
    np.testing.assert_array_equal(solver.decide(problem).assignment,
                                  solver.solve(problem, np.random.default_rng(1)).assignment)
    with pytest.raises(RuntimeError, match="prepare"):
        solver.decide(paper_problem("alexnet", "mec"))
