"""What recording `info.trace` costs a searching solver's decision (`make bench`).

Each searcher's `solve` is timed on resnet32 (MEC, 5g_avg) with the real recorder and with
one whose methods do nothing, same seed; the time spent inside the recorder is also summed
directly (`trace_share` in extra_info). `ilp` (cp-sat) is timed with its incumbent
callback and re-scoring and without them (the program solved with `incumbents=False`).
Numbers go to BENCHMARKS.md ("Anytime traces").
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from dag_factory import synthetic_dag
from solver_helpers import paper_problem

from solvers import _trace, ilp, make_solver

pytestmark = pytest.mark.bench

SEARCHERS = {"genetic": {}, "random_search": {}, "optuna": {"trials": 100}}


@pytest.fixture(scope="module")
def problem():
    return paper_problem("resnet32", "mec")


@pytest.mark.parametrize("recorder", ["trace", "no-op"])
@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_solve_with_and_without_the_trace(benchmark, monkeypatch, problem, name, recorder):
    spent = [0.0]
    if recorder == "no-op":
        monkeypatch.setattr(_trace.Trace, "record", lambda self, *args, **kwargs: None)
        monkeypatch.setattr(_trace.Trace, "record_batch", lambda self, before, costs: None)
    else:
        for method in ("record", "record_batch"):
            real = getattr(_trace.Trace, method)

            def timed(self, *args, _real=real, **kwargs):
                t0 = time.perf_counter()
                _real(self, *args, **kwargs)
                spent[0] += time.perf_counter() - t0

            monkeypatch.setattr(_trace.Trace, method, timed)
    solver = make_solver(name, SEARCHERS[name])
    solver.solve(problem, np.random.default_rng(0))  # warm-up
    spent[0] = 0.0
    rounds = 3 if name == "optuna" else 20
    benchmark.pedantic(lambda: solver.solve(problem, np.random.default_rng(0)), rounds=rounds, iterations=1)
    if recorder == "trace":
        benchmark.extra_info["trace_share"] = round(spent[0] / (rounds * benchmark.stats.stats.mean), 5)


@pytest.mark.parametrize("incumbents", [True, False], ids=["callback", "no-callback"])
@pytest.mark.parametrize("instance", ["resnet32", "dag40"])
def test_ilp_with_and_without_the_incumbent_callback(benchmark, monkeypatch, problem, instance, incumbents):
    target = problem if instance == "resnet32" else synthetic_dag(40, seed=1)
    if not incumbents:
        real = ilp.solve_partition
        monkeypatch.setattr(ilp, "solve_partition",
                            lambda *args, **kwargs: real(*args, **{**kwargs, "incumbents": False}))
    solver = make_solver("ilp", {"backend": "cp-sat"})
    solver.solve(target, np.random.default_rng(0))  # warm-up
    result = benchmark.pedantic(lambda: solver.solve(target, np.random.default_rng(0)), rounds=7, iterations=1)
    assert bool(result.info["trace"]) == incumbents
    benchmark.extra_info["incumbents"] = len(result.info["trace"])
