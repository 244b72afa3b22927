"""Anytime traces: monotone best-so-far points, capped, scored by the problem itself; ilp's
incumbents, and the learned solvers' training kept in their checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dag_factory import synthetic_dag
from fleet_factory import random_fleet
from problem_factory import random_problem
from solver_helpers import paper_problem

from benchmark.runner import TimingConfig, run
from solvers import make_solver
from solvers._chain_mip import Limit, component_tables
from solvers._mip import MipResult
from solvers._trace import LIMIT, Trace, thin
from solvers.dp import optimum
from solvers.ilp import best_incumbent

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


def check_monotone(trace: list) -> None:
    assert 1 <= len(trace) <= LIMIT
    seconds, evals, best = (np.array(column, dtype=float) for column in zip(*trace, strict=True))
    assert np.all(np.diff(seconds) >= 0) and seconds[0] >= 0
    assert np.all(np.diff(evals) > 0) and evals[0] >= 1
    assert np.all(np.diff(best) < 0)


def ilp_instances():
    return {"chain": random_problem(3, 60, "mec", wide=True), "dag": synthetic_dag(30, seed=1),
            "fleet": random_fleet(2, "none")}


@pytest.mark.parametrize("backend", ["cp-sat", "cbc", "scip"])
@pytest.mark.parametrize("kind", ["chain", "dag", "fleet"])
def test_ilp_traces_its_incumbents_rescored_by_the_problem(kind, backend):
    problem = ilp_instances()[kind]
    solution = make_solver("ilp", {"backend": backend}).solve(problem, np.random.default_rng(0))
    trace = solution.info["trace"]
    check_monotone(trace)
    final = float(problem.evaluate(np.asarray(solution.assignment)[None]).cost[0])  # the problem's own score
    assert trace[-1][2] == pytest.approx(final, rel=1e-12)
    if backend == "cp-sat":
        assert "callback" in solution.info["incumbents"]
    elif kind != "fleet":
        assert len(trace) == 1 and solution.info["incumbents"].startswith("final only")


@pytest.mark.parametrize("formulation", ["auto", "classes", "users"])
@pytest.mark.parametrize("queueing", ["none", "ps"])
def test_lagrangian_traces_its_feasible_answers_ending_at_the_returned_one(formulation, queueing):
    fleet = random_fleet(4, queueing)
    solution = make_solver("lagrangian", {"formulation": formulation}).solve(fleet, np.random.default_rng(0))
    trace = solution.info["trace"]
    check_monotone(trace)
    final = float(fleet.evaluate(np.asarray(solution.assignment)[None]).cost[0])  # the problem's own score
    assert trace[-1][2] == pytest.approx(final, rel=1e-12)
    assert trace[-1][2] >= solution.info["lower_bound"] - 1e-9


def test_ilp_returns_the_best_rescored_incumbent_and_caps_its_trace():
    problem = random_problem(4, 12, "mec", wide=True)
    X = np.random.default_rng(1).integers(0, problem.n_tiers, (3 * LIMIT, problem.n_blocks))
    costs = problem.evaluate(X).cost
    order = np.argsort(-costs, kind="stable")
    order = order[np.r_[True, np.diff(costs[order]) < 0]]  # strictly improving incumbents
    assert len(order) > LIMIT
    found = [(float(i), X[j]) for i, j in enumerate(order)]
    found.insert(len(found) // 2, (len(found) / 2, X[order[0]]))  # a worse incumbent in between: no point
    result = MipResult(X[order[0]], "optimal", {}, found)
    trace = Trace()
    best_incumbent(problem, result, [], trace)
    points = trace.points()
    check_monotone(points)
    assert len(points) == LIMIT
    assert np.array_equal(result.assignment, X[order[-1]])
    assert points[-1][2] == pytest.approx(problem.score(result.assignment)["cost"], rel=1e-12)


# -- learned solvers: the training's best-so-far, kept in the checkpoint -------------------------
LEARNED = {
    "iorlo": {"episodes": 3, "steps": 20, "memory": 40, "batch_size": 8, "progress": False, "seed": 3},
    "iorlo_ctx": {"updates": 6, "contexts": 3, "samples": 2, "search_rounds": 1, "progress": False, "seed": 3},
    **{name: {"total_steps": 160, "steps": 20, "seed": 5, "progress": False, "actor_hidden": [16],
              "critic_hidden": [16]} for name in ("sb3_ddpg", "sb3_td3", "sb3_sac", "sb3_ppo")},
}


#: PPO's shortest training is one whole rollout of 2,048 steps: a slow test
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "sb3_ppo" else n
                                  for n in sorted(LEARNED)])
def test_learned_solvers_trace_their_training_cold_and_warm(name, tmp_path):
    problem = paper_problem("alexnet", "mec")
    params = {**LEARNED[name], "checkpoint_dir": str(tmp_path)}
    timing = TimingConfig(budget_s=0.0, max_repeats=1)
    cold = run(problem, name, params, seed=1, timing=timing)
    warm = run(problem, name, params, seed=1, timing=timing)
    assert cold["status"] == warm["status"] == "ok", (cold["error"], warm["error"])
    assert cold["info"]["cached"] is False and warm["info"]["cached"] is True
    trace = cold["info"]["trace"]
    check_monotone(trace)
    assert trace[-1][1] <= cold["info"]["env_steps"]
    assert trace[-1][2] >= optimum(problem.cost_tables)[1] - 1e-9
    if "best_seen_cost" in cold["info"]:  # the trace's last point is the best assignment training met
        assert trace[-1][2] == pytest.approx(cold["info"]["best_seen_cost"], rel=1e-12)
        assert trace[-1][2] == pytest.approx(problem.score(cold["info"]["best_seen"])["cost"], rel=1e-9)
    assert warm["info"]["trace"] == trace  # from the checkpoint's metadata


def test_ctx_trace_is_reported_only_for_the_condition_it_was_recorded_on(tmp_path):
    params = {**LEARNED["iorlo_ctx"], "checkpoint_dir": str(tmp_path)}
    solver = make_solver("iorlo_ctx", params)
    own = paper_problem("mobilenet_v1", "mec")
    solver.prepare(own, np.random.default_rng(0))
    assert solver.solve(own, None).info["trace"]
    other = paper_problem("mobilenet_v1", "mec", "5g_worst")
    solver.prepare(other, np.random.default_rng(0))
    info = solver.solve(other, None).info
    assert "trace" not in info and "condition" in info["trace_note"]


def test_a_checkpoint_without_a_trace_says_so(tmp_path):
    problem = paper_problem("alexnet", "mec")
    params = {**LEARNED["iorlo"], "checkpoint_dir": str(tmp_path)}
    make_solver("iorlo", params).prepare(problem, np.random.default_rng(0))
    (path,) = tmp_path.glob("*.pt")
    data = torch.load(path, weights_only=True)
    del data["meta"]["trace"]
    torch.save(data, path)
    solver = make_solver("iorlo", params)
    solver.prepare(problem, np.random.default_rng(0))
    info = solver.training_info
    assert info["cached"] is True and "trace" not in info and "predates" in info["trace_note"]


def test_ilp_never_returns_an_incumbent_that_breaks_a_limit():
    problem = random_problem(5, 10, "mec", wide=True)
    X = np.random.default_rng(2).integers(0, problem.n_tiers, (400, problem.n_blocks))
    ev = problem.evaluate(X)
    order = np.argsort(ev.latency_ms)
    fast = order[0]  # the lowest latency; some cheaper assignment is slower
    slow = next(j for j in order[::-1] if ev.cost[j] < ev.cost[fast] and ev.latency_ms[j] > ev.latency_ms[fast])
    limit = Limit("latency_ms", component_tables(problem.chain, (1, 0, 0)), float(ev.latency_ms[fast]) * (1 + 1e-9))
    result = MipResult(X[slow], "optimal", {"status": "optimal"}, [(0.0, X[fast]), (0.0, X[slow])])
    trace = Trace()
    best_incumbent(problem, result, [limit], trace)
    assert np.array_equal(result.assignment, X[fast]) and result.status == result.info["status"] == "feasible"
    assert [p[1:] for p in trace.points()] == [[1, pytest.approx(ev.cost[fast], rel=1e-12)]]
